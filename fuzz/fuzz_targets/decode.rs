//! Fuzz target over the whole decode path: framing, OP_COMPRESSED, OP_MSG, OP_QUERY and OP_REPLY.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    docwire_rpc::decode_all(data);
});
