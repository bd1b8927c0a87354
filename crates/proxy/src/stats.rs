//! `ProxyStats`: per-command request, error and retry counts with latency percentiles, for the
//! `proxyStats` command.
//!
//! Each command has a [`LatencyHistogram`], a log-linear (HDR-style) histogram of atomics: values below
//! 32 µs get a bucket each, and every power of two above is split into 32 equal buckets, so a bucket is at
//! most 1/32 of its values wide and the reported midpoint is within ~1.6% of any value in it. Recording is
//! a few relaxed atomic adds after a read lock on one `DashMap` shard; there is no global lock.
//!
//! Command names come from clients, so the table is capped: at most [`MAX_COMMAND_NAMES`] distinct names
//! of at most [`MAX_COMMAND_NAME_LEN`] bytes get their own entry; everything else is counted under
//! [`OTHER_COMMANDS`].

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use bson::{Document, doc};
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

/// How many distinct command names get their own entry.
pub const MAX_COMMAND_NAMES: usize = 256;

/// Longer names (no real command is this long) are counted under [`OTHER_COMMANDS`].
pub const MAX_COMMAND_NAME_LEN: usize = 64;

/// The entry that counts commands past the cap (and any command literally named so).
pub const OTHER_COMMANDS: &str = "other";

/// Sub-buckets per power of two: 2^5 = 32, a relative bucket width of at most 1/32.
const SUB_BUCKET_BITS: u32 = 5;
const SUB_BUCKETS: u64 = 1 << SUB_BUCKET_BITS;
/// Values are tracked exactly up to 2^36 µs (about 19 hours); longer ones land in the last bucket (the
/// maximum is still exact).
const MAX_TRACKED_BITS: u32 = 36;
const BUCKETS: usize = (SUB_BUCKETS + (MAX_TRACKED_BITS - SUB_BUCKET_BITS) as u64 * SUB_BUCKETS) as usize;

/// Counts and latencies for every command the proxy has forwarded. Share it through an `Arc`.
#[derive(Default)]
pub struct ProxyStats {
    commands: DashMap<Box<str>, CommandStats>,
    /// Entries in `commands`, kept apart because `DashMap::len` locks every shard.
    distinct: AtomicUsize,
    other: CommandStats,
}

impl ProxyStats {
    /// Empty statistics.
    pub fn new() -> ProxyStats {
        ProxyStats::default()
    }

    /// Counts one request of `command` that took `latency`; `ok` is false when the reply was an error.
    pub fn record(&self, command: &str, latency: Duration, ok: bool) {
        self.with_command(command, |stats| stats.record(latency, ok));
    }

    /// Counts one retry of `command` (on another upstream or connection).
    pub fn record_retry(&self, command: &str) {
        self.with_command(command, |stats| {
            stats.retries.fetch_add(1, Ordering::Relaxed);
        });
    }

    /// The `proxyStats` reply body: totals and, per command, counts and latency percentiles in µs.
    pub fn to_document(&self) -> Document {
        let mut names: Vec<(String, Document)> = self
            .commands
            .iter()
            .map(|e| (e.key().to_string(), e.value().to_document()))
            .collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        if self.other.count.load(Ordering::Relaxed) > 0 || self.other.retries.load(Ordering::Relaxed) > 0 {
            names.push((OTHER_COMMANDS.to_owned(), self.other.to_document()));
        }
        let (mut requests, mut errors, mut retries) = (0i64, 0i64, 0i64);
        let mut commands = Document::new();
        for (name, stats) in names {
            requests += stats.get_i64("count").unwrap_or(0);
            errors += stats.get_i64("errors").unwrap_or(0);
            retries += stats.get_i64("retries").unwrap_or(0);
            commands.insert(name, stats);
        }
        doc! {
            "totalRequests": requests,
            "totalErrors": errors,
            "totalRetries": retries,
            "commands": commands,
        }
    }

    /// Runs `f` on the entry for `command`, creating it if the cap allows, else on the overflow entry.
    fn with_command(&self, command: &str, f: impl FnOnce(&CommandStats)) {
        if command == OTHER_COMMANDS || command.len() > MAX_COMMAND_NAME_LEN {
            return f(&self.other);
        }
        if let Some(stats) = self.commands.get(command) {
            return f(&stats);
        }
        // Reserve a slot before inserting so that racing inserts cannot exceed the cap.
        let reserved = self
            .distinct
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_COMMAND_NAMES).then_some(n + 1)
            })
            .is_ok();
        if !reserved {
            return f(&self.other);
        }
        match self.commands.entry(command.into()) {
            Entry::Occupied(entry) => {
                // Another thread inserted it first: give the slot back.
                self.distinct.fetch_sub(1, Ordering::AcqRel);
                f(entry.get());
            }
            Entry::Vacant(entry) => f(&entry.insert(CommandStats::default())),
        }
    }
}

