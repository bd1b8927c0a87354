//! Shared pieces of the storage conformance suites: a temp dir, the macro that runs each test against
//! both engines, and document helpers.
#![allow(dead_code)]

use std::ops::Bound;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use bson::{Bson, Document, RawDocumentBuf};
use docwire_db::storage::{Direction, ReadTxn, StorageEngine};

/// A directory under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, AtomicOrdering::Relaxed);
        let path = std::env::temp_dir().join(format!("docwire-storage-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs each named test (a `fn(&dyn StorageEngine)` of the including file) against both engines.
#[macro_export]
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[test] fn $name() { super::$name(&docwire_db::storage::MemoryEngine::new()); })*
        }
        mod redb {
            $(#[test] fn $name() {
                let dir = super::TempDir::new();
                super::$name(&docwire_db::storage::RedbEngine::open(&dir.0.join("data")).unwrap());
            })*
        }
    };
}

/// The namespace the suites use.
pub const NS: &str = "test.c";

/// A document as raw bytes.
pub fn raw(d: Document) -> RawDocumentBuf {
    RawDocumentBuf::try_from(&d).unwrap()
}

/// Raw bytes as a document.
pub fn to_doc(r: &RawDocumentBuf) -> Document {
    Document::try_from(r).unwrap()
}

/// Inserts `docs` into NS (created if needed) and commits.
pub fn seed(engine: &dyn StorageEngine, docs: Vec<Document>) {
    let mut w = engine.begin_write().unwrap();
    w.ensure_collection(NS).unwrap();
    for d in docs {
        w.insert(NS, &raw(d)).unwrap();
    }
    w.commit().unwrap();
}

/// The _ids a record iterator yields.
pub fn ids(iter: docwire_db::storage::RecordIter<'_>) -> Vec<Bson> {
    iter.map(|r| to_doc(&r.unwrap().doc).get("_id").unwrap().clone())
        .collect()
}

/// The _ids of a collection scan of NS.
pub fn scan_ids(r: &dyn ReadTxn, direction: Direction) -> Vec<Bson> {
    ids(r.scan(NS, Bound::Unbounded, direction).unwrap())
}

/// The _ids of an index scan of NS.
pub fn index_ids(
    r: &dyn ReadTxn,
    index: &str,
    lower: Bound<&Bson>,
    upper: Bound<&Bson>,
    direction: Direction,
) -> Vec<Bson> {
    ids(r.index_scan(NS, index, lower, upper, direction).unwrap())
}

/// Int32 values.
pub fn ints(v: &[i32]) -> Vec<Bson> {
    v.iter().map(|i| Bson::Int32(*i)).collect()
}
