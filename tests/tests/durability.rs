//! Durability of the embedded database (redb under `--dbpath`): acknowledged (w:1) writes survive a
//! clean restart of an in-process server and a SIGKILL of the real `docwire` binary mid-stream — after
//! the restart every write the Rust driver saw acknowledged is there.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bson::{Document, doc};
use docwire_tests::{DocwireProcess, PATIENCE, start_server};
use futures::TryStreamExt;
use mongodb::options::{ClientOptions, WriteConcern};
use mongodb::{Client, Collection, IndexModel};

async fn client(uri: &str) -> Client {
    let mut options = ClientOptions::parse(uri).await.expect("the URI");
    options.server_selection_timeout = Some(PATIENCE);
    options.write_concern = Some(WriteConcern::nodes(1));
    // A write whose reply never came must not be retried into the next server.
    options.retry_writes = Some(false);
    Client::with_options(options).expect("a client")
}

async fn all_ids(coll: &Collection<Document>) -> BTreeSet<i64> {
    let docs: Vec<Document> = coll
        .find(doc! {})
        .projection(doc! {"_id": 1})
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("the documents");
    docs.iter()
        .map(|d| d.get_i64("_id").expect("an int64 _id"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_a_restart() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let dbpath = dir.path().to_str().unwrap();
    let server = start_server(&["--dbpath", dbpath], None).await;
    let driver = client(&server.uri()).await;
    let items: Collection<Document> = driver.database("durable").collection("items");
    items
        .insert_many((0..1000_i64).map(|i| doc! {"_id": i, "n": i, "even": i % 2 == 0}))
        .await
        .expect("insert_many");
    for i in 1000..1100_i64 {
        items
            .insert_one(doc! {"_id": i, "n": i, "even": i % 2 == 0})
            .await
            .expect("insert_one");
    }
    items
        .update_many(doc! {"even": true}, doc! {"$set": {"tag": "even"}})
        .await
        .expect("update_many");
    items
        .delete_many(doc! {"n": {"$gte": 1050}})
        .await
        .expect("delete_many");
    items
        .create_index(IndexModel::builder().keys(doc! {"n": 1}).build())
        .await
        .expect("createIndex");
    driver.shutdown().await;
    assert!(server.shutdown(Duration::from_secs(5)).await);

    let server = start_server(&["--dbpath", dbpath], None).await;
    let driver = client(&server.uri()).await;
    let items: Collection<Document> = driver.database("durable").collection("items");
    assert_eq!(all_ids(&items).await, (0..1050).collect());
    let tagged: Vec<Document> = items
        .find(doc! {"tag": "even"})
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("the documents");
    assert_eq!(tagged.len(), 525);
    let mut indexes = items.list_index_names().await.expect("listIndexes");
    indexes.sort();
    assert_eq!(indexes, ["_id_", "n_1"]);
    let names = driver.list_database_names().await.expect("listDatabases");
    assert!(names.iter().any(|n| n == "durable"), "{names:?}");
    driver.shutdown().await;
    assert!(server.shutdown(Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let dbpath = dir.path().to_str().unwrap();
    let server = DocwireProcess::start(&["--dbpath", dbpath]).await;
    let driver = client(&server.uri()).await;
    let items: Collection<Document> = driver.database("durable").collection("items");
    items
        .insert_many((0..500_i64).map(|i| doc! {"_id": i, "batch": true}))
        .await
        .expect("an acknowledged insert_many");

    // Two writers keep inserting one document at a time; each records the _ids acknowledged to it.
    let acknowledged: Arc<Mutex<BTreeSet<i64>>> = Arc::default();
    let (enough_tx, mut enough) = tokio::sync::watch::channel(false);
    let mut writers = Vec::new();
    for writer in 0..2_i64 {
        let items = items.clone();
        let acknowledged = acknowledged.clone();
        let enough_tx = enough_tx.clone();
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let id = 1000 + writer * 1_000_000 + i;
                if items.insert_one(doc! {"_id": id, "single": true}).await.is_err() {
                    // The server died under this write: it may or may not be there.
                    return;
                }
                let mut acked = acknowledged.lock().unwrap();
                acked.insert(id);
                if acked.len() >= 200 {
                    enough_tx.send_replace(true);
                }
            }
        }));
    }
    tokio::time::timeout(PATIENCE, enough.wait_for(|e| *e))
        .await
        .expect("200 acknowledged single inserts within the patience")
        .unwrap();
    // Mid-stream: both writers have a write in flight or about to be. A write whose reply had not
    // been seen when its writer stops counts as unacknowledged.
    server.sigkill().await;
    for writer in &writers {
        writer.abort();
    }
    for writer in writers {
        let _ = writer.await;
    }
    driver.shutdown().await;
    let acknowledged = acknowledged.lock().unwrap().clone();

    let server = DocwireProcess::start(&["--dbpath", dbpath]).await;
    let driver = client(&server.uri()).await;
    let items: Collection<Document> = driver.database("durable").collection("items");
    let found = all_ids(&items).await;
    let missing: Vec<i64> = (0..500)
        .chain(acknowledged.iter().copied())
        .filter(|id| !found.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged writes lost after SIGKILL: {missing:?} (of {} acknowledged singles)",
        acknowledged.len()
    );
    // Nothing else is there but, at most, the one write each writer had in flight.
    let extra = found.len() - 500 - acknowledged.len();
    assert!(extra <= 2, "{extra} unacknowledged documents appeared");
    // The restarted server takes writes on the recovered file.
    items
        .insert_one(doc! {"_id": -1_i64})
        .await
        .expect("an insert after recovery");
    driver.shutdown().await;
    server.sigkill().await;
}
