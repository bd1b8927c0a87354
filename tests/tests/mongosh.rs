//! mongosh 2.12 (unmodified, installed by `cargo xtask drivers`) against an in-process docwire, under
//! both service executors: `--eval` pings, reads db.version() and buildInfo; at exit mongosh ends its
//! sessions with a fire-and-forget (moreToCome) OP_MSG, which the server must take without a reply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use docwire_tests::{State, Transitions, last_json, mongosh, run_client, start_server};
use serde_json::json;

const EVAL: &str = "print(JSON.stringify({ \
    ping: db.adminCommand({ ping: 1 }).ok, \
    version: db.version(), \
    buildInfo: db.adminCommand({ buildInfo: 1 }).version, \
    maxWireVersion: db.hello().maxWireVersion }))";

async fn mongosh_eval(executor: &str) {
    let transitions = Transitions::new();
    let server = start_server(&["--serviceExecutor", executor], Some(&transitions)).await;
    // A private HOME: mongosh keeps its config, history and logs there.
    let home = tempfile::tempdir().expect("a temp dir");
    let stdout = run_client(
        &mongosh(),
        &[&server.uri(), "--quiet", "--norc", "--eval", EVAL],
        &[("HOME", home.path())],
    )
    .await;
    let out = last_json(&stdout);
    assert_eq!(out["ping"], json!(1), "{out}");
    assert!(out["version"].as_str().unwrap().starts_with("8.0."), "{out}");
    assert_eq!(out["buildInfo"], out["version"], "{out}");
    assert_eq!(out["maxWireVersion"], json!(25), "{out}");

    // mongosh exited after its fire-and-forget endSessions: a moreToCome request, no reply, and the
    // session went back to reading.
    transitions
        .wait_until("mongosh's moreToCome request", |t| {
            !t.sessions_that_walked(&[State::SourceWait, State::ProcessMoreToCome, State::Source])
                .is_empty()
        })
        .await;
    assert!(server.shutdown(Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongosh_eval_async_executor() {
    mongosh_eval("async").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongosh_eval_synchronous_executor() {
    mongosh_eval("synchronous").await;
}
