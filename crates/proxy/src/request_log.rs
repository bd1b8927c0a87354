//! The request log: every proxied request as a `tracing` event (sampled), slow ones always, and optionally
//! one JSON object per line in a size-rotated file written by a background thread.
//!
//! The request path never touches the disk: [`RequestLog::record`] emits the tracing event and hands an
//! owned copy of the record to a writer thread over a bounded `sync_channel`; when the channel is full the
//! record is dropped and counted (`dropped`), so a slow disk costs log lines, never latency.
//!
//! Sampling is a deterministic accumulator over a shared counter: with a rate of `p` (in millionths),
//! request `n` is sampled when `floor((n + 1) p) > floor(n p)`, so exactly `floor(N p)` of any first `N`
//! requests are sampled, evenly spread, with one atomic add and no random numbers. A slow request
//! (latency >= `slow_ms`) is always logged, at WARN with mongod's "Slow query" message (log id 51803),
//! whether or not it was sampled.
//!
//! File format: one JSON object per line with the tracing event's fields plus `"t"`, the time the request
//! was recorded as an RFC 3339 UTC string with milliseconds (`"2025-01-31T12:00:00.123Z"`), a plain string
//! rather than mongod's `{"$date": ...}` wrapper so that ordinary JSON tools read it. Rotation happens
//! before a line would take the file past `max_file_bytes`: `path.(k-1)` -> `path.k` ... `path` ->
//! `path.1`, the oldest (`path.<keep_files>`) is deleted, and a new `path` is started.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use docwire_rpc::{ErrorCode, Status};

/// The tracing target of every request event.
pub const REQUEST_LOG_TARGET: &str = "docwire::proxy::request";

/// How many records may wait for the writer thread before new ones are dropped.
pub const DEFAULT_QUEUE_CAPACITY: usize = 4096;

/// Sampling rates are kept in millionths so that sampling is integer arithmetic.
const RATE_SCALE: u64 = 1_000_000;

/// How the request log is configured (mongod's names where it has them: `slowms`).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestLogConfig {
    /// The JSON-lines file; `None` logs through tracing only.
    pub file: Option<PathBuf>,
    /// The size a file may reach before it is rotated (default 64 MiB).
    pub max_file_bytes: u64,
    /// How many rotated files (`path.1` ... `path.<keep_files>`) are kept (default 5).
    pub keep_files: usize,
    /// The fraction of requests logged, 0.0..=1.0 (default 1.0); slow ones are always logged.
    pub sample_rate: f64,
    /// Requests at least this slow, in milliseconds, are always logged at WARN (mongod's slowms, default 100).
    pub slow_ms: u64,
}

impl Default for RequestLogConfig {
    fn default() -> RequestLogConfig {
        RequestLogConfig {
            file: None,
            max_file_bytes: 64 * 1024 * 1024,
            keep_files: 5,
            sample_rate: 1.0,
            slow_ms: 100,
        }
    }
}

/// One proxied request, as the core reports it after the reply went back to the client.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord {
    /// The client connection's id.
    pub client_id: u64,
    /// The command name (the first field of the command document).
    pub command: String,
    /// The database (`$db`).
    pub db: String,
    /// The collection the command names, when it names one.
    pub collection: Option<String>,
    /// The upstream host:port that served it, if one did.
    pub upstream: Option<String>,
    /// The request's size in bytes.
    pub bytes_in: usize,
    /// The reply's size in bytes.
    pub bytes_out: usize,
    /// The time from receiving the request to sending the reply.
    pub latency: Duration,
    /// The reply's error code, 0 when ok.
    pub code: i32,
    /// The reply's codeName, when it failed.
    pub code_name: Option<String>,
    /// Whether the request was retried on another upstream or connection.
    pub retried: bool,
}

impl RequestRecord {
    /// The namespace as mongod logs it: `db.coll`, or `db` for database commands.
    pub fn ns(&self) -> String {
        match &self.collection {
            Some(coll) => format!("{}.{}", self.db, coll),
            None => self.db.clone(),
        }
    }
}

/// The request log's counters since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestLogStats {
    /// Records logged (sampled, or slow).
    pub logged: u64,
    /// Records skipped by sampling (and not slow).
    pub sampled_out: u64,
    /// Records at least `slow_ms` slow (all of them are logged).
    pub slow: u64,
    /// Logged records that did not reach the file: the writer's queue was full, or the write failed.
    pub dropped: u64,
}

