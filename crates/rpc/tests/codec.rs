//! The framed codec: partial frames wait, lengths are checked before any allocation, frames split exactly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::doc;
use bytes::BytesMut;
use docwire_rpc::{CodecError, ErrorCode, MessageCodec, OpMsgBuilder};
use tokio_util::codec::{Decoder, Encoder};

fn ping_bytes() -> Vec<u8> {
    OpMsgBuilder::default()
        .finish_with_body(&doc! {"ping": 1, "$db": "admin"})
        .unwrap()
        .as_bytes()
        .to_vec()
}

#[test]
fn decodes_byte_by_byte_and_back_to_back() {
    let one = ping_bytes();
    let mut codec = MessageCodec::default();
    let mut buf = BytesMut::new();
    let mut stream = one.clone();
    stream.extend(&one);
    let mut got = Vec::new();
    for b in stream {
        buf.extend_from_slice(&[b]);
        while let Some(m) = codec.decode(&mut buf).unwrap() {
            got.push(m);
        }
    }
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].as_bytes().as_ref(), &one[..]);
    assert!(buf.is_empty());
}

#[test]
fn claimed_length_is_checked_before_allocating() {
    let mut codec = MessageCodec::default();
    // A header claiming 2 GB (i32::MAX) and one claiming a negative length.
    for claimed in [i32::MAX, 48_000_001, -5, 15, 0] {
        let mut buf = BytesMut::from(&claimed.to_le_bytes()[..]);
        match codec.decode(&mut buf) {
            Err(CodecError::Protocol(s)) => assert_eq!(s.code(), ErrorCode::ProtocolError),
            other => panic!("claimed {claimed}: expected ProtocolError, got {other:?}"),
        }
        assert!(
            buf.capacity() < 1024 * 1024,
            "claimed {claimed}: grew to {}",
            buf.capacity()
        );
    }
}

#[test]
fn limit_is_configurable() {
    let mut codec = MessageCodec::new(32);
    let mut buf = BytesMut::from(&ping_bytes()[..]);
    assert!(matches!(codec.decode(&mut buf), Err(CodecError::Protocol(_))));
}

#[test]
fn encode_writes_the_message_bytes() {
    let one = ping_bytes();
    let msg = docwire_rpc::Message::from_bytes(one.clone().into()).unwrap();
    let mut out = BytesMut::new();
    MessageCodec::default().encode(msg, &mut out).unwrap();
    assert_eq!(&out[..], &one[..]);
}
