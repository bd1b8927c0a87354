//! `docwire proxy` basics: the Rust driver connects to a proxy in front of an in-process docwire
//! server; ping, insert_many and find go through to the upstream, a second client sees the same data,
//! and once the upstream stops commands fail promptly while the proxy still answers handshakes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bson::{Document, doc};
use docwire_proxy::{ProxyConfig, RunningProxy, UpstreamSpec, start_proxy};
use docwire_tests::{PATIENCE, start_server};
use docwire_transport::TransportConfig;
use futures::TryStreamExt;
use mongodb::Client;
use mongodb::options::ClientOptions;

async fn client(uri: &str) -> Client {
    let mut options = ClientOptions::parse(uri)
        .await
        .expect("the driver parses the URI");
    options.server_selection_timeout = Some(PATIENCE);
    Client::with_options(options).expect("a client")
}

async fn proxy_to(upstream: &str) -> RunningProxy {
    let mut config = ProxyConfig::new(UpstreamSpec::parse(upstream).expect("a host:port"));
    config.transport = TransportConfig {
        port: 0,
        no_unix_socket: true,
        ..TransportConfig::default()
    };
    // A dead upstream is reported after this long rather than the default 10 s.
    config.monitor.selection_timeout = Duration::from_secs(2);
    start_proxy(config).await.expect("the proxy starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn driver_through_the_proxy_sees_the_upstream() {
    let server = start_server(&["--storageEngine", "inMemory"], None).await;
    let upstream = server.addrs[0].to_string();
    let proxy = proxy_to(&upstream).await;

    let first = client(&proxy.uri()).await;
    let ping = first
        .database("admin")
        .run_command(doc! {"ping": 1})
        .await
        .expect("ping through the proxy");
    assert_eq!(ping.get_f64("ok").ok(), Some(1.0), "{ping}");

    let items = first.database("shop").collection::<Document>("items");
    let inserted = items
        .insert_many(vec![
            doc! {"_id": 1, "name": "apple", "qty": 5},
            doc! {"_id": 2, "name": "pear", "qty": 0},
            doc! {"_id": 3, "name": "plum", "qty": 9},
        ])
        .await
        .expect("insert_many through the proxy");
    assert_eq!(inserted.inserted_ids.len(), 3);
    let found: Vec<Document> = items
        .find(doc! {"qty": {"$gt": 0}})
        .sort(doc! {"_id": 1})
        .await
        .expect("find through the proxy")
        .try_collect()
        .await
        .expect("the cursor");
    let names: Vec<&str> = found.iter().map(|d| d.get_str("name").unwrap()).collect();
    assert_eq!(names, ["apple", "plum"]);

    // The data is the upstream's: a direct client sees it, and so does a second client via the proxy.
    let direct = client(&server.uri()).await;
    let direct_count = direct
        .database("shop")
        .collection::<Document>("items")
        .count_documents(doc! {})
        .await
        .expect("count directly");
    assert_eq!(direct_count, 3);
    let second = client(&proxy.uri()).await;
    let second_items = second.database("shop").collection::<Document>("items");
    let pear = second_items
        .find_one(doc! {"_id": 2})
        .await
        .expect("find_one via a second client")
        .expect("the pear");
    assert_eq!(pear.get_str("name").ok(), Some("pear"));
    // Upstream errors come back as the upstream's replies.
    let duplicate = second_items.insert_one(doc! {"_id": 1}).await.unwrap_err();
    assert!(format!("{duplicate}").contains("E11000"), "{duplicate}");

    // serverStatus is the proxy's own, with a proxy section: its mode, the upstream and its pool.
    let status = first
        .database("admin")
        .run_command(doc! {"serverStatus": 1})
        .await
        .expect("serverStatus from the proxy");
    assert_eq!(status.get_str("process").ok(), Some("docwire proxy"), "{status}");
    let section = status.get_document("proxy").expect("a proxy section");
    assert_eq!(section.get_str("mode").ok(), Some("normal"), "{section}");
    let servers = section
        .get_document("upstream")
        .unwrap()
        .get_array("servers")
        .unwrap();
    assert_eq!(servers.len(), 1, "{section}");
    assert_eq!(
        servers[0].as_document().unwrap().get_str("host").ok(),
        Some(upstream.as_str()),
        "{section}"
    );
    assert!(section.get_document("pool").is_ok(), "{section}");

    // The upstream goes away: commands fail (not hang), and the proxy still answers the handshake.
    drop(direct);
    assert!(server.shutdown(Duration::from_secs(5)).await);
    let failed = tokio::time::timeout(PATIENCE, first.database("admin").run_command(doc! {"ping": 1}))
        .await
        .expect("a failed command returns instead of hanging");
    let error = failed.unwrap_err();
    // HostUnreachable when the request met the dead connection, FailedToSatisfyReadPreference (as
    // mongos says) once the monitor knows no server is there.
    let shown = format!("{error:?}");
    assert!(
        shown.contains("HostUnreachable") || shown.contains("FailedToSatisfyReadPreference"),
        "{error:?}"
    );
    let late = client(&proxy.uri()).await;
    let hello = tokio::time::timeout(PATIENCE, late.database("admin").run_command(doc! {"hello": 1}))
        .await
        .expect("hello returns")
        .expect("the proxy answers hello itself");
    assert_eq!(hello.get_bool("isWritablePrimary").ok(), Some(true), "{hello}");

    assert!(proxy.shutdown(Duration::from_secs(5)).await);
}
