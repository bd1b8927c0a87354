//! pymongo, the Node driver and the Rust driver run the CRUD scenario (`docwire_tests::crud`) through a
//! docwire proxy, in front of one docwire server and in front of a role-simulated three-member replica
//! set (no replication: drivers send no read preference, so every read goes to the primary, which holds
//! the data). pymongo's exhaust cursor streams through the proxy (the upstream walks its exhaust states);
//! the other two drivers have none. Afterwards the proxy's connPoolStats shows the whole scenario reached
//! the upstream over a few pooled connections, all to the primary, and its proxyStats how many requests
//! went over them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use bson::doc;
use docwire_proxy::RunningProxy;
use docwire_tests::crud::{Exhaust, assert_crud};
use docwire_tests::proxy::{ReplicaSet, address, command, number, proxy_config, start};
use docwire_tests::{
    State, Transitions, driver_script, last_json, node_modules, python, run_client, rust_crud, start_server,
};
use serde_json::Value;

/// The most upstream connections a sequential driver's scenario may take: the pool's minimum, one more
/// the pool may open while a connection is being returned, and one for a w:0 write in flight.
const FEW: i64 = 4;

/// One reply of an exhaust stream followed by the next, on the upstream.
const EXHAUST: [State; 4] = [
    State::ProcessExhaust,
    State::SinkMoreToCome,
    State::SinkWait,
    State::ProcessExhaust,
];

/// The upstream this scenario runs against.
#[derive(Clone, Copy)]
enum Upstream {
    /// One docwire server.
    Single,
    /// A role-simulated three-member replica set.
    ReplicaSet,
}

/// Which driver runs the scenario.
#[derive(Clone, Copy)]
enum Driver {
    Pymongo,
    Node,
    Rust,
}

/// The driver's report, and whether the driver has an exhaust cursor.
async fn run_driver(driver: Driver, proxy: &RunningProxy) -> (Value, Exhaust) {
    let uri = proxy.uri();
    match driver {
        Driver::Pymongo => {
            let script = driver_script("pymongo_crud.py");
            let stdout = run_client(&python(), &[script.to_str().unwrap(), &uri], &[]).await;
            (last_json(&stdout), Exhaust::Supported)
        }
        Driver::Node => {
            let script = driver_script("node_crud.mjs");
            let modules = node_modules();
            let stdout = run_client(
                Path::new("node"),
                &[script.to_str().unwrap(), &uri, modules.to_str().unwrap()],
                &[],
            )
            .await;
            (last_json(&stdout), Exhaust::Unsupported)
        }
        Driver::Rust => (
            rust_crud::scenario(&uri, &address(proxy)).await,
            Exhaust::Unsupported,
        ),
    }
}

async fn crud_through_proxy(driver: Driver, upstream: Upstream) {
    let (server, set, transitions) = match upstream {
        Upstream::Single => {
            let transitions = Transitions::new();
            let server = start_server(&[], Some(&transitions)).await;
            (Some(server), None, Some(transitions))
        }
        Upstream::ReplicaSet => (None, Some(ReplicaSet::start().await), None),
    };
    let upstream_uri = match (&server, &set) {
        (Some(server), _) => server.addrs[0].to_string(),
        (_, Some(set)) => set.uri(),
        _ => unreachable!(),
    };
    let proxy = start(proxy_config(&upstream_uri)).await;

    let (report, exhaust) = run_driver(driver, &proxy).await;
    assert_crud(&report, exhaust);
    if exhaust == Exhaust::Supported {
        // The exhaust cursor's getMores ran on one client connection...
        let connections = report["steps"]["exhaust"]["serverConnectionIds"].as_array();
        assert_eq!(connections.map(Vec::len), Some(1), "{report}");
        // ...and streamed from the upstream too.
        if let Some(transitions) = &transitions {
            transitions
                .wait_until("the upstream's exhaust stream", |t| {
                    !t.sessions_that_walked(&EXHAUST).is_empty()
                })
                .await;
        }
    }

    // The whole scenario went over a few pooled upstream connections, all to the primary.
    let proxy_host = address(&proxy);
    let pool = command(&proxy_host, "admin", doc! {"connPoolStats": 1}).await;
    let stats = command(&proxy_host, "admin", doc! {"proxyStats": 1}).await;
    let created = number(&pool, "totalCreated");
    let requests = number(&stats, "totalRequests");
    assert!(
        (1..=FEW).contains(&created),
        "{created} upstream connections for the scenario: {pool}"
    );
    assert!(requests > 100, "the scenario's requests were forwarded: {stats}");
    let primary = match &set {
        Some(set) => set.hosts[0].clone(),
        None => upstream_uri.clone(),
    };
    let hosts = pool.get_document("hosts").unwrap();
    assert_eq!(
        hosts.keys().collect::<Vec<_>>(),
        [&primary],
        "only the primary was needed: {pool}"
    );
    println!("{requests} requests over {created} upstream connection(s)");

    assert!(proxy.shutdown(Duration::from_secs(5)).await);
    if let Some(server) = server {
        assert!(server.shutdown(Duration::from_secs(5)).await);
    }
    if let Some(set) = set {
        set.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pymongo_crud_through_a_proxy_to_one_server() {
    crud_through_proxy(Driver::Pymongo, Upstream::Single).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pymongo_crud_through_a_proxy_to_a_replica_set() {
    crud_through_proxy(Driver::Pymongo, Upstream::ReplicaSet).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_crud_through_a_proxy_to_one_server() {
    crud_through_proxy(Driver::Node, Upstream::Single).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_crud_through_a_proxy_to_a_replica_set() {
    crud_through_proxy(Driver::Node, Upstream::ReplicaSet).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_driver_crud_through_a_proxy_to_one_server() {
    crud_through_proxy(Driver::Rust, Upstream::Single).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_driver_crud_through_a_proxy_to_a_replica_set() {
    crud_through_proxy(Driver::Rust, Upstream::ReplicaSet).await;
}
