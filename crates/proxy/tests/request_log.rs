//! The request log as its user sees it: which requests reach tracing and the JSON-lines file under each
//! sampling rate, slow ones always, the file's rotation, and flushing when the last handle is dropped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use docwire_proxy::request_log::{RequestLog, RequestLogConfig, RequestLogStats, RequestRecord, rotated};
use docwire_rpc::ErrorCode;
use serde_json::Value;

fn record(client_id: u64, latency: Duration) -> RequestRecord {
    RequestRecord {
        client_id,
        command: "find".to_owned(),
        db: "shop".to_owned(),
        collection: Some("orders".to_owned()),
        upstream: Some("db1.example:27017".to_owned()),
        bytes_in: 120,
        bytes_out: 4096,
        latency,
        code: 0,
        code_name: None,
        retried: false,
    }
}

const FAST: Duration = Duration::from_micros(1500);
const SLOW: Duration = Duration::from_millis(250);

fn config(path: &Path, sample_rate: f64) -> RequestLogConfig {
    RequestLogConfig {
        file: Some(path.to_path_buf()),
        sample_rate,
        ..RequestLogConfig::default()
    }
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

fn client_ids(lines: &[Value]) -> Vec<u64> {
    lines.iter().map(|l| l["client_id"].as_u64().unwrap()).collect()
}

/// Captures formatted tracing output of everything run in `f` on this thread.
fn capture_tracing(f: impl FnOnce()) -> String {
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
}

#[test]
fn every_request_is_logged_at_sample_rate_one_with_its_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.log");
    let log = RequestLog::new(config(&path, 1.0)).unwrap();
    let mut failed = record(100, FAST);
    failed.code = 11000;
    failed.code_name = Some("DuplicateKey".to_owned());
    failed.retried = true;
    failed.collection = None;
    let output = capture_tracing(|| {
        for id in 0..100 {
            log.record(&record(id, FAST));
        }
        log.record(&failed);
    });
    log.flush();

    assert_eq!(
        log.stats(),
        RequestLogStats {
            logged: 101,
            sampled_out: 0,
            slow: 0,
            dropped: 0
        }
    );
    assert_eq!(
        output
            .lines()
            .filter(|l| l.contains("docwire::proxy::request"))
            .count(),
        101
    );
    let first = output.lines().next().unwrap();
    for field in [
        "INFO",
        "Request",
        "client_id=0",
        "command=find",
        "ns=shop.orders",
        "upstream=\"db1.example:27017\"",
        "bytes_in=120",
        "bytes_out=4096",
        "latency_micros=1500",
        "durationMillis=1",
        "code=0",
    ] {
        assert!(first.contains(field), "{field} missing from {first}");
    }

    let lines = lines(&path);
    assert_eq!(client_ids(&lines), (0..=100).collect::<Vec<_>>());
    let raw = std::fs::read_to_string(&path).unwrap();
    assert!(
        raw.starts_with("{\"t\":\""),
        "the timestamp leads each line: {raw}"
    );
    let line = &lines[0];
    assert!(
        bson::DateTime::parse_rfc3339_str(line["t"].as_str().unwrap()).is_ok(),
        "{line}"
    );
    assert_eq!(line["command"], "find");
    assert_eq!(line["ns"], "shop.orders");
    assert_eq!(line["upstream"], "db1.example:27017");
    assert_eq!(line["bytes_in"], 120);
    assert_eq!(line["bytes_out"], 4096);
    assert_eq!(line["latency_micros"], 1500);
    assert_eq!(line["durationMillis"], 1);
    assert_eq!(line["code"], 0);
    assert_eq!(line["retried"], false);
    let last = &lines[100];
    assert_eq!(last["ns"], "shop");
    assert_eq!(last["code"], 11000);
    assert_eq!(last["codeName"], "DuplicateKey");
    assert_eq!(last["retried"], true);
}

#[test]
fn sample_rate_one_half_logs_exactly_every_second_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.log");
    let log = RequestLog::new(config(&path, 0.5)).unwrap();
    for id in 0..100 {
        log.record(&record(id, FAST));
    }
    log.flush();
    assert_eq!(
        log.stats(),
        RequestLogStats {
            logged: 50,
            sampled_out: 50,
            slow: 0,
            dropped: 0
        }
    );
    assert_eq!(
        client_ids(&lines(&path)),
        (0..100).filter(|id| id % 2 == 1).collect::<Vec<_>>()
    );
}

#[test]
fn a_fractional_sample_rate_logs_its_exact_share() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.log");
    let log = RequestLog::new(config(&path, 0.1)).unwrap();
    for id in 0..1000 {
        log.record(&record(id, FAST));
    }
    log.flush();
    assert_eq!(log.stats().logged, 100);
    let ids = client_ids(&lines(&path));
    // Evenly spread: one in each run of ten.
    assert!(
        ids.iter().enumerate().all(|(i, id)| id / 10 == i as u64),
        "{ids:?}"
    );
}

