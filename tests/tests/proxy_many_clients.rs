//! 1,000 concurrent client connections (docwire's own wire client: a handshake, then commands) through
//! a proxy whose pool may open at most 10 connections to its upstream: every client gets its own correct
//! answers, the upstream sees at most 10 pooled connections (plus the proxy's monitor connection,
//! counted apart by its appName), and 1,000 idle clients hold no upstream connection at all.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bson::{Bson, Document, doc};
use docwire_proxy::RunningProxy;
use docwire_tests::proxy::{address, number, proxy_config, start, wire};
use docwire_tests::start_server;
use docwire_transport::client::AsyncDbClient;
use futures::StreamExt;

const CLIENTS: usize = 1000;
const MAX_UPSTREAM: i64 = 10;
/// How many connections are being opened at once (the listen backlog stays small).
const CONNECTING: usize = 64;

async fn start_capped_proxy(upstream: &str) -> RunningProxy {
    let mut config = proxy_config(upstream);
    config.pool.max_connections = usize::try_from(MAX_UPSTREAM).unwrap();
    // 1,000 requests queue for 10 connections: give the queue room on a busy machine.
    config.checkout_timeout = Duration::from_secs(30);
    start(config).await
}

/// `CLIENTS` handshaken connections to `host`, all open at once.
async fn connect_all(host: &str) -> Vec<AsyncDbClient> {
    let clients: Vec<AsyncDbClient> = futures::stream::iter(0..CLIENTS)
        .map(|_| wire(host))
        .buffer_unordered(CONNECTING)
        .collect()
        .await;
    assert_eq!(clients.len(), CLIENTS);
    clients
}

/// The upstream's open connections whose handshake named `app_name`.
async fn connections_from(direct: &mut AsyncDbClient, app_name: &str) -> i64 {
    let reply = direct
        .run_command("admin", doc! {"currentOp": 1, "$all": true, "appName": app_name})
        .await
        .unwrap();
    i64::try_from(reply.get_array("inprog").unwrap().len()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_clients_share_ten_upstream_connections() {
    let server = start_server(&[], None).await;
    let upstream = server.addrs[0].to_string();
    // Opened before the baseline, so its own connection is not counted below.
    let mut direct = wire(&upstream).await;
    let before = direct
        .run_command("admin", doc! {"serverStatus": 1})
        .await
        .unwrap();
    let proxy = start_capped_proxy(&upstream).await;
    let mut clients = connect_all(&address(&proxy)).await;

    // Every client, at once: an insert of its own document, then a find of it.
    let tasks: Vec<_> = clients
        .drain(..)
        .enumerate()
        .map(|(i, mut client)| {
            tokio::spawn(async move {
                let i = i32::try_from(i).unwrap();
                let inserted = client
                    .run_command(
                        "load",
                        doc! {"insert": "clients", "documents": [{"_id": i, "owner": format!("c{i}")}]},
                    )
                    .await
                    .unwrap();
                let found = client
                    .run_command("load", doc! {"find": "clients", "filter": {"_id": i}})
                    .await
                    .unwrap();
                (i, inserted, found, client)
            })
        })
        .collect();
    for task in tasks {
        let (i, inserted, found, client) = task.await.unwrap();
        assert_eq!(number(&inserted, "n"), 1, "client {i}: {inserted}");
        let batch = found
            .get_document("cursor")
            .unwrap()
            .get_array("firstBatch")
            .unwrap();
        let want = Bson::Document(doc! {"_id": i, "owner": format!("c{i}")});
        assert_eq!(batch, &vec![want], "client {i}: {found}");
        clients.push(client);
    }
    assert_eq!(clients.len(), CLIENTS);

    // The proxy's pool opened at most 10 connections to the upstream...
    let proxy_host = address(&proxy);
    let mut status_client = wire(&proxy_host).await;
    let pool = status_client
        .run_command("admin", doc! {"connPoolStats": 1})
        .await
        .unwrap();
    let pooled = number(&pool, "totalCreated");
    assert!(
        (1..=MAX_UPSTREAM).contains(&pooled),
        "{pooled} pooled connections: {pool}"
    );
    let status = status_client
        .run_command("admin", doc! {"serverStatus": 1})
        .await
        .unwrap();
    assert!(
        number(&status, "connections.current") > i64::try_from(CLIENTS).unwrap(),
        "{status}"
    );

    // ...and so says the upstream: everything it accepted since the baseline is the pool's connections
    // and the proxy's replica-set monitor's (which checks the server on its own connection).
    let after = direct
        .run_command("admin", doc! {"serverStatus": 1})
        .await
        .unwrap();
    let accepted = number(&after, "connections.totalCreated") - number(&before, "connections.totalCreated");
    let open_pooled = connections_from(&mut direct, "docwire proxy").await;
    let monitor = connections_from(&mut direct, "docwire proxy monitor").await;
    assert!((1..=2).contains(&monitor), "{monitor} monitor connections");
    assert!(
        open_pooled <= MAX_UPSTREAM,
        "{open_pooled} pooled connections open upstream"
    );
    assert!(
        accepted <= MAX_UPSTREAM + monitor,
        "the upstream accepted {accepted} connections: at most {MAX_UPSTREAM} pooled and {monitor} for the monitor"
    );
    println!("{CLIENTS} clients over {pooled} pooled upstream connections ({accepted} accepted upstream)");

    drop(clients);
    assert!(proxy.shutdown(Duration::from_secs(5)).await);
    assert!(server.shutdown(Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_clients_hold_no_upstream_connection() {
    let server = start_server(&[], None).await;
    let upstream = server.addrs[0].to_string();
    let proxy = start_capped_proxy(&upstream).await;
    let proxy_host = address(&proxy);
    let mut clients = connect_all(&proxy_host).await;

    // One ping each, all at once; the ping goes upstream (the proxy does not answer it itself).
    let tasks: Vec<_> = clients
        .drain(..)
        .map(|mut client| {
            tokio::spawn(async move {
                let reply = client.run_command("admin", doc! {"ping": 1}).await.unwrap();
                (reply, client)
            })
        })
        .collect();
    for task in tasks {
        let (reply, client) = task.await.unwrap();
        assert_eq!(number(&reply, "ok"), 1, "{reply}");
        clients.push(client);
    }

    // All 1,000 stay connected and idle: the pool lends nothing, nothing is pinned.
    let mut status_client = wire(&proxy_host).await;
    let stats = status_client
        .run_command("admin", doc! {"proxyStats": 1})
        .await
        .unwrap();
    assert_eq!(
        number(&stats, "commands.ping.count"),
        i64::try_from(CLIENTS).unwrap(),
        "every ping was forwarded: {stats}"
    );
    let status = status_client
        .run_command("admin", doc! {"serverStatus": 1})
        .await
        .unwrap();
    assert!(
        number(&status, "connections.current") > i64::try_from(CLIENTS).unwrap(),
        "{status}"
    );
    let pool: &Document = status
        .get_document("proxy")
        .unwrap()
        .get_document("pool")
        .unwrap();
    assert_eq!(
        number(pool, "totalInUse"),
        0,
        "idle clients hold no upstream connection: {pool}"
    );
    assert!(number(pool, "totalCreated") <= MAX_UPSTREAM, "{pool}");
    assert_eq!(number(&status, "proxy.pinned.connections"), 0, "{status}");

    drop(clients);
    assert!(proxy.shutdown(Duration::from_secs(5)).await);
    assert!(server.shutdown(Duration::from_secs(5)).await);
}
