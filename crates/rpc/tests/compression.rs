//! OP_COMPRESSED: every compressor round-trips, and every malformed header fails with mongod's codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bson::doc;
use common::*;
use docwire_rpc::{
    Compressor, ErrorCode, Message, OpCode, OpMsg, OpMsgBuilder, compress_message, decompress_message,
    negotiate,
};

fn big_message() -> Message {
    let text = "compressible ".repeat(500);
    let mut m = OpMsgBuilder::default()
        .finish_with_body(&doc! {"insert": "c", "$db": "t", "pad": text})
        .unwrap();
    m.set_ids(11, 22);
    m
}

#[test]
fn every_compressor_round_trips_and_keeps_ids() {
    let original = big_message();
    for c in Compressor::ALL {
        let compressed = compress_message(&original, c).unwrap();
        assert_eq!(compressed.op_code(), OpCode::Compressed, "{c:?}");
        assert_eq!((compressed.request_id(), compressed.response_to()), (11, 22));
        if c != Compressor::Noop {
            assert!(
                compressed.len() < original.len(),
                "{c:?} should shrink a repetitive message"
            );
        }
        let (back, used) = decompress_message(&compressed).unwrap();
        assert_eq!(used, Some(c));
        assert_eq!(back, original);
        OpMsg::parse(&back).unwrap();
    }
}

#[test]
fn incompressible_reply_is_sent_uncompressed() {
    let small = OpMsgBuilder::default()
        .finish_with_body(&doc! {"ok": 1.0})
        .unwrap();
    for c in [Compressor::Snappy, Compressor::Zlib, Compressor::Zstd] {
        let out = compress_message(&small, c).unwrap();
        assert_eq!(out, small, "{c:?}");
    }
}

#[test]
fn uncompressed_messages_pass_through() {
    let m = big_message();
    let (back, used) = decompress_message(&m).unwrap();
    assert_eq!((back, used), (m, None));
}

fn compressed_bytes(original_op: i32, size: i32, id: u8, payload: &[u8]) -> Vec<u8> {
    let mut data = original_op.to_le_bytes().to_vec();
    data.extend(size.to_le_bytes());
    data.push(id);
    data.extend_from_slice(payload);
    with_header(OpCode::Compressed, 1, 0, &data)
}

#[test]
fn malformed_compressed_messages_fail() {
    // Too short for the compression header.
    let short = with_header(OpCode::Compressed, 1, 0, &[1, 2, 3]);
    assert_eq!(
        decompress_message(&message(short)).unwrap_err().code(),
        ErrorCode::BadValue
    );
    // Unknown compressor id.
    let unknown = compressed_bytes(2013, 4, 9, &[0; 4]);
    assert_eq!(
        decompress_message(&message(unknown)).unwrap_err().code(),
        ErrorCode::InternalError
    );
    // Claimed size over the message limit, and negative.
    for size in [48_000_000, -1] {
        let huge = compressed_bytes(2013, size, 0, &[0; 4]);
        assert_eq!(
            decompress_message(&message(huge)).unwrap_err().code(),
            ErrorCode::BadValue
        );
    }
    // Size not matching the payload, for each compressor.
    let body = big_message();
    for c in Compressor::ALL {
        let good = compress_message(&body, c).unwrap();
        let mut bytes = good.as_bytes().to_vec();
        let claimed = i32::from_le_bytes(bytes[20..24].try_into().unwrap());
        for wrong in [claimed - 1, claimed + 1] {
            bytes[20..24].copy_from_slice(&wrong.to_le_bytes());
            let err = decompress_message(&message(bytes.clone())).unwrap_err();
            assert_eq!(err.code(), ErrorCode::BadValue, "{c:?} claimed {wrong}");
        }
    }
    // Garbage payloads.
    for id in 1..=3 {
        let junk = compressed_bytes(2013, 100, id, b"definitely not compressed data");
        assert_eq!(
            decompress_message(&message(junk)).unwrap_err().code(),
            ErrorCode::BadValue
        );
    }
}

#[test]
fn a_bomb_cannot_grow_past_its_claim() {
    // 10 MB of zeros compresses to a few KB; claiming 100 bytes must fail, not inflate 10 MB.
    let zeros = vec![0u8; 10_000_000];
    let payload = zstd::bulk::compress(&zeros, 3).unwrap();
    let bomb = compressed_bytes(2013, 100, 3, &payload);
    assert_eq!(
        decompress_message(&message(bomb)).unwrap_err().code(),
        ErrorCode::BadValue
    );
}

#[test]
fn negotiation_keeps_the_clients_order() {
    let chosen = negotiate(["zstd", "bogus", "snappy", "zstd"], &Compressor::ALL);
    assert_eq!(chosen, [Compressor::Zstd, Compressor::Snappy]);
    assert!(negotiate(["zlib"], &[Compressor::Snappy]).is_empty());
    assert_eq!(Compressor::from_name("zlib").map(Compressor::id), Some(2));
}
