//! Reply builders: mongod's augmentation rules, sequences, legacy replies and next invocations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{Document, doc, rawdoc};
use docwire_rpc::{ErrorCode, OpCode, OpMsg, OpReply, ReplyBuilder, ReplyProtocol, Status};

fn body(msg: &docwire_rpc::Message) -> Document {
    Document::try_from(OpMsg::parse(msg).unwrap().body()).unwrap()
}

#[test]
fn ok_is_added_as_a_double_when_absent() {
    let mut b = ReplyBuilder::new(ReplyProtocol::OpMsg);
    b.set_command_reply(doc! {"n": 1});
    let out = b.done().unwrap();
    assert_eq!(body(&out.message), doc! {"n": 1, "ok": 1.0});
}

#[test]
fn ok_present_is_left_alone() {
    for ok in [
        bson::Bson::Int32(1),
        bson::Bson::Boolean(true),
        bson::Bson::Double(0.0),
    ] {
        let mut b = ReplyBuilder::new(ReplyProtocol::OpMsg);
        b.set_command_reply(doc! {"ok": ok.clone(), "x": 1});
        assert_eq!(body(&b.done().unwrap().message), doc! {"ok": ok, "x": 1});
    }
}

#[test]
fn raw_reply_gets_ok_without_reencoding_fields() {
    let mut b = ReplyBuilder::new(ReplyProtocol::OpMsg);
    b.set_raw_command_reply(rawdoc! {"cursor": {"id": 0_i64}});
    assert!(b.is_ok());
    assert_eq!(
        body(&b.done().unwrap().message),
        doc! {"cursor": {"id": 0_i64}, "ok": 1.0}
    );
}

#[test]
fn status_reply_has_mongod_shape_and_drops_sequences() {
    let mut b = ReplyBuilder::new(ReplyProtocol::OpMsg);
    b.begin_document_sequence("cursor.firstBatch")
        .unwrap()
        .append_raw(&rawdoc! {"_id": 1});
    b.set_command_status(&Status::new(ErrorCode::CursorNotFound, "cursor id 5 not found"));
    assert!(!b.is_ok());
    let msg = b.done().unwrap().message;
    let parsed = OpMsg::parse(&msg).unwrap();
    assert_eq!(parsed.sequences().count(), 0);
    assert_eq!(
        body(&msg),
        doc! {"ok": 0.0, "errmsg": "cursor id 5 not found", "code": 43, "codeName": "CursorNotFound"}
    );
}

#[test]
fn ok_status_is_ok_one() {
    let mut b = ReplyBuilder::new(ReplyProtocol::OpMsg);
    b.set_command_status(&Status::new(ErrorCode::OK, ""));
    assert_eq!(body(&b.done().unwrap().message), doc! {"ok": 1.0});
}

#[test]
fn sequences_precede_the_body() {
    let mut b = ReplyBuilder::new(ReplyProtocol::OpMsg);
    {
        let mut seq = b.begin_document_sequence("cursor.firstBatch").unwrap();
        seq.append_raw(&rawdoc! {"_id": 1});
        seq.append_raw(&rawdoc! {"_id": 2});
    }
    b.body_mut().insert("cursor", doc! {"id": 0_i64, "ns": "t.c"});
    let msg = b.done().unwrap().message;
    let parsed = OpMsg::parse(&msg).unwrap();
    assert_eq!(parsed.sequence("cursor.firstBatch").unwrap().len(), 2);
    assert_eq!(
        parsed.merged().unwrap(),
        doc! {"cursor": {"id": 0_i64, "ns": "t.c", "firstBatch": [{"_id": 1}, {"_id": 2}]}, "ok": 1.0}
    );
}

#[test]
fn legacy_replies_are_op_reply_without_sequences() {
    let mut b = ReplyBuilder::new(ReplyProtocol::OpReply);
    let err = b.begin_document_sequence("x").err().unwrap();
    assert_eq!(err.code(), ErrorCode::Location(50875));
    b.set_command_reply(doc! {"ismaster": true});
    let msg = b.done().unwrap().message;
    assert_eq!(msg.op_code(), OpCode::Reply);
    assert_eq!(
        OpReply::parse(&msg).unwrap().command_reply().unwrap(),
        doc! {"ismaster": true, "ok": 1.0}
    );
}

#[test]
fn next_invocation_is_carried_out() {
    let mut b = ReplyBuilder::new(ReplyProtocol::OpMsg);
    b.set_command_reply(doc! {"cursor": {"id": 9_i64}});
    b.set_next_invocation(doc! {"getMore": 9_i64, "collection": "c", "$db": "t"});
    assert!(b.next_invocation().is_some());
    let out = b.done().unwrap();
    assert_eq!(out.next_invocation.unwrap().get_i64("getMore").unwrap(), 9);
}