#[test]
fn sample_rate_zero_logs_only_slow_requests_at_warn() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.log");
    let log = RequestLog::new(config(&path, 0.0)).unwrap();
    let output = capture_tracing(|| {
        for id in 0..20 {
            log.record(&record(id, if id % 5 == 0 { SLOW } else { FAST }));
        }
        // Exactly slowms is slow too, as in mongod.
        log.record(&record(20, Duration::from_millis(100)));
    });
    log.flush();

    assert_eq!(
        log.stats(),
        RequestLogStats {
            logged: 5,
            sampled_out: 16,
            slow: 5,
            dropped: 0
        }
    );
    let events: Vec<&str> = output
        .lines()
        .filter(|l| l.contains("docwire::proxy::request"))
        .collect();
    assert_eq!(events.len(), 5, "{output}");
    for event in &events {
        assert!(event.contains("WARN") && event.contains("Slow query"), "{event}");
    }
    assert!(
        events[1].contains("client_id=5") && events[1].contains("durationMillis=250"),
        "{}",
        events[1]
    );
    let lines = lines(&path);
    assert_eq!(client_ids(&lines), vec![0, 5, 10, 15, 20]);
    assert!(lines.iter().all(|l| l["msg"] == "Slow query"));
}

#[test]
fn slow_requests_are_logged_once_when_also_sampled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.log");
    let log = RequestLog::new(RequestLogConfig {
        slow_ms: 10,
        ..config(&path, 1.0)
    })
    .unwrap();
    let output = capture_tracing(|| {
        log.record(&record(1, Duration::from_millis(9)));
        log.record(&record(2, Duration::from_millis(10)));
    });
    log.flush();
    assert_eq!(
        log.stats(),
        RequestLogStats {
            logged: 2,
            sampled_out: 0,
            slow: 1,
            dropped: 0
        }
    );
    let events: Vec<&str> = output.lines().collect();
    assert_eq!(events.len(), 2, "{output}");
    assert!(
        events[0].contains("INFO") && events[0].contains("Request"),
        "{}",
        events[0]
    );
    assert!(
        events[1].contains("WARN") && events[1].contains("Slow query"),
        "{}",
        events[1]
    );
    assert_eq!(lines(&path).len(), 2);
}

#[test]
fn a_disabled_log_reports_only_slow_requests() {
    let log = RequestLog::disabled();
    let output = capture_tracing(|| {
        log.record(&record(1, FAST));
        log.record(&record(2, SLOW));
    });
    log.flush();
    assert_eq!(
        log.stats(),
        RequestLogStats {
            logged: 1,
            sampled_out: 1,
            slow: 1,
            dropped: 0
        }
    );
    assert_eq!(output.lines().count(), 1, "{output}");
    assert!(
        output.contains("Slow query") && output.contains("client_id=2"),
        "{output}"
    );
}

#[test]
fn the_file_rotates_keeping_at_most_keep_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.log");
    let max_file_bytes = 1000;
    let keep_files = 2;
    let log = RequestLog::new(RequestLogConfig {
        max_file_bytes,
        keep_files,
        ..config(&path, 1.0)
    })
    .unwrap();
    for id in 0..60 {
        log.record(&record(id, FAST));
    }
    log.flush();

    let files: Vec<PathBuf> = vec![rotated(&path, 2), rotated(&path, 1), path.clone()];
    assert!(!rotated(&path, 3).exists());
    let mut ids = Vec::new();
    for file in &files {
        let size = std::fs::metadata(file).unwrap().len();
        assert!(
            size > 0 && size <= max_file_bytes,
            "{} is {size} bytes",
            file.display()
        );
        let lines = lines(file);
        assert!(
            lines
                .iter()
                .all(|l| l["t"].is_string() && l["ns"] == "shop.orders")
        );
        ids.extend(client_ids(&lines));
    }
    // Oldest to newest, contiguous, ending with the last record; older ones went with the deleted files.
    assert_eq!(ids.last(), Some(&59));
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

#[test]
fn rotation_loses_no_record_while_files_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.log");
    let config = RequestLogConfig {
        max_file_bytes: 1000,
        keep_files: 50,
        ..config(&path, 1.0)
    };
    let log = RequestLog::new(config).unwrap();
    for id in 0..60 {
        log.record(&record(id, FAST));
    }
    log.flush();
    let rotated_count = (1..=50).take_while(|k| rotated(&path, *k).exists()).count();
    assert!(rotated_count >= 2, "only {rotated_count} rotations");
    let mut ids = Vec::new();
    for k in (1..=rotated_count).rev() {
        ids.extend(client_ids(&lines(&rotated(&path, k))));
    }
    ids.extend(client_ids(&lines(&path)));
    assert_eq!(ids, (0..60).collect::<Vec<_>>());
}

#[test]
fn dropping_the_last_handle_writes_everything_and_reopening_appends() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.log");
    let log = RequestLog::new(config(&path, 1.0)).unwrap();
    let clone = log.clone();
    for id in 0..10 {
        clone.record(&record(id, FAST));
    }
    drop(clone);
    drop(log);
    assert_eq!(client_ids(&lines(&path)), (0..10).collect::<Vec<_>>());

    let log = RequestLog::new(config(&path, 1.0)).unwrap();
    log.record(&record(10, FAST));
    drop(log);
    assert_eq!(client_ids(&lines(&path)), (0..=10).collect::<Vec<_>>());
}

#[test]
fn bad_configurations_are_refused_with_mongod_codes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.log");
    for rate in [-0.1, 1.5, f64::NAN] {
        let err = RequestLog::new(config(&path, rate)).err().unwrap();
        assert_eq!(err.code(), ErrorCode::BadValue, "rate {rate}");
    }
    let missing_dir = dir.path().join("no-such-dir").join("requests.log");
    let err = RequestLog::new(config(&missing_dir, 1.0)).err().unwrap();
    assert_eq!(err.code(), ErrorCode::FileNotOpen);
}
