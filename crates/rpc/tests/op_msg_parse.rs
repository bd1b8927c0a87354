//! mongod's op_msg_test.cpp parser cases, ported: every success shape and every failure with its code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bson::{Document, doc};
use common::*;
use docwire_rpc::{ErrorCode, OpMsg, OpMsgFlags};

const BODY: u8 = 0;
const SEQ: u8 = 1;

fn parse(bytes: Vec<u8>) -> Result<OpMsg, docwire_rpc::Status> {
    OpMsg::parse(&message(bytes))
}

fn code_of(bytes: Vec<u8>) -> i32 {
    parse(bytes).expect_err("parse should fail").code().code()
}

fn ping() -> Vec<u8> {
    doc_bytes(&doc! {"ping": 1})
}

fn docs_of(msg: &OpMsg, i: usize) -> (String, Vec<Document>) {
    let seq = msg.sequences().nth(i).unwrap();
    let docs = seq.iter().map(|d| Document::try_from(d).unwrap()).collect();
    (seq.identifier().to_owned(), docs)
}

fn body_of(msg: &OpMsg) -> Document {
    Document::try_from(msg.body()).unwrap()
}

#[test]
fn succeeds_with_just_body() {
    let msg = parse(op_msg_bytes(&[&flags(0), &[BODY], &ping()])).unwrap();
    assert_eq!(body_of(&msg), doc! {"ping": 1});
    assert_eq!(msg.sequences().count(), 0);
}

#[test]
fn succeeds_with_checksum() {
    let bytes = append_checksum(op_msg_bytes(&[&flags(1), &[BODY], &ping()]), None);
    let msg = parse(bytes).unwrap();
    assert_eq!(body_of(&msg), doc! {"ping": 1});
    assert!(msg.flags().checksum_present());
}

#[test]
fn succeeds_with_body_then_sequence() {
    let seq = sized(b"docs", true, &[doc! {"a": 1}, doc! {"a": 2}], 0);
    let msg = parse(op_msg_bytes(&[&flags(0), &[BODY], &ping(), &[SEQ], &seq])).unwrap();
    assert_eq!(body_of(&msg), doc! {"ping": 1});
    assert_eq!(msg.sequences().count(), 1);
    assert_eq!(
        docs_of(&msg, 0),
        ("docs".into(), vec![doc! {"a": 1}, doc! {"a": 2}])
    );
}

#[test]
fn succeeds_with_sequence_then_body() {
    let seq = sized(b"docs", true, &[doc! {"a": 1}], 0);
    let msg = parse(op_msg_bytes(&[&flags(0), &[SEQ], &seq, &[BODY], &ping()])).unwrap();
    assert_eq!(body_of(&msg), doc! {"ping": 1});
    assert_eq!(docs_of(&msg, 0), ("docs".into(), vec![doc! {"a": 1}]));
}

#[test]
fn succeeds_with_sequence_then_body_then_sequence() {
    let empty = sized(b"empty", true, &[], 0);
    let docs = sized(b"docs", true, &[doc! {"a": 1}], 0);
    let msg = parse(op_msg_bytes(&[
        &flags(0),
        &[SEQ],
        &empty,
        &[BODY],
        &ping(),
        &[SEQ],
        &docs,
    ]))
    .unwrap();
    assert_eq!(body_of(&msg), doc! {"ping": 1});
    assert_eq!(docs_of(&msg, 0), ("empty".into(), vec![]));
    assert_eq!(docs_of(&msg, 1), ("docs".into(), vec![doc! {"a": 1}]));
}

#[test]
fn succeeds_with_sequence_then_sequence_then_body() {
    let empty = sized(b"empty", true, &[], 0);
    let docs = sized(b"docs", true, &[doc! {"a": 1}], 0);
    let msg = parse(op_msg_bytes(&[
        &flags(0),
        &[SEQ],
        &empty,
        &[SEQ],
        &docs,
        &[BODY],
        &ping(),
    ]))
    .unwrap();
    assert_eq!(docs_of(&msg, 0), ("empty".into(), vec![]));
    assert_eq!(docs_of(&msg, 1), ("docs".into(), vec![doc! {"a": 1}]));
    assert!(msg.sequence("empty").unwrap().is_empty());
}

#[test]
fn succeeds_with_body_then_sequence_then_sequence() {
    let docs = sized(b"docs", true, &[doc! {"a": 1}], 0);
    let empty = sized(b"empty", true, &[], 0);
    let msg = parse(op_msg_bytes(&[
        &flags(0),
        &[BODY],
        &ping(),
        &[SEQ],
        &docs,
        &[SEQ],
        &empty,
    ]))
    .unwrap();
    assert_eq!(docs_of(&msg, 0), ("docs".into(), vec![doc! {"a": 1}]));
    assert_eq!(docs_of(&msg, 1), ("empty".into(), vec![]));
}

#[test]
fn fails_if_no_body() {
    assert_eq!(code_of(op_msg_bytes(&[&flags(0)])), 40587);
}

