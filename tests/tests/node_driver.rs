//! The Node driver 7.9 (the `mongodb` npm package, unmodified, installed by `cargo xtask drivers`)
//! against an in-process docwire, under both service executors: tests/drivers/node_smoke.mjs connects,
//! pings, runs buildInfo, accepts maxWireVersion 25, and its monitor streams awaited heartbeats.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use docwire_tests::{State, Transitions, driver_script, last_json, node_modules, run_client, start_server};
use serde_json::json;

/// One reply of an exhaust stream followed by the next (the seed's exhaust loop).
const EXHAUST: [State; 4] = [
    State::ProcessExhaust,
    State::SinkMoreToCome,
    State::SinkWait,
    State::ProcessExhaust,
];

async fn node_smoke(executor: &str) {
    let transitions = Transitions::new();
    let server = start_server(&["--serviceExecutor", executor], Some(&transitions)).await;
    let script = driver_script("node_smoke.mjs");
    let modules = node_modules();
    let stdout = run_client(
        Path::new("node"),
        &[script.to_str().unwrap(), &server.uri(), modules.to_str().unwrap()],
        &[],
    )
    .await;
    let out = last_json(&stdout);

    assert!(out["mongodb"].as_str().unwrap().starts_with("7.9."), "{out}");
    assert_eq!(out["ping"], json!(1), "{out}");
    assert!(out["version"].as_str().unwrap().starts_with("8.0."), "{out}");
    assert!(out["docwire"].is_string(), "{out}");
    assert_eq!(out["maxWireVersion"], json!(25), "{out}");
    assert_eq!(out["awaitedHeartbeat"], json!(true), "{out}");
    assert_eq!(out["heartbeatFailures"], json!([]), "{out}");

    let monitor = out["awaitedConnectionId"]
        .as_u64()
        .expect("the monitor's connectionId");
    transitions
        .wait_until("the Node driver's monitor to stream", |t| {
            t.session_walked(monitor, &EXHAUST)
        })
        .await;
    assert!(server.shutdown(Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_driver_connects_and_streams_async_executor() {
    node_smoke("async").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_driver_connects_and_streams_synchronous_executor() {
    node_smoke("synchronous").await;
}
