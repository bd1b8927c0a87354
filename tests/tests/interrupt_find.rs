//! A long-running find on the embedded database stops when told to: with maxTimeMS it fails with
//! MaxTimeMSExpired (50), and killOp from a second client — after currentOp shows the find with its
//! comment — stops it with Interrupted (11601). The scan is a non-indexed regex over 200,000 documents.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use bson::{Bson, Document, doc};
use docwire_tests::{PATIENCE, start_server};
use futures::TryStreamExt;
use mongodb::error::{Error, ErrorKind};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection};

const DOCS: i32 = 200_000;
const COMMENT: &str = "docwire interrupt test: the long find";

async fn client(uri: &str) -> Client {
    let mut options = ClientOptions::parse(uri).await.expect("the URI");
    options.server_selection_timeout = Some(PATIENCE);
    options.retry_reads = Some(false);
    Client::with_options(options).expect("a client")
}

fn code(error: &Error) -> Option<i32> {
    match error.kind.as_ref() {
        ErrorKind::Command(command) => Some(command.code),
        _ => None,
    }
}

/// A filter no document matches that the server can only answer by testing every document: a regex on
/// a field no index covers, alternatives so each test costs a little.
fn slow_filter() -> Document {
    let alternatives: Vec<Bson> = (0..16)
        .map(|i| Bson::Document(doc! {"s": {"$regex": format!("^nothing-{i}.*x$")}}))
        .collect();
    doc! {"$or": alternatives}
}

async fn fill(items: &Collection<Document>) {
    const BATCH: i32 = 20_000;
    for start in (0..DOCS).step_by(BATCH as usize) {
        items
            .insert_many((start..start + BATCH).map(|i| doc! {"_id": i, "s": format!("text {i}")}))
            .await
            .expect("insert_many");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn max_time_ms_and_kill_op_stop_a_long_find() {
    let server = start_server(&["--storageEngine", "inMemory"], None).await;
    let driver = client(&server.uri()).await;
    let items: Collection<Document> = driver.database("interrupt").collection("items");
    let filled = Instant::now();
    fill(&items).await;
    eprintln!("inserted {DOCS} documents in {:?}", filled.elapsed());

    // maxTimeMS: the deadline passes long before the scan ends.
    let error = items
        .find(slow_filter())
        .max_time(Duration::from_millis(1))
        .await
        .expect_err("a 1 ms find over 200,000 documents fails");
    assert_eq!(code(&error), Some(50), "{error}");
    assert!(error.to_string().contains("MaxTimeMSExpired"), "{error}");

    // killOp: the find runs on one client while a second finds it in currentOp and kills it.
    let scanning = {
        let items = items.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let result = items.find(slow_filter()).comment(COMMENT).await;
            let result = match result {
                Ok(cursor) => cursor.try_collect::<Vec<Document>>().await.map(|d| d.len()),
                Err(e) => Err(e),
            };
            (result, started.elapsed())
        })
    };
    let admin = client(&server.uri()).await;
    let deadline = Instant::now() + PATIENCE;
    let op = loop {
        let reply = admin
            .database("admin")
            .run_command(doc! {"currentOp": 1, "command.comment": COMMENT})
            .await
            .expect("currentOp");
        let inprog = reply.get_array("inprog").expect("inprog").clone();
        if let Some(Bson::Document(op)) = inprog.into_iter().next() {
            break op;
        }
        assert!(
            !scanning.is_finished() && Instant::now() < deadline,
            "currentOp never showed the find (it ended first, or never started)"
        );
    };
    assert_eq!(op.get_str("ns").ok(), Some("interrupt.items"), "{op}");
    assert_eq!(op.get_str("op").ok(), Some("query"), "{op}");
    assert_eq!(op.get_bool("active").ok(), Some(true), "{op}");
    let command = op.get_document("command").expect("the op's command");
    assert!(command.contains_key("find"), "{op}");
    assert_eq!(command.get_str("comment").ok(), Some(COMMENT), "{op}");
    let opid = op.get("opid").cloned().expect("an opid");
    let killed = admin
        .database("admin")
        .run_command(doc! {"killOp": 1, "op": opid})
        .await
        .expect("killOp");
    assert_eq!(killed.get_f64("ok").ok(), Some(1.0), "{killed}");

    let (result, took) = tokio::time::timeout(PATIENCE, scanning)
        .await
        .expect("the killed find returns")
        .unwrap();
    let error = result.expect_err("the killed find fails");
    assert_eq!(code(&error), Some(11601), "{error}");
    assert!(error.to_string().contains("Interrupted"), "{error}");
    eprintln!("the find was killed after {took:?}");

    // Once it is gone, currentOp no longer shows it.
    let after = admin
        .database("admin")
        .run_command(doc! {"currentOp": 1, "command.comment": COMMENT})
        .await
        .expect("currentOp");
    assert_eq!(after.get_array("inprog").map(Vec::len).ok(), Some(0), "{after}");

    admin.shutdown().await;
    driver.shutdown().await;
    assert!(server.shutdown(Duration::from_secs(5)).await);
}
