//! Byte-level message builders for the rpc tests: they write exactly the bytes given, so tests can make
//! malformed messages that the crate's own builders never would.
#![allow(dead_code)]

use bson::Document;
use docwire_rpc::{Message, OpCode};

/// The bytes of a document.
pub fn doc_bytes(doc: &Document) -> Vec<u8> {
    doc.to_vec().unwrap()
}

/// A kind-1 section body: int32 size (counting itself), identifier, documents; `add_to_size` skews the
/// size field as mongod's tests do.
pub fn sized(identifier: &[u8], nul: bool, docs: &[Document], add_to_size: i32) -> Vec<u8> {
    let mut inner = identifier.to_vec();
    if nul {
        inner.push(0);
    }
    for d in docs {
        inner.extend(doc_bytes(d));
    }
    let size = (inner.len() + 4) as i32 + add_to_size;
    let mut out = size.to_le_bytes().to_vec();
    out.extend(inner);
    out
}

/// Concatenates `parts` after a header with opcode OP_MSG.
pub fn op_msg_bytes(parts: &[&[u8]]) -> Vec<u8> {
    let mut data = Vec::new();
    for p in parts {
        data.extend_from_slice(p);
    }
    with_header(OpCode::Msg, 7, 0, &data)
}

/// A header followed by `data`.
pub fn with_header(op: OpCode, request_id: i32, response_to: i32, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(((16 + data.len()) as i32).to_le_bytes());
    out.extend(request_id.to_le_bytes());
    out.extend(response_to.to_le_bytes());
    out.extend(op.code().to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// Appends a checksum (the right one, or `value`) and fixes the length.
pub fn append_checksum(mut bytes: Vec<u8>, value: Option<u32>) -> Vec<u8> {
    let len = (bytes.len() + 4) as i32;
    bytes[0..4].copy_from_slice(&len.to_le_bytes());
    let crc = value.unwrap_or_else(|| crc32c::crc32c(&bytes));
    bytes.extend(crc.to_le_bytes());
    bytes
}

/// Shrinks the message by `n` bytes from the end, fixing the header (mongod's `addToSize(-n)`).
pub fn shrink(mut bytes: Vec<u8>, n: usize) -> Vec<u8> {
    bytes.truncate(bytes.len() - n);
    let len = bytes.len() as i32;
    bytes[0..4].copy_from_slice(&len.to_le_bytes());
    bytes
}

/// A `Message` over these bytes.
pub fn message(bytes: Vec<u8>) -> Message {
    Message::from_bytes(bytes.into()).unwrap()
}

/// Flags as bytes.
pub fn flags(f: u32) -> Vec<u8> {
    f.to_le_bytes().to_vec()
}
