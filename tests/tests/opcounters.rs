//! serverStatus.opcounters counts commands by kind as mongod does (insert, query, update, delete,
//! getmore, command), seen through the Rust driver.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{Document, doc};
use docwire_tests::start_server;
use futures::TryStreamExt;
use mongodb::Client;

async fn opcounters(client: &Client) -> Document {
    let status = client
        .database("admin")
        .run_command(doc! {"serverStatus": 1})
        .await
        .unwrap();
    status.get_document("opcounters").unwrap().clone()
}

fn counter(doc: &Document, key: &str) -> i64 {
    match doc.get(key) {
        Some(bson::Bson::Int64(n)) => *n,
        Some(bson::Bson::Int32(n)) => i64::from(*n),
        other => panic!("opcounters.{key} = {other:?} in {doc:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_of_command_is_counted() {
    let server = start_server(&[], None).await;
    let client = Client::with_uri_str(server.uri()).await.unwrap();
    let before = opcounters(&client).await;
    let coll = client.database("test").collection::<Document>("c");
    coll.insert_many((0..10).map(|i| doc! {"_id": i})).await.unwrap();
    let found: Vec<Document> = coll
        .find(doc! {})
        .batch_size(3)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(found.len(), 10);
    coll.update_one(doc! {"_id": 1}, doc! {"$set": {"x": 1}})
        .await
        .unwrap();
    coll.delete_one(doc! {"_id": 2}).await.unwrap();
    let after = opcounters(&client).await;
    let delta = |k: &str| counter(&after, k) - counter(&before, k);
    assert_eq!(delta("insert"), 1, "{after:?}");
    assert_eq!(delta("query"), 1, "{after:?}");
    assert!(delta("getmore") >= 3, "{after:?}");
    assert_eq!(delta("update"), 1, "{after:?}");
    assert_eq!(delta("delete"), 1, "{after:?}");
    assert!(
        delta("command") >= 1,
        "serverStatus itself is a command: {after:?}"
    );
}
