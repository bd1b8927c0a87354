//! Failover through `docwire proxy`: the Rust driver writes (retryable writes, the driver's default)
//! through a proxy in front of a role-simulated three-member set while the primary steps down, or is
//! stopped; the writes keep being acknowledged, and afterwards every acknowledged write is present exactly
//! once across the members. Role simulation does not replicate data, so each member is read directly and
//! the union is checked: a write the old primary applied is not applied again on the new one (the proxy
//! retries only what was not applied, and the driver's retries carry the same txnNumber).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bson::{Document, doc};
use docwire_proxy::{RunningProxy, start_proxy};
use docwire_server::RunningServer;
use docwire_tests::PATIENCE;
use docwire_tests::proxy::{SET, free_ports, proxy_config};
use futures::TryStreamExt;
use mongodb::Client;
use mongodb::options::ClientOptions;
use tokio::sync::Mutex;

async fn start_member(port: u16, members: &str, dbpath: &std::path::Path) -> RunningServer {
    let port = port.to_string();
    let dbpath = dbpath.to_str().unwrap();
    let flags = [
        "--port",
        port.as_str(),
        "--nounixsocket",
        "--dbpath",
        dbpath,
        "--replSet",
        SET,
        "--replSetMembers",
        members,
    ];
    let settings = docwire_server::Settings::from_flags(flags).unwrap();
    docwire_server::start(&settings, None)
        .await
        .unwrap_or_else(|e| panic!("cannot start a member on port {port}: {e:#}"))
}

async fn proxy_for(hosts: &[String]) -> RunningProxy {
    let uri = format!("mongodb://{}/?replicaSet={SET}", hosts.join(","));
    let mut config = proxy_config(&uri);
    config.monitor.hello_timeout = Duration::from_secs(2);
    start_proxy(config).await.unwrap()
}

async fn driver(uri: &str) -> Client {
    let mut options = ClientOptions::parse(uri).await.unwrap();
    options.server_selection_timeout = Some(PATIENCE);
    Client::with_options(options).unwrap()
}

