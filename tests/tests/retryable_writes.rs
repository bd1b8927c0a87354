//! Retryable writes: a write carrying `lsid` + `txnNumber` that was already applied is not applied again
//! and its stored reply is returned (what a driver's retry after a network error, and the proxy, rely on).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bson::{Binary, Bson, Document, doc, spec::BinarySubtype};
use docwire_tests::start_server;
use docwire_transport::client::{AsyncDbClient, ClientOptions};

fn lsid(byte: u8) -> Document {
    doc! {"id": Binary { subtype: BinarySubtype::Uuid, bytes: vec![byte; 16] }}
}

async fn count(client: &mut AsyncDbClient) -> i64 {
    let reply = client.run_command("test", doc! {"count": "c"}).await.unwrap();
    match reply.get("n") {
        Some(Bson::Int64(n)) => *n,
        Some(Bson::Int32(n)) => i64::from(*n),
        other => panic!("count reply {reply:?} n={other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_write_is_applied_once_and_answers_the_same() {
    let server = start_server(&[], None).await;
    let addr = server.addrs[0].to_string();
    let mut client = AsyncDbClient::connect(&addr, Duration::from_secs(10), &ClientOptions::default())
        .await
        .unwrap();

    let insert = doc! {"insert": "c", "documents": [{"_id": 1, "v": 0}], "lsid": lsid(1), "txnNumber": 1_i64};
    let first = client.run_command("test", insert.clone()).await.unwrap();
    assert_eq!(
        first
            .get_i32("n")
            .ok()
            .or(first.get_i64("n").ok().map(|n| n as i32)),
        Some(1)
    );
    // The retry (same session, same txnNumber) gets the first reply, not a DuplicateKey error.
    let retry = client.run_command("test", insert).await.unwrap();
    assert_eq!(retry, first);
    assert_eq!(count(&mut client).await, 1);

    let inc = doc! {
        "update": "c",
        "updates": [{"q": {"_id": 1}, "u": {"$inc": {"v": 1}}}],
        "lsid": lsid(1),
        "txnNumber": 2_i64,
    };
    let first = client.run_command("test", inc.clone()).await.unwrap();
    let retry = client.run_command("test", inc).await.unwrap();
    assert_eq!(retry, first);
    let found = client
        .run_command("test", doc! {"find": "c", "filter": {"_id": 1}})
        .await
        .unwrap();
    let doc = found
        .get_document("cursor")
        .unwrap()
        .get_array("firstBatch")
        .unwrap()[0]
        .as_document()
        .unwrap()
        .clone();
    assert_eq!(doc.get_i32("v").unwrap(), 1, "the $inc was applied once");

    // A new txnNumber, or another session with the same number, is a new write.
    let again = doc! {"insert": "c", "documents": [{"_id": 2}], "lsid": lsid(1), "txnNumber": 3_i64};
    client.run_command("test", again).await.unwrap();
    let other_session = doc! {"insert": "c", "documents": [{"_id": 3}], "lsid": lsid(2), "txnNumber": 1_i64};
    client.run_command("test", other_session).await.unwrap();
    assert_eq!(count(&mut client).await, 3);

    // Writes without a txnNumber are not retryable: a repeat really runs again (and fails on _id).
    let plain = doc! {"insert": "c", "documents": [{"_id": 4}]};
    client.run_command("test", plain.clone()).await.unwrap();
    let repeat = client.run_command("test", plain).await.unwrap();
    assert_eq!(repeat.get_array("writeErrors").unwrap().len(), 1);
}
