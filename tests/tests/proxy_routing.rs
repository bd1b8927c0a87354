//! Routing through the proxy in front of a role-simulated three-member replica set (roles only, no
//! replication: each member's data is its own, so what a read returns says which member served it). The
//! Rust driver connects to the proxy; the proxy's request log (a JSON-lines file) names the upstream of
//! every request, and the members' serverStatus opcounters count what each one ran.
//!
//! - Writes go to the primary; a read with readPreference secondary is served by a secondary; proxyStats
//!   counts the commands run.
//! - A cursor opened on a secondary is read to its end by getMores that go to that secondary (elsewhere
//!   they would fail with CursorNotFound); ProxyMode::Primary sends the same secondary read to the
//!   primary; a transaction's statements and its commit all go to one host.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use bson::{Document, doc};
use docwire_proxy::request_log::RequestLogConfig;
use docwire_proxy::{ProxyMode, RunningProxy};
use docwire_tests::PATIENCE;
use docwire_tests::proxy::{ReplicaSet, address, command, number, proxy_config, start, wait_until_primary};
use futures::TryStreamExt;
use mongodb::options::{ClientOptions, ReadPreference, SelectionCriteria};
use mongodb::{Client, Collection};
use serde_json::Value;

/// A proxy in front of `set` in `mode`, logging every request to `log`.
async fn proxy_to(set: &ReplicaSet, mode: ProxyMode, log: &Path) -> RunningProxy {
    let mut config = proxy_config(&set.uri());
    config.mode = mode;
    config.request_log = RequestLogConfig {
        file: Some(log.to_path_buf()),
        sample_rate: 1.0,
        ..RequestLogConfig::default()
    };
    start(config).await
}

async fn driver(proxy: &RunningProxy) -> Client {
    let mut options = ClientOptions::parse(proxy.uri()).await.unwrap();
    options.server_selection_timeout = Some(PATIENCE);
    Client::with_options(options).unwrap()
}

/// The request log's lines so far, as (command, ns, upstream).
fn logged(proxy: &RunningProxy, log: &Path) -> Vec<(String, String, String)> {
    proxy.log.flush();
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            let field = |name: &str| v[name].as_str().unwrap_or_default().to_owned();
            (field("command"), field("ns"), field("upstream"))
        })
        .collect()
}

/// The upstreams of the logged `command`s on `ns`.
fn upstreams_of(lines: &[(String, String, String)], command: &str, ns: &str) -> Vec<String> {
    lines
        .iter()
        .filter(|(c, n, _)| c == command && n == ns)
        .map(|(_, _, host)| host.clone())
        .collect()
}

fn secondary() -> SelectionCriteria {
    SelectionCriteria::ReadPreference(ReadPreference::Secondary {
        options: Default::default(),
    })
}

async fn queries(host: &str) -> i64 {
    number(
        &command(host, "admin", doc! {"serverStatus": 1}).await,
        "opcounters.query",
    )
}

