//! mongod's op_msg_test.cpp serializer cases, ported, plus checksum and flag writing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bson::{RawDocumentBuf, doc, rawdoc};
use common::*;
use docwire_rpc::{OpMsg, OpMsgBuilder, OpMsgFlags, append_checksum as append_crc, set_more_to_come};

const BODY: u8 = 0;
const SEQ: u8 = 1;

fn raw(d: bson::Document) -> RawDocumentBuf {
    RawDocumentBuf::try_from(&d).unwrap()
}

#[test]
fn just_body() {
    let msg = OpMsgBuilder::default()
        .finish_with_body(&doc! {"ping": 1})
        .unwrap();
    let expected = op_msg_bytes(&[&flags(0), &[BODY], &doc_bytes(&doc! {"ping": 1})]);
    assert_eq!(msg.data(), &expected[16..]);
    assert_eq!(msg.len(), expected.len());
    assert_eq!(msg.header().message_length as usize, expected.len());
}

#[test]
fn body_and_sequence() {
    let mut b = OpMsgBuilder::default();
    let (a1, a2) = (raw(doc! {"a": 1}), raw(doc! {"a": 2}));
    b.document_sequence("docs", [a1.as_ref(), a2.as_ref()]);
    let msg = b.finish_with_body(&doc! {"ping": 1}).unwrap();
    let seq = sized(b"docs", true, &[doc! {"a": 1}, doc! {"a": 2}], 0);
    let expected = op_msg_bytes(&[&flags(0), &[SEQ], &seq, &[BODY], &doc_bytes(&doc! {"ping": 1})]);
    assert_eq!(msg.data(), &expected[16..]);
}

#[test]
fn body_and_empty_sequence() {
    let mut b = OpMsgBuilder::default();
    b.document_sequence("docs", []);
    let msg = b.finish_with_body(&doc! {"ping": 1}).unwrap();
    let seq = sized(b"docs", true, &[], 0);
    let expected = op_msg_bytes(&[&flags(0), &[SEQ], &seq, &[BODY], &doc_bytes(&doc! {"ping": 1})]);
    assert_eq!(msg.data(), &expected[16..]);
}

#[test]
fn body_and_two_sequences() {
    let mut b = OpMsgBuilder::default();
    let (a, bb) = (raw(doc! {"a": 1}), raw(doc! {"b": 1}));
    b.document_sequence("a", [a.as_ref()]);
    b.document_sequence("b", [bb.as_ref()]);
    let msg = b.finish_with_body(&doc! {"ping": 1}).unwrap();
    let sa = sized(b"a", true, &[doc! {"a": 1}], 0);
    let sb = sized(b"b", true, &[doc! {"b": 1}], 0);
    let expected = op_msg_bytes(&[
        &flags(0),
        &[SEQ],
        &sa,
        &[SEQ],
        &sb,
        &[BODY],
        &doc_bytes(&doc! {"ping": 1}),
    ]);
    assert_eq!(msg.data(), &expected[16..]);
}

#[test]
fn body_and_sequence_in_place() {
    let mut b = OpMsgBuilder::default();
    drop(b.begin_document_sequence("empty"));
    {
        let mut seq = b.begin_document_sequence("docs");
        seq.append_raw(&rawdoc! {"a": 1});
        seq.append(&doc! {"a": 2}).unwrap();
    }
    let msg = b.finish_with_body(&doc! {"ping": 1, "$db": "foo"}).unwrap();
    let empty = sized(b"empty", true, &[], 0);
    let docs = sized(b"docs", true, &[doc! {"a": 1}, doc! {"a": 2}], 0);
    let expected = op_msg_bytes(&[
        &flags(0),
        &[SEQ],
        &empty,
        &[SEQ],
        &docs,
        &[BODY],
        &doc_bytes(&doc! {"ping": 1, "$db": "foo"}),
    ]);
    assert_eq!(msg.data(), &expected[16..]);
    let parsed = OpMsg::parse(&msg).unwrap();
    assert_eq!(parsed.database().unwrap(), "foo");
}

