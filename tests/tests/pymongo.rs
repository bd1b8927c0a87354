//! pymongo 4.20 (unmodified, installed by `cargo xtask drivers`) against an in-process docwire, under
//! both service executors: tests/drivers/pymongo_smoke.py connects, pings, runs buildInfo, accepts
//! maxWireVersion 25, sees its monitor's awaited (streamed) heartbeats, and pings with each compressor.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use docwire_tests::{State, Transitions, driver_script, last_json, python, run_client, start_server};
use serde_json::json;

/// One reply of an exhaust stream followed by the next (the seed's exhaust loop).
const EXHAUST: [State; 4] = [
    State::ProcessExhaust,
    State::SinkMoreToCome,
    State::SinkWait,
    State::ProcessExhaust,
];

async fn pymongo_smoke(executor: &str) {
    let transitions = Transitions::new();
    let server = start_server(&["--serviceExecutor", executor], Some(&transitions)).await;
    let script = driver_script("pymongo_smoke.py");
    let stdout = run_client(&python(), &[script.to_str().unwrap(), &server.uri()], &[]).await;
    let out = last_json(&stdout);

    assert!(out["pymongo"].as_str().unwrap().starts_with("4.20."), "{out}");
    assert_eq!(out["ping"], json!(1.0), "{out}");
    assert!(out["version"].as_str().unwrap().starts_with("8.0."), "{out}");
    assert_eq!(out["versionArray"][0], json!(8), "{out}");
    assert!(out["docwire"].is_string(), "{out}");
    assert_eq!(out["helloMaxWireVersion"], json!(25), "{out}");
    // pymongo's own view of the server, from its monitor: it accepted the wire versions.
    assert_eq!(out["maxWireVersion"], json!(25), "{out}");
    assert_eq!(out["serverType"], json!("Standalone"), "{out}");
    assert_eq!(out["awaitedHeartbeat"], json!(true), "{out}");
    assert_eq!(out["heartbeatFailures"], json!([]), "{out}");
    for name in ["zstd", "snappy", "zlib"] {
        assert_eq!(
            out["compressors"][name],
            json!({"ping": 1.0, "negotiated": [name]}),
            "{out}"
        );
    }

    // The awaited heartbeat came over an exhaust hello stream on the monitor's connection.
    let monitor = out["awaitedConnectionId"]
        .as_u64()
        .expect("the monitor's connectionId");
    transitions
        .wait_until("pymongo's monitor to stream", |t| {
            t.session_walked(monitor, &EXHAUST)
        })
        .await;
    assert!(server.shutdown(Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pymongo_connects_and_streams_async_executor() {
    pymongo_smoke("async").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pymongo_connects_and_streams_synchronous_executor() {
    pymongo_smoke("synchronous").await;
}
