//! connPoolStats: per-host counters, the acquisition wait-time histogram, and the reply section.

use std::collections::BTreeMap;
use std::time::Duration;

use bson::{Document, doc};

/// Acquisition wait times in 50 ms buckets up to 1 s, then one open bucket (mongod's histogram).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WaitTimeHistogram {
    buckets: [u64; WaitTimeHistogram::BUCKETS],
}

impl WaitTimeHistogram {
    const WIDTH_MS: u64 = 50;
    const BUCKETS: usize = 21;

    /// Counts one acquisition that waited `waited`.
    pub fn record(&mut self, waited: Duration) {
        let ms = u64::try_from(waited.as_millis()).unwrap_or(u64::MAX);
        let index = usize::try_from(ms / Self::WIDTH_MS).unwrap_or(usize::MAX);
        self.buckets[index.min(Self::BUCKETS - 1)] += 1;
    }

    /// How many acquisitions were counted.
    pub fn total(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: &WaitTimeHistogram) {
        for (mine, theirs) in self.buckets.iter_mut().zip(other.buckets.iter()) {
            *mine += theirs;
        }
    }

    /// `{"0-50ms": {count}, ..., "1000-infms": {count}, totalCount}` as mongod reports it.
    pub fn to_document(&self) -> Document {
        let mut out = Document::new();
        for (i, count) in self.buckets.iter().enumerate() {
            let low = i as u64 * Self::WIDTH_MS;
            let name = if i == Self::BUCKETS - 1 {
                format!("{low}-infms")
            } else {
                format!("{low}-{}ms", low + Self::WIDTH_MS)
            };
            out.insert(name, doc! {"count": to_i64(*count)});
        }
        out.insert("totalCount", to_i64(self.total()));
        out
    }
}

/// One host's counters in one pool (mongod's `ConnectionStatsPer`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostConnectionStats {
    /// Connections checked out (not leased).
    pub in_use: u64,
    /// Ready connections.
    pub available: u64,
    /// Leased connections.
    pub leased: u64,
    /// Connections ever made (counted when their setup starts).
    pub created: u64,
    /// Connections in setup or refresh.
    pub refreshing: u64,
    /// Refreshes that succeeded.
    pub refreshed: u64,
    /// Connections dropped without ever being checked out.
    pub was_never_used: u64,
    /// Requests queued now.
    pub pending_requests: u64,
    /// Requests rejected at the queue-depth limit.
    pub rejected_requests: u64,
    /// How long checkouts waited.
    pub acquisition_wait_times: WaitTimeHistogram,
}

impl HostConnectionStats {
    /// Adds `other` to these counters.
    pub fn merge(&mut self, other: &HostConnectionStats) {
        self.in_use += other.in_use;
        self.available += other.available;
        self.leased += other.leased;
        self.created += other.created;
        self.refreshing += other.refreshing;
        self.refreshed += other.refreshed;
        self.was_never_used += other.was_never_used;
        self.pending_requests += other.pending_requests;
        self.rejected_requests += other.rejected_requests;
        self.acquisition_wait_times.merge(&other.acquisition_wait_times);
    }

    /// The fields with `prefix` (`""` per host, `"pool"` per pool, `"total"` at the top), camel case.
    fn append_to(&self, out: &mut Document, prefix: &str) {
        let name = |field: &str| {
            if prefix.is_empty() {
                field.to_owned()
            } else {
                let mut chars = field.chars();
                let first = chars.next().map(|c| c.to_ascii_uppercase()).unwrap_or_default();
                format!("{prefix}{first}{}", chars.as_str())
            }
        };
        out.insert(name("inUse"), to_i64(self.in_use));
        out.insert(name("available"), to_i64(self.available));
        out.insert(name("leased"), to_i64(self.leased));
        out.insert(name("created"), to_i64(self.created));
        out.insert(name("refreshing"), to_i64(self.refreshing));
        out.insert(name("refreshed"), to_i64(self.refreshed));
        out.insert(name("wasNeverUsed"), to_i64(self.was_never_used));
        out.insert(name("pendingRequests"), to_i64(self.pending_requests));
        out.insert(name("rejectedRequests"), to_i64(self.rejected_requests));
        out.insert("acquisitionWaitTimes", self.acquisition_wait_times.to_document());
    }
}

/// A pool's totals and its hosts' counters.
#[derive(Clone, Debug, Default)]
struct PoolSection {
    total: HostConnectionStats,
    hosts: BTreeMap<String, HostConnectionStats>,
}

/// Gathers connPoolStats from any number of pools (mongod's `ConnectionPoolStats`).
#[derive(Clone, Debug, Default)]
pub struct ConnectionPoolStats {
    total: HostConnectionStats,
    pools: BTreeMap<String, PoolSection>,
    hosts: BTreeMap<String, HostConnectionStats>,
}

impl ConnectionPoolStats {
    /// Empty statistics.
    pub fn new() -> ConnectionPoolStats {
        ConnectionPoolStats::default()
    }

    /// Adds `stats` for `host` in the pool named `pool`.
    pub fn update_stats_for_host(&mut self, pool: &str, host: &str, stats: &HostConnectionStats) {
        self.total.merge(stats);
        let section = self.pools.entry(pool.to_owned()).or_default();
        section.total.merge(stats);
        section.hosts.entry(host.to_owned()).or_default().merge(stats);
        self.hosts.entry(host.to_owned()).or_default().merge(stats);
    }

    /// The totals over every pool and host.
    pub fn totals(&self) -> &HostConnectionStats {
        &self.total
    }

    /// One host's counters summed over pools, if it was seen.
    pub fn host(&self, host: &str) -> Option<&HostConnectionStats> {
        self.hosts.get(host)
    }

    /// The connPoolStats reply section: `total*` fields, `pools.<name>.{pool*, <host>: {...}}` and
    /// `hosts.<host>.{...}`.
    pub fn to_document(&self) -> Document {
        let mut out = Document::new();
        self.total.append_to(&mut out, "total");
        let mut pools = Document::new();
        for (name, section) in &self.pools {
            let mut pool = Document::new();
            section.total.append_to(&mut pool, "pool");
            for (host, stats) in &section.hosts {
                let mut entry = Document::new();
                stats.append_to(&mut entry, "");
                pool.insert(host.clone(), entry);
            }
            pools.insert(name.clone(), pool);
        }
        out.insert("pools", pools);
        let mut hosts = Document::new();
        for (host, stats) in &self.hosts {
            let mut entry = Document::new();
            stats.append_to(&mut entry, "");
            hosts.insert(host.clone(), entry);
        }
        out.insert("hosts", hosts);
        out
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
