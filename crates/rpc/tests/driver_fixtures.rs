//! The exact first message each real driver sends (captured from pymongo, mongosh and the Rust driver;
//! see fixtures/README.md) parses as mongod would read it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::RawBsonRef;
use docwire_rpc::{Message, MessageCodec, OpCode, OpMsg, OpQuery};
use tokio_util::codec::Decoder;

fn fixture(name: &str) -> Message {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // Through the codec, as a session would receive it.
    let mut buf = bytes::BytesMut::from(&bytes[..]);
    let msg = MessageCodec::default()
        .decode(&mut buf)
        .unwrap()
        .expect("one whole message");
    assert!(buf.is_empty(), "{name}: exactly one message");
    msg
}

fn keys(doc: &bson::RawDocument) -> Vec<String> {
    doc.iter().map(|e| e.unwrap().0.as_str().to_owned()).collect()
}

fn driver_name(doc: &bson::RawDocument) -> String {
    let client = doc.get_document("client").unwrap();
    client
        .get_document("driver")
        .unwrap()
        .get_str("name")
        .unwrap()
        .to_owned()
}

#[test]
fn pymongo_sends_op_msg_ismaster_with_hello_ok() {
    let msg = fixture("first_message_pymongo.bin");
    assert_eq!(msg.op_code(), OpCode::Msg);
    assert_eq!(msg.response_to(), 0);
    let op = OpMsg::parse(&msg).unwrap();
    assert_eq!(op.flags().0, 0);
    assert_eq!(op.command_name().unwrap(), "ismaster");
    assert_eq!(op.database().unwrap(), "admin");
    assert_eq!(op.body().get("helloOk").unwrap(), Some(RawBsonRef::Boolean(true)));
    assert_eq!(op.sequences().count(), 0);
    assert!(driver_name(op.body()).starts_with("PyMongo"));
}

#[test]
fn mongosh_sends_op_query_ismaster_on_admin_cmd() {
    let msg = fixture("first_message_mongosh.bin");
    assert_eq!(msg.op_code(), OpCode::Query);
    let q = OpQuery::parse(&msg).unwrap();
    assert_eq!(q.full_collection_name(), "admin.$cmd");
    assert!(q.is_command());
    assert_eq!(q.number_to_return(), -1);
    assert_eq!(q.command_name().unwrap(), "ismaster");
    assert!(keys(q.command()).contains(&"compression".to_owned()));
    assert!(driver_name(q.command()).starts_with("nodejs|mongosh"));
}

#[test]
fn rust_driver_sends_op_msg_is_master_with_request_id_zero() {
    let msg = fixture("first_message_rust_driver.bin");
    assert_eq!(msg.op_code(), OpCode::Msg);
    assert_eq!(msg.request_id(), 0);
    let op = OpMsg::parse(&msg).unwrap();
    assert_eq!(op.command_name().unwrap(), "isMaster");
    assert_eq!(op.database().unwrap(), "admin");
    assert_eq!(keys(op.body())[..2], ["isMaster", "helloOk"]);
    assert_eq!(driver_name(op.body()), "mongo-rust-driver");
}