#[test]
fn fails_if_no_body_even_with_sequence() {
    let seq = sized(b"docs", true, &[], 0);
    assert_eq!(code_of(op_msg_bytes(&[&flags(0), &[SEQ], &seq])), 40587);
}

#[test]
fn fails_if_two_bodies() {
    let pong = doc_bytes(&doc! {"pong": 1});
    assert_eq!(
        code_of(op_msg_bytes(&[&flags(0), &[BODY], &ping(), &[BODY], &pong])),
        40430
    );
}

#[test]
fn fails_if_duplicate_sequences() {
    let seq = sized(b"docs", true, &[], 0);
    assert_eq!(
        code_of(op_msg_bytes(&[
            &flags(0),
            &[BODY],
            &ping(),
            &[SEQ],
            &seq,
            &[SEQ],
            &seq
        ])),
        40431
    );
}

#[test]
fn fails_if_duplicate_sequence_with_body() {
    let body = doc_bytes(&doc! {"ping": 1, "docs": []});
    let seq = sized(b"docs", true, &[], 0);
    assert_eq!(
        code_of(op_msg_bytes(&[&flags(0), &[BODY], &body, &[SEQ], &seq])),
        40433
    );
}

#[test]
fn fails_if_duplicate_sequence_with_body_nested() {
    let body = doc_bytes(&doc! {"ping": 1, "a": {"b": []}});
    let seq = sized(b"a.b", true, &[], 0);
    assert_eq!(
        code_of(op_msg_bytes(&[&flags(0), &[BODY], &body, &[SEQ], &seq])),
        40433
    );
}

#[test]
fn succeeds_if_sequence_and_body_have_common_prefix() {
    let body = doc_bytes(&doc! {"cursor": {"ns": "foo.bar", "id": 1}});
    let seq = sized(b"cursor.firstBatch", true, &[doc! {"_id": 1}], 0);
    let msg = parse(op_msg_bytes(&[&flags(0), &[BODY], &body, &[SEQ], &seq])).unwrap();
    assert_eq!(body_of(&msg), doc! {"cursor": {"ns": "foo.bar", "id": 1}});
    assert_eq!(
        docs_of(&msg, 0),
        ("cursor.firstBatch".into(), vec![doc! {"_id": 1}])
    );
}

#[test]
fn fails_if_unknown_section_kind() {
    let seq = sized(b"", false, &[], 0);
    assert_eq!(code_of(op_msg_bytes(&[&flags(0), &[0x99], &seq])), 40432);
    let err = parse(op_msg_bytes(&[&flags(0), &[0x99], &seq])).unwrap_err();
    assert_eq!(err.reason(), "Unknown section kind 153");
}

#[test]
fn security_token_section_is_rejected() {
    assert_eq!(
        code_of(op_msg_bytes(&[&flags(0), &[BODY], &ping(), &[2], b"token\0"])),
        13
    );
}

#[test]
fn fails_if_body_too_big() {
    let bytes = shrink(op_msg_bytes(&[&flags(0), &[BODY], &ping()]), 1);
    assert_eq!(code_of(bytes), ErrorCode::InvalidBSON.code());
}

#[test]
fn fails_if_body_too_big_into_checksum() {
    let bytes = shrink(
        append_checksum(op_msg_bytes(&[&flags(1), &[BODY], &ping()]), None),
        1,
    );
    assert_eq!(code_of(bytes), ErrorCode::InvalidBSON.code());
}

#[test]
fn fails_if_document_sequence_too_big() {
    let seq = sized(b"docs", true, &[doc! {"a": 1}], 0);
    let bytes = shrink(op_msg_bytes(&[&flags(0), &[BODY], &ping(), &[SEQ], &seq]), 1);
    assert_eq!(code_of(bytes), ErrorCode::Overflow.code());
}

#[test]
fn fails_if_document_sequence_too_big_into_checksum() {
    let seq = sized(b"docs", true, &[doc! {"a": 1}], 0);
    let bytes = shrink(
        append_checksum(op_msg_bytes(&[&flags(1), &[BODY], &ping(), &[SEQ], &seq]), None),
        1,
    );
    assert_eq!(code_of(bytes), ErrorCode::Overflow.code());
}

#[test]
fn fails_if_document_in_sequence_too_big() {
    let seq = sized(b"docs", true, &[doc! {"a": 1}], -1);
    // The section now ends one byte early, leaving a stray byte that reads as an unknown section kind;
    // mongod sees the truncated document first, and so do we.
    assert_eq!(
        code_of(op_msg_bytes(&[&flags(0), &[BODY], &ping(), &[SEQ], &seq])),
        ErrorCode::InvalidBSON.code()
    );
}

#[test]
fn fails_if_name_of_document_sequence_too_big() {
    let seq = sized(b"foo", true, &[], -1);
    assert_eq!(
        code_of(op_msg_bytes(&[&flags(0), &[BODY], &ping(), &[SEQ], &seq])),
        ErrorCode::Overflow.code()
    );
}

