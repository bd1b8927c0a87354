//! pymongo 4.20 runs the CRUD scenario (tests/drivers/pymongo_crud.py, checked by
//! `docwire_tests::crud`) against an in-process docwire's embedded database, under both service
//! executors: its exhaust cursor (CursorType.EXHAUST) streams getMore replies with moreToCome.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use docwire_tests::crud::{Exhaust, assert_crud};
use docwire_tests::{State, Transitions, driver_script, last_json, python, run_client, start_server};

/// One reply of an exhaust stream followed by the next.
const EXHAUST: [State; 4] = [
    State::ProcessExhaust,
    State::SinkMoreToCome,
    State::SinkWait,
    State::ProcessExhaust,
];

async fn pymongo_crud(executor: &str, engine_flags: &[&str]) {
    let transitions = Transitions::new();
    let mut flags = vec!["--serviceExecutor", executor];
    flags.extend_from_slice(engine_flags);
    let server = start_server(&flags, Some(&transitions)).await;
    let script = driver_script("pymongo_crud.py");
    let stdout = run_client(&python(), &[script.to_str().unwrap(), &server.uri()], &[]).await;
    let report = last_json(&stdout);

    // The exhaust cursor's getMores ran on one server connection, whose replies streamed.
    let connections = report["steps"]["exhaust"]["serverConnectionIds"]
        .as_array()
        .expect("the exhaust step names its server connection");
    assert_eq!(connections.len(), 1, "{report}");
    let connection = connections[0].as_u64().expect("a connection id");
    transitions
        .wait_until("the exhaust cursor's stream", |t| {
            t.session_walked(connection, &EXHAUST)
        })
        .await;
    assert_crud(&report, Exhaust::Supported);
    assert!(server.shutdown(Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pymongo_crud_in_memory_async_executor() {
    pymongo_crud("async", &["--storageEngine", "inMemory"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pymongo_crud_redb_synchronous_executor() {
    let dir = tempfile::tempdir().expect("a temp dir");
    pymongo_crud("synchronous", &["--dbpath", dir.path().to_str().unwrap()]).await;
}