/// One command's counters.
#[derive(Default)]
struct CommandStats {
    count: AtomicU64,
    errors: AtomicU64,
    retries: AtomicU64,
    latency: LatencyHistogram,
}

impl CommandStats {
    fn record(&self, latency: Duration, ok: bool) {
        self.count.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        self.latency
            .record(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
    }

    fn to_document(&self) -> Document {
        let p = self.latency.summary();
        doc! {
            "count": to_i64(self.count.load(Ordering::Relaxed)),
            "errors": to_i64(self.errors.load(Ordering::Relaxed)),
            "retries": to_i64(self.retries.load(Ordering::Relaxed)),
            "latencyMicros": {
                "p50": to_i64(p.p50),
                "p90": to_i64(p.p90),
                "p99": to_i64(p.p99),
                "p999": to_i64(p.p999),
                "max": to_i64(p.max),
                "mean": to_i64(p.mean),
            },
        }
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Latency percentiles of a [`LatencyHistogram`], in the histogram's unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LatencySummary {
    /// Values recorded.
    pub count: u64,
    /// The median.
    pub p50: u64,
    /// The 90th percentile.
    pub p90: u64,
    /// The 99th percentile.
    pub p99: u64,
    /// The 99.9th percentile.
    pub p999: u64,
    /// The largest value (exact).
    pub max: u64,
    /// The mean (exact, rounded down).
    pub mean: u64,
}

/// A lock-free log-linear histogram of `u64` values with a relative error of at most ~1.6%.
pub struct LatencyHistogram {
    buckets: Box<[AtomicU64]>,
    sum: AtomicU64,
    max: AtomicU64,
}

impl Default for LatencyHistogram {
    fn default() -> LatencyHistogram {
        LatencyHistogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
            max: AtomicU64::new(0),
        }
    }
}

impl LatencyHistogram {
    /// Adds one value.
    pub fn record(&self, value: u64) {
        if let Some(bucket) = self.buckets.get(bucket_index(value)) {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        self.sum.fetch_add(value, Ordering::Relaxed);
        self.max.fetch_max(value, Ordering::Relaxed);
    }

    /// The percentiles of the values recorded so far; each is the midpoint of its bucket, capped at the
    /// maximum.
    pub fn summary(&self) -> LatencySummary {
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).collect();
        let count: u64 = counts.iter().sum();
        if count == 0 {
            return LatencySummary::default();
        }
        let max = self.max.load(Ordering::Relaxed);
        let at = |quantile: f64| value_at_quantile(&counts, count, quantile).min(max);
        LatencySummary {
            count,
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            p999: at(0.999),
            max,
            mean: self.sum.load(Ordering::Relaxed) / count,
        }
    }
}

/// The bucket of `value`: exact below `SUB_BUCKETS`, then `SUB_BUCKETS` buckets per power of two.
fn bucket_index(value: u64) -> usize {
    if value < SUB_BUCKETS {
        return value as usize;
    }
    let msb = 63 - value.leading_zeros();
    if msb >= MAX_TRACKED_BITS {
        return BUCKETS - 1;
    }
    let shift = msb - SUB_BUCKET_BITS;
    let sub = (value >> shift) - SUB_BUCKETS;
    (SUB_BUCKETS + u64::from(shift) * SUB_BUCKETS + sub) as usize
}

/// The lowest value and the width of bucket `index` (the inverse of [`bucket_index`]).
fn bucket_range(index: usize) -> (u64, u64) {
    let index = index as u64;
    if index < SUB_BUCKETS {
        return (index, 1);
    }
    let shift = (index - SUB_BUCKETS) / SUB_BUCKETS;
    let sub = (index - SUB_BUCKETS) % SUB_BUCKETS;
    ((SUB_BUCKETS + sub) << shift, 1 << shift)
}

/// The value at `quantile`: the midpoint of the bucket holding the `ceil(quantile * count)`-th value.
fn value_at_quantile(counts: &[u64], count: u64, quantile: f64) -> u64 {
    let rank = ((quantile * count as f64).ceil() as u64).clamp(1, count);
    let mut seen = 0;
    for (index, &n) in counts.iter().enumerate() {
        seen += n;
        if seen >= rank {
            let (low, width) = bucket_range(index);
            return low + (width - 1) / 2;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn buckets_cover_values_in_order_and_invert() {
        let mut previous = 0;
        for value in (0..100_000u64).chain([1 << 35, (1 << 36) - 1]) {
            let index = bucket_index(value);
            assert!(
                index >= previous && index < BUCKETS,
                "value {value} index {index}"
            );
            let (low, width) = bucket_range(index);
            assert!(
                low <= value && value < low + width,
                "value {value} in [{low}, +{width})"
            );
            assert!(
                width == 1 || width * SUB_BUCKETS <= low,
                "bucket of {value} too wide"
            );
            previous = index;
        }
        assert_eq!(bucket_index(u64::MAX), BUCKETS - 1);
    }
}