/// The request log handle: cheap to clone, shared by every session. Dropping the last handle flushes the
/// file and stops the writer thread.
#[derive(Clone)]
pub struct RequestLog {
    inner: Arc<Inner>,
}

struct Inner {
    rate_millionths: u64,
    slow: Duration,
    seen: AtomicU64,
    counters: Counters,
    writer: Option<Writer>,
}

/// Counters shared with the writer thread (which counts failed writes as dropped).
#[derive(Default)]
struct Counters {
    logged: AtomicU64,
    sampled_out: AtomicU64,
    slow: AtomicU64,
    dropped: Arc<AtomicU64>,
}

/// The request side of the writer thread. The sender is an `Option` so that `Drop` can close the channel
/// before joining the thread.
struct Writer {
    sender: Option<SyncSender<WriterMessage>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

enum WriterMessage {
    /// A record and the time it was recorded.
    Record(Box<(bson::DateTime, RequestRecord, bool)>),
    /// Write out everything before this message, then answer.
    Flush(SyncSender<()>),
}

impl RequestLog {
    /// A request log as configured; opens (appending) or creates the file and starts its writer thread.
    pub fn new(config: RequestLogConfig) -> Result<RequestLog, Status> {
        validate(&config)?;
        let counters = Counters::default();
        let writer = match &config.file {
            Some(path) => {
                let file = FileWriter::open(path.clone(), config.max_file_bytes, config.keep_files)?;
                let (sender, receiver) = sync_channel(DEFAULT_QUEUE_CAPACITY);
                let dropped = Arc::clone(&counters.dropped);
                let thread = std::thread::Builder::new()
                    .name("request-log".to_owned())
                    .spawn(move || file.run(receiver, &dropped))
                    .map_err(|e| {
                        Status::new(
                            ErrorCode::InternalError,
                            format!("cannot start the request log: {e}"),
                        )
                    })?;
                Some(Writer {
                    sender: Some(sender),
                    thread: Mutex::new(Some(thread)),
                })
            }
            None => None,
        };
        Ok(RequestLog::from_parts(&config, counters, writer))
    }

    /// A log that samples nothing and writes no file: only slow requests (over the default 100 ms) are
    /// logged, through tracing.
    pub fn disabled() -> RequestLog {
        let config = RequestLogConfig {
            sample_rate: 0.0,
            ..RequestLogConfig::default()
        };
        RequestLog::from_parts(&config, Counters::default(), None)
    }

    fn from_parts(config: &RequestLogConfig, counters: Counters, writer: Option<Writer>) -> RequestLog {
        // validate() bounds the rate to 0..=1, so the product fits; `as` saturates regardless.
        let rate_millionths = (config.sample_rate * RATE_SCALE as f64).round() as u64;
        RequestLog {
            inner: Arc::new(Inner {
                rate_millionths: rate_millionths.min(RATE_SCALE),
                slow: Duration::from_millis(config.slow_ms),
                seen: AtomicU64::new(0),
                counters,
                writer,
            }),
        }
    }

    /// Logs `record` if it is sampled or slow; never waits for the disk and never panics.
    pub fn record(&self, record: &RequestRecord) {
        self.record_with(record.latency, || record.clone());
    }