async fn all(items: &Collection<Document>, criteria: Option<SelectionCriteria>) -> Vec<Document> {
    let mut find = items.find(doc! {}).batch_size(3);
    if let Some(criteria) = criteria {
        find = find.selection_criteria(criteria);
    }
    find.await.unwrap().try_collect().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_go_to_the_primary_and_secondary_reads_to_a_secondary() {
    let set = ReplicaSet::start().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("requests.log");
    let proxy = proxy_to(&set, ProxyMode::Normal, &log).await;
    let client = driver(&proxy).await;
    let items: Collection<Document> = client.database("shop").collection("items");
    let primary = &set.hosts[0];
    let secondaries = &set.hosts[1..];

    items.insert_many((0..10).map(|i| doc! {"_id": i})).await.unwrap();
    let before: Vec<i64> = futures::future::join_all(set.hosts.iter().map(|h| queries(h))).await;
    // The primary has the documents; a secondary, with no replication, has none.
    assert_eq!(all(&items, None).await.len(), 10);
    assert_eq!(all(&items, Some(secondary())).await.len(), 0);
    let after: Vec<i64> = futures::future::join_all(set.hosts.iter().map(|h| queries(h))).await;
    assert_eq!(after[0] - before[0], 1, "the primary ran one find");
    assert_eq!(
        (after[1] - before[1]) + (after[2] - before[2]),
        1,
        "a secondary ran the other"
    );

    let lines = logged(&proxy, &log);
    assert_eq!(
        upstreams_of(&lines, "insert", "shop.items"),
        [primary.as_str()],
        "{lines:?}"
    );
    let finds = upstreams_of(&lines, "find", "shop.items");
    assert_eq!(finds.len(), 2, "{lines:?}");
    assert_eq!(&finds[0], primary, "{lines:?}");
    assert!(secondaries.contains(&finds[1]), "{lines:?}");

    let stats = command(&address(&proxy), "admin", doc! {"proxyStats": 1}).await;
    assert_eq!(number(&stats, "commands.insert.count"), 1, "{stats}");
    assert_eq!(number(&stats, "commands.find.count"), 2, "{stats}");
    assert_eq!(number(&stats, "commands.find.errors"), 0, "{stats}");
    assert!(number(&stats, "totalRequests") >= 3, "{stats}");

    client.shutdown().await;
    assert!(proxy.shutdown(Duration::from_secs(5)).await);
    set.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_transactions_and_primary_mode_stay_on_their_host() {
    let mut set = ReplicaSet::start().await;
    let (old_primary, new_primary) = (set.hosts[0].clone(), set.hosts[1].clone());
    // The documents go to the first primary, which then steps down: it is a secondary holding data.
    let docs: Vec<Document> = (0..20).map(|i| doc! {"_id": i}).collect();
    command(&old_primary, "shop", doc! {"insert": "items", "documents": docs}).await;
    command(&old_primary, "admin", doc! {"replSetStepDown": 60}).await;
    wait_until_primary(&new_primary).await;
    // The third member goes away, so the old primary is the only secondary to read from.
    let third = set.members.pop().unwrap();
    assert!(third.shutdown(Duration::from_secs(5)).await);

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("requests.log");
    let proxy = proxy_to(&set, ProxyMode::Normal, &log).await;
    let client = driver(&proxy).await;
    let items: Collection<Document> = client.database("shop").collection("items");

    // A secondary read opens its cursor on the old primary; every getMore follows it there.
    let read = all(&items, Some(secondary())).await;
    assert_eq!(read.len(), 20, "the secondary's documents, across getMores");
    let lines = logged(&proxy, &log);
    assert_eq!(
        upstreams_of(&lines, "find", "shop.items"),
        [old_primary.as_str()],
        "{lines:?}"
    );
    let get_mores = upstreams_of(&lines, "getMore", "shop.items");
    assert!(
        get_mores.len() >= 6,
        "17 documents after the first batch, 3 per getMore: {lines:?}"
    );
    assert!(get_mores.iter().all(|h| *h == old_primary), "{lines:?}");

    // A transaction: its statements and its commit go to one host, the primary.
    let txn: Collection<Document> = client.database("shop").collection("txn");
    let mut session = client.start_session().await.unwrap();
    session.start_transaction().await.unwrap();
    let inserted = txn.insert_one(doc! {"_id": 1}).session(&mut session).await;
    let found = txn.find_one(doc! {"_id": 1}).session(&mut session).await;
    let committed = session.commit_transaction().await;
    // docwire's storage has no multi-document transactions: what the upstream answered is shown, the
    // routing is what is checked.
    println!("transaction: insert {inserted:?}, find {found:?}, commit {committed:?}");
    let lines = logged(&proxy, &log);
    let in_transaction: Vec<&String> = lines
        .iter()
        .filter(|(c, n, _)| ((c == "insert" || c == "find") && n == "shop.txn") || c == "commitTransaction")
        .map(|(_, _, host)| host)
        .collect();
    assert_eq!(
        in_transaction.len(),
        3,
        "insert {inserted:?}, find {found:?}, commit {committed:?}: {lines:?}"
    );
    assert!(in_transaction.iter().all(|h| **h == new_primary), "{lines:?}");
    drop(session);

    // In primary mode the same secondary read goes to the primary, which has no documents.
    let primary_log = dir.path().join("primary-mode.log");
    let primary_mode = proxy_to(&set, ProxyMode::Primary, &primary_log).await;
    let primary_client = driver(&primary_mode).await;
    let items: Collection<Document> = primary_client.database("shop").collection("items");
    assert_eq!(all(&items, Some(secondary())).await.len(), 0);
    let lines = logged(&primary_mode, &primary_log);
    assert_eq!(
        upstreams_of(&lines, "find", "shop.items"),
        [new_primary.as_str()],
        "{lines:?}"
    );

    primary_client.shutdown().await;
    client.shutdown().await;
    assert!(primary_mode.shutdown(Duration::from_secs(5)).await);
    assert!(proxy.shutdown(Duration::from_secs(5)).await);
    set.shutdown().await;
}
