//! `EgressTagCloserManager`: fans `dropConnections` and `mutateTags` out to every registered pool.
//!
//! mongod keeps one manager per process as a ServiceContext decoration; each connection pool registers
//! itself when made and unregisters when dropped. The manager holds only weak references, so it never
//! keeps a pool alive, and it calls the closers after releasing its own lock, so a closer may take its
//! locks freely.

use std::fmt;
use std::sync::{Arc, Mutex, Weak};

use docwire_service::{Decoration, ServiceContext, ServiceContextBuilder};

use crate::common::lock;
use crate::stats::ConnectionPoolStats;

/// Something holding egress connections that can be dropped by host or by tag.
pub trait EgressTagCloser: Send + Sync {
    /// Drops every host whose tags share no bit with `tag_mask`.
    fn drop_connections_by_tags(&self, tag_mask: u32);

    /// Drops the connections to `host`.
    fn drop_connections_to(&self, host: &str);

    /// Replaces the tags of `host` with `mutate(tags)`, if it is known.
    fn mutate_tags(&self, host: &str, mutate: &dyn Fn(u32) -> u32);

    /// Adds this closer's per-host counters to `stats` (connPoolStats); a closer without any adds none.
    fn append_connection_stats(&self, _stats: &mut ConnectionPoolStats) {}
}

/// The registry of [`EgressTagCloser`]s. Cloning gives another handle to the same registry.
#[derive(Clone, Default)]
pub struct EgressTagCloserManager {
    closers: Arc<Mutex<Registered>>,
}

#[derive(Default)]
struct Registered {
    next_id: u64,
    closers: Vec<(u64, Weak<dyn EgressTagCloser>)>,
}

impl fmt::Debug for EgressTagCloserManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "EgressTagCloserManager({} closers)",
            lock(&self.closers).closers.len()
        )
    }
}

impl EgressTagCloserManager {
    /// An empty manager.
    pub fn new() -> EgressTagCloserManager {
        EgressTagCloserManager::default()
    }

    /// Declares the process-wide manager as a ServiceContext decoration.
    pub fn declare(
        builder: &mut ServiceContextBuilder,
    ) -> Decoration<ServiceContext, EgressTagCloserManager> {
        builder.decorate_service_context(|_| Ok(EgressTagCloserManager::new()))
    }

    /// The manager declared with `key` on `service`, if it is that ServiceContext's.
    pub fn get(
        service: &ServiceContext,
        key: Decoration<ServiceContext, EgressTagCloserManager>,
    ) -> Option<EgressTagCloserManager> {
        service.decoration(key).cloned()
    }

    /// Registers `closer`; returns the id to [`remove`](Self::remove) it with.
    pub fn add(&self, closer: Weak<dyn EgressTagCloser>) -> u64 {
        let mut registered = lock(&self.closers);
        let id = registered.next_id;
        registered.next_id += 1;
        registered.closers.push((id, closer));
        id
    }

    /// Unregisters the closer added as `id`.
    pub fn remove(&self, id: u64) {
        lock(&self.closers).closers.retain(|(i, _)| *i != id);
    }

    /// Drops, in every pool, the hosts whose tags share no bit with `tag_mask`.
    pub fn drop_connections_by_tags(&self, tag_mask: u32) {
        for closer in self.live() {
            closer.drop_connections_by_tags(tag_mask);
        }
    }

    /// Drops the connections to `host` in every pool.
    pub fn drop_connections_to(&self, host: &str) {
        for closer in self.live() {
            closer.drop_connections_to(host);
        }
    }

    /// Replaces the tags of `host` with `mutate(tags)` in every pool that knows it.
    pub fn mutate_tags(&self, host: &str, mutate: &dyn Fn(u32) -> u32) {
        for closer in self.live() {
            closer.mutate_tags(host, mutate);
        }
    }

    /// Adds every registered pool's per-host counters to `stats` (what connPoolStats reports).
    pub fn append_connection_stats(&self, stats: &mut ConnectionPoolStats) {
        for closer in self.live() {
            closer.append_connection_stats(stats);
        }
    }

    /// How many closers are registered and alive.
    pub fn len(&self) -> usize {
        self.live().len()
    }

    /// Whether no live closer is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The live closers, collected under the lock and called after it is released.
    fn live(&self) -> Vec<Arc<dyn EgressTagCloser>> {
        let mut registered = lock(&self.closers);
        registered.closers.retain(|(_, weak)| weak.strong_count() > 0);
        registered
            .closers
            .iter()
            .filter_map(|(_, weak)| weak.upgrade())
            .collect()
    }
}
