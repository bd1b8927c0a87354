//! `ProxyStats` through its `proxyStats` document: counts, errors and retries add up, percentiles of known
//! latency sets are within the histogram's error, the command-name cap holds, and concurrent recording
//! loses nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use bson::Document;
use docwire_proxy::stats::{LatencyHistogram, MAX_COMMAND_NAMES, OTHER_COMMANDS, ProxyStats};

fn micros(n: u64) -> Duration {
    Duration::from_micros(n)
}

fn command<'a>(doc: &'a Document, name: &str) -> &'a Document {
    doc.get_document("commands").unwrap().get_document(name).unwrap()
}

/// A command's (count, errors, retries).
fn counts(doc: &Document, name: &str) -> (i64, i64, i64) {
    let c = command(doc, name);
    (
        c.get_i64("count").unwrap(),
        c.get_i64("errors").unwrap(),
        c.get_i64("retries").unwrap(),
    )
}

fn latency(doc: &Document, name: &str, field: &str) -> i64 {
    command(doc, name)
        .get_document("latencyMicros")
        .unwrap()
        .get_i64(field)
        .unwrap()
}

/// Within 3% of `expected`.
fn assert_close(actual: i64, expected: f64, what: &str) {
    let error = (actual as f64 - expected).abs() / expected;
    assert!(
        error <= 0.03,
        "{what}: {actual} is {:.2}% from {expected}",
        error * 100.0
    );
}

#[test]
fn empty_stats_report_zero_totals() {
    let doc = ProxyStats::new().to_document();
    assert_eq!(doc.get_i64("totalRequests").unwrap(), 0);
    assert_eq!(doc.get_i64("totalErrors").unwrap(), 0);
    assert_eq!(doc.get_i64("totalRetries").unwrap(), 0);
    assert!(doc.get_document("commands").unwrap().is_empty());
}

#[test]
fn counts_errors_and_retries_add_up() {
    let stats = ProxyStats::new();
    for i in 0..10 {
        stats.record("find", micros(100), i % 3 != 0);
    }
    stats.record("insert", micros(200), true);
    stats.record("insert", micros(200), false);
    stats.record_retry("insert");
    stats.record_retry("find");
    stats.record_retry("find");
    let doc = stats.to_document();

    assert_eq!(doc.get_i64("totalRequests").unwrap(), 12);
    assert_eq!(doc.get_i64("totalErrors").unwrap(), 5);
    assert_eq!(doc.get_i64("totalRetries").unwrap(), 3);
    assert_eq!(counts(&doc, "find"), (10, 4, 2));
    assert_eq!(counts(&doc, "insert"), (2, 1, 1));
    let keys: Vec<&str> = command(&doc, "find")
        .get_document("latencyMicros")
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(keys, ["p50", "p90", "p99", "p999", "max", "mean"]);
}

#[test]
fn percentiles_of_a_uniform_set_are_within_three_percent() {
    let stats = ProxyStats::new();
    // 1..=100_000 µs in a scrambled order: the p-th percentile is p% of 100_000.
    for i in 0..100_000u64 {
        stats.record("find", micros((i * 7919) % 100_000 + 1), true);
    }
    let doc = stats.to_document();
    assert_close(latency(&doc, "find", "p50"), 50_000.0, "p50");
    assert_close(latency(&doc, "find", "p90"), 90_000.0, "p90");
    assert_close(latency(&doc, "find", "p99"), 99_000.0, "p99");
    assert_close(latency(&doc, "find", "p999"), 99_900.0, "p999");
    assert_eq!(latency(&doc, "find", "max"), 100_000);
    assert_eq!(latency(&doc, "find", "mean"), 50_000);
}

#[test]
fn percentiles_of_a_skewed_set_find_the_tail() {
    let stats = ProxyStats::new();
    // 98.9% at 250 µs, 0.9% at 40 ms, 0.2% at 3 s: p99 and p999 fall in different groups.
    for _ in 0..9_890 {
        stats.record("getMore", micros(250), true);
    }
    for _ in 0..90 {
        stats.record("getMore", micros(40_000), true);
    }
    for _ in 0..20 {
        stats.record("getMore", micros(3_000_000), true);
    }
    let doc = stats.to_document();
    assert_close(latency(&doc, "getMore", "p50"), 250.0, "p50");
    assert_close(latency(&doc, "getMore", "p90"), 250.0, "p90");
    assert_close(latency(&doc, "getMore", "p99"), 40_000.0, "p99");
    assert_close(latency(&doc, "getMore", "p999"), 3_000_000.0, "p999");
    assert_eq!(latency(&doc, "getMore", "max"), 3_000_000);
    assert_eq!(
        latency(&doc, "getMore", "mean"),
        (9_890 * 250 + 90 * 40_000 + 20 * 3_000_000) / 10_000
    );
}

#[test]
fn small_latencies_are_exact() {
    let histogram = LatencyHistogram::default();
    for v in [3, 3, 3, 7, 7, 12, 12, 12, 12, 20] {
        histogram.record(v);
    }
    let summary = histogram.summary();
    assert_eq!(
        (summary.count, summary.p50, summary.p90, summary.p99, summary.max),
        (10, 7, 12, 20, 20)
    );
}

#[test]
fn distinct_command_names_are_capped_and_the_rest_count_as_other() {
    let stats = ProxyStats::new();
    for i in 0..MAX_COMMAND_NAMES + 100 {
        stats.record(&format!("cmd{i}"), micros(10), true);
    }
    stats.record(&"x".repeat(10_000), micros(10), false);
    stats.record_retry("cmd99999");
    stats.record("cmd0", micros(10), true);
    let doc = stats.to_document();

    let commands = doc.get_document("commands").unwrap();
    assert_eq!(commands.len(), MAX_COMMAND_NAMES + 1);
    assert_eq!(command(&doc, "cmd0").get_i64("count").unwrap(), 2);
    let other = command(&doc, OTHER_COMMANDS);
    assert_eq!(other.get_i64("count").unwrap(), 101);
    assert_eq!(other.get_i64("errors").unwrap(), 1);
    assert_eq!(other.get_i64("retries").unwrap(), 1);
    assert_eq!(
        doc.get_i64("totalRequests").unwrap(),
        MAX_COMMAND_NAMES as i64 + 102
    );
}

#[test]
fn concurrent_recording_loses_nothing() {
    let stats = Arc::new(ProxyStats::new());
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let stats = Arc::clone(&stats);
            std::thread::spawn(move || {
                for i in 0..10_000u64 {
                    let name = ["find", "insert", "update", "delete"][(i % 4) as usize];
                    stats.record(name, micros(i % 1000 + t), i % 10 != 0);
                    if i % 100 == 0 {
                        stats.record_retry(name);
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let doc = stats.to_document();
    assert_eq!(doc.get_i64("totalRequests").unwrap(), 40_000);
    assert_eq!(doc.get_i64("totalErrors").unwrap(), 4_000);
    assert_eq!(doc.get_i64("totalRetries").unwrap(), 400);
    for name in ["find", "insert", "update", "delete"] {
        assert_eq!(command(&doc, name).get_i64("count").unwrap(), 10_000, "{name}");
    }
}
