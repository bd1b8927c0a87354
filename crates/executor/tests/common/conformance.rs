//! Reading the shared driver-specification JSON files in place (../shared/conformance from the repo).

use std::path::{Path, PathBuf};

use bson::{Bson, Document};

/// The conformance folder, checked to exist.
pub fn root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance");
    assert!(root.is_dir(), "conformance data missing at {}", root.display());
    root
}

/// Every `.json` file under `dir`, recursively, sorted.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// A file as a BSON document (extended JSON: `$oid`, `$numberLong`).
pub fn load(path: &Path) -> Document {
    let text = std::fs::read_to_string(path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    match Bson::try_from(json).unwrap() {
        Bson::Document(doc) => doc,
        other => panic!("{}: not a document: {other:?}", path.display()),
    }
}