/// The member that calls itself primary.
async fn primary(hosts: &[String]) -> String {
    tokio::time::timeout(PATIENCE, async {
        loop {
            for host in hosts {
                let Ok(client) = Client::with_uri_str(format!(
                    "mongodb://{host}/?directConnection=true&serverSelectionTimeoutMS=500"
                ))
                .await
                else {
                    continue;
                };
                if let Ok(hello) = client.database("admin").run_command(doc! {"hello": 1}).await
                    && hello.get_bool("isWritablePrimary").unwrap_or(false)
                {
                    return host.clone();
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("a primary within the patience")
}

/// Every `_id` a member holds in test.events (read directly; a secondary serves secondaryPreferred).
async fn ids_on(host: &str) -> Vec<i64> {
    let client = Client::with_uri_str(format!(
        "mongodb://{host}/?directConnection=true&readPreference=secondaryPreferred"
    ))
    .await
    .unwrap();
    let docs: Vec<Document> = client
        .database("test")
        .collection::<Document>("events")
        .find(doc! {})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    docs.iter().map(|d| d.get_i64("_id").unwrap()).collect()
}

struct Writer {
    acknowledged: Arc<Mutex<Vec<i64>>>,
    errors: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

/// Inserts `{_id: n}` for n = 0, 1, 2... one at a time through `client` until stopped.
fn start_writer(client: Client) -> Writer {
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let task = {
        let (acknowledged, errors, stop) = (acknowledged.clone(), errors.clone(), stop.clone());
        tokio::spawn(async move {
            let events = client.database("test").collection::<Document>("events");
            let mut n: i64 = 0;
            while !stop.load(Ordering::Relaxed) {
                match events.insert_one(doc! {"_id": n}).await {
                    Ok(_) => acknowledged.lock().await.push(n),
                    Err(e) => errors.lock().await.push(format!("{n}: {e}")),
                }
                n += 1;
            }
        })
    };
    Writer {
        acknowledged,
        errors,
        stop,
        task,
    }
}

impl Writer {
    async fn count(&self) -> usize {
        self.acknowledged.lock().await.len()
    }

    async fn wait_for(&self, total: usize) {
        tokio::time::timeout(PATIENCE, async {
            while self.count().await < total {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("only {} writes acknowledged, wanted {total}", 0));
    }

    async fn finish(self) -> (Vec<i64>, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap();
        let acknowledged = self.acknowledged.lock().await.clone();
        let errors = self.errors.lock().await.clone();
        (acknowledged, errors)
    }
}

/// How many times each id is held across `hosts`.
async fn copies(hosts: &[String]) -> HashMap<i64, usize> {
    let mut copies = HashMap::new();
    for host in hosts {
        for id in ids_on(host).await {
            *copies.entry(id).or_insert(0) += 1;
        }
    }
    copies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_through_the_proxy_survive_a_step_down_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let ports = free_ports(3);
    let hosts: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let members = hosts.join(",");
    let mut servers = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        servers.push(start_member(*port, &members, &dir.path().join(i.to_string())).await);
    }
    let old = primary(&hosts).await;
    let proxy = proxy_for(&hosts).await;
    let writer = start_writer(driver(&proxy.uri()).await);
    writer.wait_for(100).await;

    let direct = driver(&format!("mongodb://{old}/?directConnection=true")).await;
    let stepped = direct
        .database("admin")
        .run_command(doc! {"replSetStepDown": 60, "force": false})
        .await
        .expect("the primary steps down");
    assert_eq!(stepped.get_f64("ok").ok(), Some(1.0), "{stepped}");
    let at_step_down = writer.count().await;
    writer.wait_for(at_step_down + 100).await;
    let (acknowledged, errors) = writer.finish().await;

    let new = primary(&hosts).await;
    assert_ne!(new, old, "another member took over");
    assert!(errors.is_empty(), "the client saw errors: {errors:?}");
    let copies = copies(&hosts).await;
    for id in &acknowledged {
        assert_eq!(
            copies.get(id),
            Some(&1),
            "acknowledged write {id} is held {:?} times",
            copies.get(id)
        );
    }
    let on_new = ids_on(&new).await;
    assert!(
        !on_new.is_empty(),
        "writes after the step-down went to the new primary"
    );
    // proxyStats saw the failover: at least one retry or the writes would have failed.
    let stats = driver(&proxy.uri())
        .await
        .database("admin")
        .run_command(doc! {"proxyStats": 1})
        .await
        .unwrap();
    assert!(
        stats.get_i64("totalRequests").unwrap() >= acknowledged.len() as i64,
        "{stats}"
    );
    eprintln!("proxyStats after the step-down: {stats}");

    assert!(proxy.shutdown(Duration::from_secs(5)).await);
    for server in servers {
        server.shutdown(Duration::from_secs(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_through_the_proxy_survive_a_stopped_primary() {
    let dir = tempfile::tempdir().unwrap();
    let ports = free_ports(3);
    let hosts: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let members = hosts.join(",");
    let mut servers = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        servers.push(Some(
            start_member(*port, &members, &dir.path().join(i.to_string())).await,
        ));
    }
    let old = primary(&hosts).await;
    let old_index = hosts.iter().position(|h| *h == old).unwrap();
    let proxy = proxy_for(&hosts).await;
    let writer = start_writer(driver(&proxy.uri()).await);
    writer.wait_for(100).await;

    // The primary goes away at once (no grace): in-flight requests see their connections close.
    let stopped = servers[old_index].take().unwrap();
    stopped.shutdown(Duration::ZERO).await;
    let at_stop = writer.count().await;
    writer.wait_for(at_stop + 100).await;
    let (acknowledged, errors) = writer.finish().await;
    assert!(errors.is_empty(), "the client saw errors: {errors:?}");

    let new = primary(&hosts).await;
    assert_ne!(new, old, "another member took over");
    assert!(
        !ids_on(&new).await.is_empty(),
        "writes after the stop went to the new primary"
    );
    // Bring the old member back on its data to count what it holds.
    let restarted = start_member(
        ports[old_index],
        &members,
        &dir.path().join(old_index.to_string()),
    )
    .await;
    let copies = copies(&hosts).await;
    let missing: Vec<&i64> = acknowledged
        .iter()
        .filter(|id| !copies.contains_key(id))
        .collect();
    assert!(missing.is_empty(), "acknowledged writes lost: {missing:?}");
    // A set that replicates would roll back a write the dead primary applied but never acknowledged;
    // without replication that one write (there is one writer) may be held by both members.
    let twice: Vec<(&i64, &usize)> = copies.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.len() <= 1, "writes applied more than once: {twice:?}");

    assert!(proxy.shutdown(Duration::from_secs(5)).await);
    restarted.shutdown(Duration::from_secs(5)).await;
    for server in servers.into_iter().flatten() {
        server.shutdown(Duration::from_secs(5)).await;
    }
}