#[test]
fn fails_if_name_of_document_sequence_has_no_nul_terminator() {
    let seq = sized(b"foo", false, &[], 0);
    assert_eq!(
        code_of(op_msg_bytes(&[&flags(0), &[BODY], &ping(), &[SEQ], &seq])),
        ErrorCode::Overflow.code()
    );
}

#[test]
fn fails_if_too_many_document_sequences() {
    let (a, b, c) = (
        sized(b"foo", true, &[], 0),
        sized(b"bar", true, &[], 0),
        sized(b"baz", true, &[], 0),
    );
    let code = code_of(op_msg_bytes(&[
        &flags(0),
        &[BODY],
        &ping(),
        &[SEQ],
        &a,
        &[SEQ],
        &b,
        &[SEQ],
        &c,
    ]));
    assert_eq!(code, ErrorCode::TooManyDocumentSequences.code());
}

#[test]
fn fails_if_no_room_for_flags() {
    for n in 0..4 {
        let bytes = op_msg_bytes(&[&vec![0u8; n]]);
        assert_eq!(code_of(bytes), ErrorCode::Overflow.code(), "{n} flag bytes");
    }
}

#[test]
fn flag_extraction_works() {
    for i in 16..32 {
        let f = 1u32 << i;
        let msg = parse(op_msg_bytes(&[&flags(f), &[BODY], &ping()])).unwrap();
        assert_eq!(msg.flags(), OpMsgFlags(f));
    }
    let f = OpMsgFlags(!0u32);
    assert!(f.checksum_present() && f.more_to_come() && f.exhaust_allowed());
    assert!(!OpMsgFlags(0).more_to_come());
}

#[test]
fn fails_with_unknown_required_flags() {
    for i in 2..16 {
        let err = parse(op_msg_bytes(&[&flags(1 << i), &[BODY], &ping()])).unwrap_err();
        assert_eq!(err.code(), ErrorCode::IllegalOpMsgFlag, "bit {i}");
    }
}

#[test]
fn succeeds_with_unknown_optional_flags() {
    for i in 16..32 {
        parse(op_msg_bytes(&[&flags(1 << i), &[BODY], &ping()])).unwrap();
    }
}

#[test]
fn fails_with_checksum_mismatch() {
    let bytes = append_checksum(op_msg_bytes(&[&flags(1), &[BODY], &ping()]), Some(123));
    assert_eq!(code_of(bytes), ErrorCode::ChecksumMismatch.code());
}

#[test]
fn fails_when_checksum_has_no_room() {
    // Flags say a checksum follows, but only the flags word (and at most the checksum) is there.
    assert_eq!(code_of(op_msg_bytes(&[&flags(1)])), 51252);
    assert_eq!(code_of(op_msg_bytes(&[&flags(1), &[0, 0, 0, 0]])), 51252);
}

#[test]
fn database_and_command_name() {
    let body = doc_bytes(&doc! {"find": "c", "$db": "test"});
    let msg = parse(op_msg_bytes(&[&flags(0), &[BODY], &body])).unwrap();
    assert_eq!(msg.command_name().unwrap(), "find");
    assert_eq!(msg.database().unwrap(), "test");

    let msg = parse(op_msg_bytes(&[&flags(0), &[BODY], &ping()])).unwrap();
    assert_eq!(msg.database().unwrap_err().code(), ErrorCode::Location(40571));
    let body = doc_bytes(&doc! {"ping": 1, "$db": 1});
    let msg = parse(op_msg_bytes(&[&flags(0), &[BODY], &body])).unwrap();
    assert_eq!(msg.database().unwrap_err().code(), ErrorCode::TypeMismatch);
    let body = doc_bytes(&doc! {"before": 1, "$db": "foo", "after": 1});
    let msg = parse(op_msg_bytes(&[&flags(0), &[BODY], &body])).unwrap();
    assert_eq!(msg.database().unwrap(), "foo");
}

#[test]
fn merged_view_puts_sequences_in_the_body() {
    let body = doc_bytes(&doc! {"insert": "c", "$db": "test"});
    let seq = sized(b"documents", true, &[doc! {"_id": 1}, doc! {"_id": 2}], 0);
    let msg = parse(op_msg_bytes(&[&flags(0), &[SEQ], &seq, &[BODY], &body])).unwrap();
    assert_eq!(
        msg.merged().unwrap(),
        doc! {"insert": "c", "$db": "test", "documents": [{"_id": 1}, {"_id": 2}]}
    );
}

#[test]
fn body_is_shared_not_copied() {
    let bytes = op_msg_bytes(&[&flags(0), &[BODY], &ping()]);
    let message = message(bytes);
    let msg = OpMsg::parse(&message).unwrap();
    let body = msg.body_bytes();
    let start = message.as_bytes().as_ptr() as usize;
    let end = start + message.len();
    let p = body.as_ptr() as usize;
    assert!(
        p >= start && p < end,
        "the body must point into the message buffer"
    );
}
