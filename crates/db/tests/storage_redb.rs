//! redb-specific storage tests: committed data survives reopening the file (and a SIGKILL of the
//! writing process); uncommitted data never does; the dbpath is created when missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use bson::{Bson, Document, RawDocumentBuf, doc, rawdoc};
use docwire_db::storage::{DATA_FILE, Direction, RedbEngine, StorageEngine};

/// A directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("docwire-redb-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const NS: &str = "test.c";

fn count(engine: &RedbEngine, ns: &str) -> usize {
    let r = engine.begin_read().unwrap();
    r.scan(ns, Bound::Unbounded, Direction::Forward).unwrap().count()
}

#[test]
fn dbpath_is_created_when_missing() {
    let dir = TempDir::new();
    let nested = dir.0.join("a").join("b");
    let engine = RedbEngine::open(&nested).unwrap();
    assert_eq!(engine.path(), nested.join(DATA_FILE));
    assert!(nested.join(DATA_FILE).is_file());
}

#[test]
fn committed_data_survives_reopen_and_uncommitted_does_not() {
    let dir = TempDir::new();
    {
        let engine = RedbEngine::open(&dir.0).unwrap();
        let mut w = engine.begin_write().unwrap();
        w.create_collection(NS, &doc! {"note": "kept"}).unwrap();
        w.create_index(NS, &doc! {"key": {"a": -1}, "unique": true})
            .unwrap();
        for i in 0..50 {
            w.insert(
                NS,
                &RawDocumentBuf::try_from(&doc! {"_id": i, "a": i * 2}).unwrap(),
            )
            .unwrap();
        }
        w.commit().unwrap();
        let mut w = engine.begin_write().unwrap();
        w.insert(NS, &rawdoc! {"_id": 1000, "a": -1}).unwrap();
        w.create_collection("test.lost", &Document::new()).unwrap();
        drop(w);
    }
    let engine = RedbEngine::open(&dir.0).unwrap();
    let r = engine.begin_read().unwrap();
    assert_eq!(count(&engine, NS), 50);
    assert!(r.find_by_id(NS, &Bson::Int32(1000)).unwrap().is_none());
    assert!(r.collection("test.lost").unwrap().is_none());
    let info = r.collection(NS).unwrap().unwrap();
    assert_eq!(info.options, doc! {"note": "kept"});
    assert_eq!(info.indexes[1].name, "a_-1");
    let stats = r.collection_stats(NS).unwrap();
    assert_eq!((stats.count, stats.nindexes), (50, 2));
    let top: Vec<_> = r
        .index_scan(NS, "a_-1", Bound::Unbounded, Bound::Unbounded, Direction::Forward)
        .unwrap()
        .map(|rec| {
            Document::try_from(&rec.unwrap().doc)
                .unwrap()
                .get_i32("_id")
                .unwrap()
        })
        .take(2)
        .collect();
    assert_eq!(top, vec![49, 48]);
    drop(r);
    // The unique index still holds after reopening, and new collections get fresh tables.
    let mut w = engine.begin_write().unwrap();
    assert!(w.insert(NS, &rawdoc! {"_id": 51, "a": 4}).is_err());
    w.create_collection("test.fresh", &Document::new()).unwrap();
    assert_eq!(
        w.scan("test.fresh", Bound::Unbounded, Direction::Forward)
            .unwrap()
            .count(),
        0
    );
    w.commit().unwrap();
}

/// Set (to a dbpath) when this test binary runs as the child of `sigkill_keeps_committed_writes`.
const CHILD_ENV: &str = "DOCWIRE_STORAGE_SIGKILL_CHILD";

/// The child: commits 100 single-document transactions, then leaves a big write open and waits to
/// be killed. Does nothing when run as an ordinary test.
#[test]
fn sigkill_child() {
    let Some(dbpath) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let engine = RedbEngine::open(Path::new(&dbpath)).unwrap();
    let mut w = engine.begin_write().unwrap();
    w.create_collection(NS, &Document::new()).unwrap();
    w.commit().unwrap();
    for i in 0..100 {
        let mut w = engine.begin_write().unwrap();
        w.insert(NS, &RawDocumentBuf::try_from(&doc! {"_id": i}).unwrap())
            .unwrap();
        w.commit().unwrap();
    }
    let mut w = engine.begin_write().unwrap();
    for i in 100..2000 {
        w.insert(
            NS,
            &RawDocumentBuf::try_from(&doc! {"_id": i, "pad": "x".repeat(100)}).unwrap(),
        )
        .unwrap();
    }
    println!("READY");
    loop {
        std::thread::park();
    }
}

#[test]
fn sigkill_keeps_committed_writes() {
    let dir = TempDir::new();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "sigkill_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &dir.0)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let ready = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains("READY"));
    assert!(ready, "the child never got ready");
    child.kill().unwrap(); // SIGKILL on unix.
    child.wait().unwrap();
    let engine = RedbEngine::open(&dir.0).unwrap();
    assert_eq!(count(&engine, NS), 100);
    assert_eq!(
        engine.begin_read().unwrap().collection_stats(NS).unwrap().count,
        100
    );
}
