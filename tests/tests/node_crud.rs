//! The Node driver 7.9 runs the CRUD scenario (tests/drivers/node_crud.mjs, checked by
//! `docwire_tests::crud`) against an in-process docwire's embedded database (redb on a temp dir). The
//! driver has no exhaust cursor (it accepts the flag and sends ordinary getMores); the script says so.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use docwire_tests::crud::{Exhaust, assert_crud};
use docwire_tests::{driver_script, last_json, node_modules, run_client, start_server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_driver_crud_redb() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let server = start_server(&["--dbpath", dir.path().to_str().unwrap()], None).await;
    let script = driver_script("node_crud.mjs");
    let modules = node_modules();
    let stdout = run_client(
        Path::new("node"),
        &[script.to_str().unwrap(), &server.uri(), modules.to_str().unwrap()],
        &[],
    )
    .await;
    assert_crud(&last_json(&stdout), Exhaust::Unsupported);
    assert!(server.shutdown(Duration::from_secs(5)).await);
}
