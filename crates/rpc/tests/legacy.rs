//! OP_QUERY parsing and OP_REPLY building/parsing, as used by legacy handshakes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bson::{Document, doc, rawdoc};
use common::*;
use docwire_rpc::{
    ErrorCode, OpCode, OpQuery, OpReply, build_op_query, build_op_reply, op_reply::reply_flags,
};

fn query_bytes(ns: &str, query: &Document, projection: Option<&Document>) -> Vec<u8> {
    let mut data = 0i32.to_le_bytes().to_vec();
    data.extend(ns.as_bytes());
    data.push(0);
    data.extend(0i32.to_le_bytes());
    data.extend((-1i32).to_le_bytes());
    data.extend(doc_bytes(query));
    if let Some(p) = projection {
        data.extend(doc_bytes(p));
    }
    with_header(OpCode::Query, 1, 0, &data)
}

#[test]
fn parses_an_ismaster_handshake() {
    let q = OpQuery::parse(&message(query_bytes(
        "admin.$cmd",
        &doc! {"ismaster": 1, "helloOk": true},
        None,
    )))
    .unwrap();
    assert_eq!(q.full_collection_name(), "admin.$cmd");
    assert_eq!(q.database(), "admin");
    assert!(q.is_command());
    assert_eq!(q.number_to_return(), -1);
    assert_eq!(q.command_name().unwrap(), "ismaster");
    assert!(q.projection().is_none());
}

#[test]
fn unwraps_dollar_query() {
    let wrapped = doc! {"$query": {"isMaster": 1}, "$readPreference": {"mode": "primaryPreferred"}};
    let q = OpQuery::parse(&message(query_bytes(
        "admin.$cmd",
        &wrapped,
        Some(&doc! {"a": 1}),
    )))
    .unwrap();
    assert_eq!(q.command_name().unwrap(), "isMaster");
    assert_eq!(
        Document::try_from(q.projection().unwrap()).unwrap(),
        doc! {"a": 1}
    );
}

#[test]
fn truncated_queries_fail_cleanly() {
    let full = query_bytes("admin.$cmd", &doc! {"ismaster": 1}, None);
    for cut in 1..full.len() - 16 {
        let err = OpQuery::parse(&message(shrink(full.clone(), cut))).unwrap_err();
        assert!(
            [ErrorCode::Overflow, ErrorCode::InvalidBSON].contains(&err.code()),
            "cut {cut}: {err}"
        );
    }
}

#[test]
fn built_query_parses_back() {
    let msg = build_op_query(0, "admin.$cmd", 0, -1, &doc! {"isMaster": 1}).unwrap();
    let q = OpQuery::parse(&msg).unwrap();
    assert_eq!(q.command_name().unwrap(), "isMaster");
}

#[test]
fn reply_round_trips() {
    let msg = build_op_reply(
        reply_flags::AWAIT_CAPABLE,
        0,
        0,
        [rawdoc! {"ismaster": true, "ok": 1.0}.as_ref()],
    );
    assert_eq!(msg.op_code(), OpCode::Reply);
    let reply = OpReply::parse(&msg).unwrap();
    assert_eq!(reply.response_flags, reply_flags::AWAIT_CAPABLE);
    assert_eq!(reply.cursor_id, 0);
    assert_eq!(reply.command_reply().unwrap(), doc! {"ismaster": true, "ok": 1.0});
}

#[test]
fn reply_with_wrong_count_is_rejected() {
    let msg = build_op_reply(0, 0, 0, [rawdoc! {"a": 1}.as_ref()]);
    let mut bytes = msg.as_bytes().to_vec();
    bytes[16 + 16..16 + 20].copy_from_slice(&2i32.to_le_bytes());
    assert_eq!(
        OpReply::parse(&message(bytes)).unwrap_err().code(),
        ErrorCode::ProtocolError
    );
}
