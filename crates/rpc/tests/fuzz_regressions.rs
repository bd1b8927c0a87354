//! Replays every input the fuzzer ever found interesting (crashes fixed since, and seeds) through the
//! whole decode path: none may panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn every_regression_input_decodes_without_panicking() {
    let dir = format!("{}/tests/fuzz_regressions", env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        docwire_rpc::decode_all(&bytes);
        count += 1;
    }
    // The driver fixtures are always among the seeds, so an empty folder means a broken checkout.
    assert!(count >= 3, "expected regression inputs in {dir}, found {count}");
}

#[test]
fn driver_handshakes_frame_as_one_message_each() {
    for name in ["pymongo", "mongosh", "rust_driver"] {
        let path = format!(
            "{}/tests/fixtures/first_message_{name}.bin",
            env!("CARGO_MANIFEST_DIR")
        );
        assert_eq!(
            docwire_rpc::decode_all(&std::fs::read(path).unwrap()),
            1,
            "{name}"
        );
    }
}
