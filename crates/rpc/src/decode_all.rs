//! The whole decode path as one function — framing, decompression, and every parser and accessor — so
//! the fuzz target and its regression tests exercise exactly what a server does with untrusted bytes.

use bytes::BytesMut;
use tokio_util::codec::Decoder;

use crate::op_reply::OpReply;
use crate::{MessageCodec, OpCode, OpMsg, OpQuery, decompress_message};

/// Feeds `input` through the codec and parses every message it frames; returns how many messages were
/// framed. Errors are expected and ignored; a panic or a hang is a bug.
pub fn decode_all(input: &[u8]) -> usize {
    let mut codec = MessageCodec::default();
    let mut buf = BytesMut::from(input);
    let mut framed = 0;
    while let Ok(Some(message)) = codec.decode(&mut buf) {
        framed += 1;
        let Ok((message, _compressor)) = decompress_message(&message) else {
            continue;
        };
        match message.op_code() {
            OpCode::Msg => {
                if let Ok(msg) = OpMsg::parse(&message) {
                    let _ = msg.command_name();
                    let _ = msg.database();
                    for seq in msg.sequences() {
                        for doc in seq.iter() {
                            let _ = doc.iter().count();
                        }
                    }
                    let _ = msg.merged();
                }
            }
            OpCode::Query => {
                if let Ok(query) = OpQuery::parse(&message) {
                    let _ = query.command_name();
                    let _ = query.database();
                    let _ = query.projection();
                }
            }
            OpCode::Reply => {
                if let Ok(reply) = OpReply::parse(&message) {
                    let _ = reply.command_reply();
                }
            }
            _ => {}
        }
    }
    framed
}