    /// Like [`record`](Self::record) for a request that took `latency`, building the record only if it
    /// is logged (the hot path then allocates nothing for requests sampled out).
    pub fn record_with(&self, latency: Duration, make: impl FnOnce() -> RequestRecord) {
        let inner = &*self.inner;
        let slow = latency >= inner.slow;
        let sampled = inner.sample_next();
        if !slow && !sampled {
            inner.counters.sampled_out.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let record = make();
        if slow {
            inner.counters.slow.fetch_add(1, Ordering::Relaxed);
            emit_slow(&record);
        } else {
            emit_sampled(&record);
        }
        inner.counters.logged.fetch_add(1, Ordering::Relaxed);
        if let Some(sender) = inner.writer.as_ref().and_then(|w| w.sender.as_ref()) {
            let message = WriterMessage::Record(Box::new((bson::DateTime::now(), record, slow)));
            match sender.try_send(message) {
                Ok(()) => {}
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                    inner.counters.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> RequestLogStats {
        let c = &self.inner.counters;
        RequestLogStats {
            logged: c.logged.load(Ordering::Relaxed),
            sampled_out: c.sampled_out.load(Ordering::Relaxed),
            slow: c.slow.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
        }
    }

    /// Waits until every record recorded before this call is written to the file (tests and shutdown).
    pub fn flush(&self) {
        let Some(sender) = self.inner.writer.as_ref().and_then(|w| w.sender.as_ref()) else {
            return;
        };
        let (ack_sender, ack) = sync_channel(1);
        // Blocking here is the point; if the writer thread is gone there is nothing left to wait for.
        if sender.send(WriterMessage::Flush(ack_sender)).is_ok() {
            let _ = ack.recv();
        }
    }
}

impl Inner {
    /// Whether the next request is sampled (see the module docs for the accumulator).
    fn sample_next(&self) -> bool {
        let rate = self.rate_millionths;
        if rate >= RATE_SCALE {
            return true;
        }
        if rate == 0 {
            return false;
        }
        // The pattern repeats every RATE_SCALE requests, so the counter is reduced to keep the product small.
        let n = self.seen.fetch_add(1, Ordering::Relaxed) % RATE_SCALE;
        (n + 1) * rate / RATE_SCALE > n * rate / RATE_SCALE
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(writer) = &mut self.writer {
            // Closing the channel makes the thread write what is queued, flush, and return.
            writer.sender = None;
            let thread = match writer.thread.get_mut() {
                Ok(thread) => thread.take(),
                Err(poisoned) => poisoned.into_inner().take(),
            };
            if let Some(thread) = thread {
                let _ = thread.join();
            }
        }
    }
}

fn validate(config: &RequestLogConfig) -> Result<(), Status> {
    if !(0.0..=1.0).contains(&config.sample_rate) {
        return Err(Status::new(
            ErrorCode::BadValue,
            format!("sample rate must be between 0 and 1, got {}", config.sample_rate),
        ));
    }
    if config.file.is_some() && config.max_file_bytes == 0 {
        return Err(Status::new(
            ErrorCode::BadValue,
            "max_file_bytes must be greater than 0",
        ));
    }
    Ok(())
}

fn latency_micros(latency: Duration) -> u64 {
    u64::try_from(latency.as_micros()).unwrap_or(u64::MAX)
}

fn emit_sampled(r: &RequestRecord) {
    tracing::info!(
        target: REQUEST_LOG_TARGET,
        client_id = r.client_id,
        command = %r.command,
        ns = %r.ns(),
        upstream = r.upstream.as_deref(),
        bytes_in = r.bytes_in,
        bytes_out = r.bytes_out,
        latency_micros = latency_micros(r.latency),
        durationMillis = r.latency.as_millis() as u64,
        code = r.code,
        codeName = r.code_name.as_deref(),
        retried = r.retried,
        "Request"
    );
}

fn emit_slow(r: &RequestRecord) {
    tracing::warn!(
        target: REQUEST_LOG_TARGET,
        id = 51803,
        client_id = r.client_id,
        command = %r.command,
        ns = %r.ns(),
        upstream = r.upstream.as_deref(),
        bytes_in = r.bytes_in,
        bytes_out = r.bytes_out,
        latency_micros = latency_micros(r.latency),
        durationMillis = r.latency.as_millis() as u64,
        code = r.code,
        codeName = r.code_name.as_deref(),
        retried = r.retried,
        "Slow query"
    );
}

/// The JSON line for one record (no trailing newline), `"t"` first as in mongod's log.
fn json_line(t: bson::DateTime, r: &RequestRecord, slow: bool) -> String {
    let mut fields = serde_json::json!({
        "msg": if slow { "Slow query" } else { "Request" },
        "client_id": r.client_id,
        "command": r.command,
        "ns": r.ns(),
        "upstream": r.upstream,
        "bytes_in": r.bytes_in,
        "bytes_out": r.bytes_out,
        "latency_micros": latency_micros(r.latency),
        "durationMillis": r.latency.as_millis() as u64,
        "code": r.code,
        "retried": r.retried,
    });
    if let (Some(name), Some(map)) = (&r.code_name, fields.as_object_mut()) {
        map.insert("codeName".to_owned(), serde_json::Value::from(name.as_str()));
    }
    // serde_json orders an object's keys, so "t" is written ahead of them by hand.
    let t = serde_json::Value::from(t.try_to_rfc3339_string().unwrap_or_default());
    let fields = fields.to_string();
    format!("{{\"t\":{t},{}", fields.strip_prefix('{').unwrap_or(&fields))
}

/// The writer thread's state: the open file, its size, and the rotation settings.
struct FileWriter {
    path: PathBuf,
    out: BufWriter<File>,
    size: u64,
    max_file_bytes: u64,
    keep_files: usize,
}

impl FileWriter {
    fn open(path: PathBuf, max_file_bytes: u64, keep_files: usize) -> Result<FileWriter, Status> {
        let file = open_append(&path)?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(FileWriter {
            path,
            out: BufWriter::new(file),
            size,
            max_file_bytes,
            keep_files,
        })
    }

    /// Writes records until every sender is gone; flushes whenever the queue runs empty.
    fn run(mut self, receiver: Receiver<WriterMessage>, dropped: &AtomicU64) {
        loop {
            let message = match receiver.try_recv() {
                Ok(message) => message,
                Err(TryRecvError::Empty) => {
                    self.flush_or_warn();
                    match receiver.recv() {
                        Ok(message) => message,
                        Err(_) => break,
                    }
                }
                Err(TryRecvError::Disconnected) => break,
            };
            match message {
                WriterMessage::Record(record) => {
                    let (t, record, slow) = *record;
                    if let Err(e) = self.write_line(&json_line(t, &record, slow)) {
                        dropped.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(path = %self.path.display(), error = %e, "request log write failed");
                    }
                }
                WriterMessage::Flush(ack) => {
                    self.flush_or_warn();
                    let _ = ack.send(());
                }
            }
        }
        self.flush_or_warn();
    }

    fn flush_or_warn(&mut self) {
        if let Err(e) = self.out.flush() {
            tracing::warn!(path = %self.path.display(), error = %e, "request log flush failed");
        }
    }

    fn write_line(&mut self, line: &str) -> std::io::Result<()> {
        let len = line.len() as u64 + 1;
        // A line longer than the limit still goes into a file of its own rather than being lost.
        if self.size > 0 && self.size + len > self.max_file_bytes {
            self.rotate()?;
        }
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.size += len;
        Ok(())
    }

    /// Shifts `path.(k-1)` -> `path.k` down to `path` -> `path.1` and starts an empty `path`.
    fn rotate(&mut self) -> std::io::Result<()> {
        self.out.flush()?;
        if self.keep_files == 0 {
            remove_if_exists(&self.path)?;
        } else {
            remove_if_exists(&rotated(&self.path, self.keep_files))?;
            for k in (1..self.keep_files).rev() {
                rename_if_exists(&rotated(&self.path, k), &rotated(&self.path, k + 1))?;
            }
            std::fs::rename(&self.path, rotated(&self.path, 1))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&self.path)?;
        self.out = BufWriter::new(file);
        self.size = 0;
        Ok(())
    }
}

fn open_append(path: &Path) -> Result<File, Status> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| {
            Status::new(
                ErrorCode::FileNotOpen,
                format!("cannot open the request log {}: {e}", path.display()),
            )
        })
}

/// `path.k`, the k-th most recent rotated file.
pub fn rotated(path: &Path, k: usize) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{k}"));
    PathBuf::from(name)
}

fn remove_if_exists(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn rename_if_exists(from: &Path, to: &Path) -> std::io::Result<()> {
    match std::fs::rename(from, to) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn fast_record(client_id: u64) -> RequestRecord {
        RequestRecord {
            client_id,
            command: "find".to_owned(),
            db: "test".to_owned(),
            collection: Some("c".to_owned()),
            upstream: Some("localhost:27017".to_owned()),
            bytes_in: 10,
            bytes_out: 20,
            latency: Duration::from_millis(1),
            code: 0,
            code_name: None,
            retried: false,
        }
    }

    #[test]
    fn a_full_queue_drops_and_counts_without_waiting() {
        // A writer whose thread never reads: the queue of 3 fills and the rest are dropped, not waited for.
        let (sender, receiver) = sync_channel(3);
        let writer = Writer {
            sender: Some(sender),
            thread: Mutex::new(None),
        };
        let log = RequestLog::from_parts(&RequestLogConfig::default(), Counters::default(), Some(writer));
        for i in 0..10 {
            log.record(&fast_record(i));
        }
        assert_eq!(
            log.stats(),
            RequestLogStats {
                logged: 10,
                sampled_out: 0,
                slow: 0,
                dropped: 7
            }
        );
        assert_eq!(receiver.try_iter().count(), 3);
    }
}