#[test]
fn flags_are_written_and_more_to_come_toggles() {
    let mut msg = OpMsgBuilder::new(OpMsgFlags::EXHAUST_ALLOWED)
        .finish_with_body(&doc! {"ping": 1})
        .unwrap();
    assert_eq!(OpMsg::parse(&msg).unwrap().flags(), OpMsgFlags::EXHAUST_ALLOWED);
    set_more_to_come(&mut msg, true);
    let f = OpMsg::parse(&msg).unwrap().flags();
    assert!(f.more_to_come() && f.exhaust_allowed());
    set_more_to_come(&mut msg, false);
    assert!(!OpMsg::parse(&msg).unwrap().flags().more_to_come());
}

#[test]
fn checksum_is_appended_after_ids_and_verifies() {
    let mut msg = OpMsgBuilder::default()
        .finish_with_body(&doc! {"ping": 1})
        .unwrap();
    msg.set_ids(42, 7);
    append_crc(&mut msg);
    assert_eq!((msg.request_id(), msg.response_to()), (42, 7));
    let parsed = OpMsg::parse(&msg).unwrap();
    assert!(parsed.flags().checksum_present());
    // The same bytes as a checksum computed independently over the same header and sections.
    let mut data = flags(1);
    data.push(BODY);
    data.extend(doc_bytes(&doc! {"ping": 1}));
    let expected = append_checksum(with_header(docwire_rpc::OpCode::Msg, 42, 7, &data), None);
    assert_eq!(msg.as_bytes().as_ref(), &expected[..]);
    // Changing the ids after the checksum breaks it, as the header is covered.
    let mut tampered = msg.clone();
    tampered.set_ids(43, 7);
    assert_eq!(
        OpMsg::parse(&tampered).unwrap_err().code(),
        docwire_rpc::ErrorCode::ChecksumMismatch
    );
    // Appending twice is a no-op.
    let before = msg.len();
    append_crc(&mut msg);
    assert_eq!(msg.len(), before);
}

#[test]
fn a_stripped_checksum_leaves_the_plain_message_to_send_again() {
    let mut plain = OpMsgBuilder::new(OpMsgFlags::EXHAUST_ALLOWED)
        .finish_with_body(&doc! {"getMore": 5_i64, "collection": "c", "$db": "d"})
        .unwrap();
    plain.set_ids(42, 0);
    let mut msg = plain.clone();
    append_crc(&mut msg);
    docwire_rpc::strip_checksum(&mut msg);
    assert_eq!(msg.as_bytes(), plain.as_bytes());
    // With the checksum gone the ids can change and the message still parses.
    msg.set_ids(43, 0);
    let parsed = OpMsg::parse(&msg).unwrap();
    assert_eq!(parsed.flags(), OpMsgFlags::EXHAUST_ALLOWED);
    // Stripping a message without a checksum changes nothing.
    docwire_rpc::strip_checksum(&mut msg);
    assert_eq!(msg.len(), plain.len());
}

#[test]
fn op_msg_flags_can_be_replaced_but_never_the_checksum_bit() {
    let mut msg = OpMsgBuilder::new(OpMsgFlags::EXHAUST_ALLOWED)
        .finish_with_body(&doc! {"find": "c", "$db": "d"})
        .unwrap();
    docwire_rpc::set_op_msg_flags(&mut msg, OpMsgFlags::NONE);
    assert_eq!(OpMsg::parse(&msg).unwrap().flags(), OpMsgFlags::NONE);
    docwire_rpc::set_op_msg_flags(
        &mut msg,
        OpMsgFlags::MORE_TO_COME.with(OpMsgFlags::CHECKSUM_PRESENT),
    );
    // checksumPresent without a checksum would be a lie: only the other bits change.
    assert_eq!(OpMsg::parse(&msg).unwrap().flags(), OpMsgFlags::MORE_TO_COME);
}
