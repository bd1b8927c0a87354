//! Rough in-process throughput of both engines (ignored by default; run with `--ignored --nocapture`
//! in release): bulk insert, w:1-style single-document commits, point reads, full scans.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ops::Bound;
use std::time::Instant;

use bson::{Bson, RawDocumentBuf, doc};
use docwire_db::storage::{Direction, MemoryEngine, RedbEngine, StorageEngine};

fn run(engine: &dyn StorageEngine, label: &str) {
    let ns = "bench.c";
    let n = 100_000;
    let docs: Vec<RawDocumentBuf> = (0..n)
        .map(|i| RawDocumentBuf::try_from(&doc! {"_id": i, "x": i % 100, "s": "some small text"}).unwrap())
        .collect();
    let t = Instant::now();
    let mut w = engine.begin_write().unwrap();
    w.ensure_collection(ns).unwrap();
    for d in &docs {
        w.insert(ns, d).unwrap();
    }
    w.commit().unwrap();
    report(label, "bulk insert (one txn)", n, t);

    let singles = 2_000;
    let t = Instant::now();
    for i in 0..singles {
        let mut w = engine.begin_write().unwrap();
        w.insert(
            ns,
            &RawDocumentBuf::try_from(&doc! {"_id": n + i, "x": 1}).unwrap(),
        )
        .unwrap();
        w.commit().unwrap();
    }
    report(label, "insert, one commit each", singles, t);

    let t = Instant::now();
    for i in 0..n {
        let r = engine.begin_read().unwrap();
        assert!(r.find_by_id(ns, &Bson::Int32(i)).unwrap().is_some());
    }
    report(label, "find by _id, one snapshot each", n, t);

    let t = Instant::now();
    let r = engine.begin_read().unwrap();
    let seen = r.scan(ns, Bound::Unbounded, Direction::Forward).unwrap().count();
    report(label, "full scan", seen as i32, t);

    let t = Instant::now();
    let mut w = engine.begin_write().unwrap();
    w.create_index(ns, &doc! {"key": {"x": 1}}).unwrap();
    w.commit().unwrap();
    report(label, "index build", n, t);
    let t = Instant::now();
    let r = engine.begin_read().unwrap();
    let seven = Bson::Int32(7);
    let hits = r
        .index_scan(
            ns,
            "x_1",
            Bound::Included(&seven),
            Bound::Included(&seven),
            Direction::Forward,
        )
        .unwrap()
        .count();
    report(label, "index equality scan (docs)", hits as i32, t);
}

fn report(engine: &str, what: &str, n: i32, t: Instant) {
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{engine:8} {what:34} {n:>7} in {:>8.3}s = {:>10.0}/s",
        secs,
        f64::from(n) / secs
    );
}

#[test]
#[ignore = "a measurement, not a check"]
fn throughput() {
    run(&MemoryEngine::new(), "inMemory");
    let dir = std::env::temp_dir().join(format!("docwire-perf-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    run(&RedbEngine::open(&dir).unwrap(), "redb");
    let _ = std::fs::remove_dir_all(&dir);
}
