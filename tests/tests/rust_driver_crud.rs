//! The Rust driver (the `mongodb` crate 3.9) runs the CRUD scenario (the same steps and checks as
//! tests/drivers/pymongo_crud.py and node_crud.mjs, via `docwire_tests::crud`) against an in-process
//! docwire's embedded database, on redb and inMemory. The driver has no exhaust cursor (it streams only
//! its monitor's hello), and it refuses w:0, so those writes go out with moreToCome on docwire's own
//! client and the driver reads them back; the report says so.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use docwire_tests::crud::{Exhaust, assert_crud};
use docwire_tests::rust_crud::scenario;
use docwire_tests::start_server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_driver_crud_redb() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let server = start_server(&["--dbpath", dir.path().to_str().unwrap()], None).await;
    let host = server.addrs[0].to_string();
    assert_crud(&scenario(&server.uri(), &host).await, Exhaust::Unsupported);
    assert!(server.shutdown(Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_driver_crud_in_memory_synchronous_executor() {
    let server = start_server(
        &["--storageEngine", "inMemory", "--serviceExecutor", "synchronous"],
        None,
    )
    .await;
    let host = server.addrs[0].to_string();
    assert_crud(&scenario(&server.uri(), &host).await, Exhaust::Unsupported);
    assert!(server.shutdown(Duration::from_secs(5)).await);
}
