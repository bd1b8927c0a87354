//! `ConnectionPool`: the specific pools by host, made lazily, and the operations that reach them all.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasherDefault;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use bson::Document;
use docwire_rpc::{ErrorCode, Status, StatusResult};
use docwire_service::Clock;
use docwire_transport::tags;

use crate::common::{Common, HostHasher};
use crate::connection::{ConnectionFactory, ConnectionInterface};
use crate::controller::ControllerInterface;
use crate::future::ConnectionFuture;
use crate::limit_controller::LimitController;
use crate::options::Options;
use crate::specific_pool::SpecificPool;
use crate::stats::ConnectionPoolStats;
use crate::tag_closer::{EgressTagCloser, EgressTagCloserManager};

/// An egress connection pool: one specific pool per host, each made on first use.
///
/// Not `Clone`: share it behind an `Arc`. Dropping it shuts it down (every request fails with
/// ShutdownInProgress, ready connections are dropped, checked-out ones are dropped when returned).
pub struct ConnectionPool<C: ConnectionInterface> {
    shared: Arc<Shared<C>>,
    /// Our registration with the tag closer manager, undone on drop.
    registration: Option<(EgressTagCloserManager, u64)>,
}

/// What the pool's specific pools and the tag closer manager reach.
pub(crate) struct Shared<C: ConnectionInterface> {
    common: Arc<Common<C>>,
    /// The host map. Locked only to find, add or remove a specific pool, never together with one's state.
    /// Every `get` looks its host up here, so lookups share a read lock and never wait for each other.
    hosts: RwLock<Hosts<C>>,
}

struct Hosts<C: ConnectionInterface> {
    pools: HashMap<String, Arc<SpecificPool<C>>, BuildHasherDefault<HostHasher>>,
    shut_down: bool,
}

/// The host map for reading, carrying on past poisoning as [`lock`](crate::common::lock) does.
fn read<C: ConnectionInterface>(hosts: &RwLock<Hosts<C>>) -> RwLockReadGuard<'_, Hosts<C>> {
    hosts.read().unwrap_or_else(PoisonError::into_inner)
}

/// The host map for changing.
fn write<C: ConnectionInterface>(hosts: &RwLock<Hosts<C>>) -> RwLockWriteGuard<'_, Hosts<C>> {
    hosts.write().unwrap_or_else(PoisonError::into_inner)
}

impl<C: ConnectionInterface> ConnectionPool<C> {
    /// A pool named `name` (its key in connPoolStats) with the default [`LimitController`]. Must be
    /// called inside a tokio runtime, which runs the pool's setup and refresh tasks.
    pub fn new<F>(
        name: impl Into<String>,
        factory: F,
        clock: Arc<dyn Clock>,
        options: Options,
    ) -> StatusResult<Self>
    where
        F: ConnectionFactory<Connection = C>,
    {
        let controller = Arc::new(LimitController::new(&options));
        ConnectionPool::with_controller(name, factory, clock, options, controller)
    }

    /// A pool directed by `controller` instead of a [`LimitController`].
    pub fn with_controller<F>(
        name: impl Into<String>,
        factory: F,
        clock: Arc<dyn Clock>,
        options: Options,
        controller: Arc<dyn ControllerInterface>,
    ) -> StatusResult<Self>
    where
        F: ConnectionFactory<Connection = C>,
    {
        let runtime = tokio::runtime::Handle::try_current().map_err(|e| {
            Status::new(
                ErrorCode::InternalError,
                format!("a ConnectionPool must be made inside a tokio runtime: {e}"),
            )
        })?;
        let manager = options.egress_tag_closer_manager.clone();
        let common = Arc::new(Common {
            name: name.into(),
            factory: Arc::new(factory),
            clock,
            runtime,
            controller,
            options,
        });
        let shared = Arc::new(Shared {
            common,
            hosts: RwLock::new(Hosts {
                pools: HashMap::default(),
                shut_down: false,
            }),
        });
        let registration = manager.map(|manager| {
            let closer: Arc<dyn EgressTagCloser> = shared.clone();
            let id = manager.add(Arc::downgrade(&closer));
            (manager, id)
        });
        Ok(ConnectionPool { shared, registration })
    }

    /// The pool's name.
    pub fn name(&self) -> &str {
        &self.shared.common.name
    }

    /// A connection to `host` within `timeout` (`None`, or more than refreshTimeout, means refreshTimeout);
    /// an expired request fails with NetworkInterfaceExceededTimeLimit.
    pub fn get(&self, host: &str, timeout: Option<Duration>) -> ConnectionFuture<C> {
        self.acquire(host, timeout, ErrorCode::NetworkInterfaceExceededTimeLimit, false)
    }

    /// As [`get`](Self::get), but an expired request fails with `timeout_code`.
    pub fn get_with_timeout_code(
        &self,
        host: &str,
        timeout: Option<Duration>,
        timeout_code: ErrorCode,
    ) -> ConnectionFuture<C> {
        self.acquire(host, timeout, timeout_code, false)
    }

    /// As [`get`](Self::get), but the connection is counted as leased (long-lived, e.g. exhaust).
    pub fn lease(&self, host: &str, timeout: Option<Duration>) -> ConnectionFuture<C> {
        self.acquire(host, timeout, ErrorCode::NetworkInterfaceExceededTimeLimit, true)
    }

    /// Shuts down the pool for `host` (requests fail with PooledConnectionsDropped); the next `get`
    /// starts afresh.
    pub fn drop_connections_to(&self, host: &str) {
        self.shared.drop_connections_to(host);
    }

    /// Shuts down every host whose tags share no bit with `tag_mask`.
    pub fn drop_connections_by_tags(&self, tag_mask: u32) {
        self.shared.drop_connections_by_tags(tag_mask);
    }

    /// Replaces the tags of `host` with `mutate(tags)`; new hosts start with the pending tag.
    pub fn mutate_tags(&self, host: &str, mutate: &dyn Fn(u32) -> u32) {
        self.shared.mutate_tags(host, mutate);
    }

    /// The tags of `host`, if it has a pool.
    pub fn tags(&self, host: &str) -> Option<u32> {
        self.shared.pool(host).map(|pool| pool.tags())
    }

    /// Fails every request with ShutdownInProgress and drops every connection; later gets fail too.
    pub fn shutdown(&self) {
        let pools = {
            let mut hosts = write(&self.shared.hosts);
            hosts.shut_down = true;
            std::mem::take(&mut hosts.pools)
        };
        for pool in pools.into_values() {
            pool.shutdown(Status::new(
                ErrorCode::ShutdownInProgress,
                "Shutting down the connection pool",
            ));
        }
    }

    /// Connections open to `host` (ready, in setup or refresh, checked out or leased).
    pub fn num_connections_per_host(&self, host: &str) -> usize {
        self.shared.pool(host).map_or(0, |pool| pool.open_connections())
    }

    /// The hosts that have a specific pool now.
    pub fn hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = read(&self.shared.hosts).pools.keys().cloned().collect();
        hosts.sort();
        hosts
    }

    /// Adds this pool's per-host counters to `stats` (mongod's `appendConnectionStats`).
    pub fn append_connection_stats(&self, stats: &mut ConnectionPoolStats) {
        EgressTagCloser::append_connection_stats(&*self.shared, stats);
    }

    /// This pool's connPoolStats section on its own.
    pub fn stats_document(&self) -> Document {
        let mut stats = ConnectionPoolStats::new();
        self.append_connection_stats(&mut stats);
        stats.to_document()
    }

    fn acquire(
        &self,
        host: &str,
        timeout: Option<Duration>,
        code: ErrorCode,
        lease: bool,
    ) -> ConnectionFuture<C> {
        loop {
            let pool = match self.shared.pool_or_create(host) {
                Ok(pool) => pool,
                Err(status) => return ConnectionFuture::ready(Err(status)),
            };
            match pool.get(timeout, code, lease) {
                Ok(future) => return future,
                // It expired between the lookup and the get: forget it and make a new one.
                Err(pool) => self.shared.remove_pool(host, &pool),
            }
        }
    }
}

impl<C: ConnectionInterface> Shared<C> {
    fn pool(&self, host: &str) -> Option<Arc<SpecificPool<C>>> {
        read(&self.hosts).pools.get(host).cloned()
    }

    fn pool_or_create(self: &Arc<Self>, host: &str) -> StatusResult<Arc<SpecificPool<C>>> {
        let shut_down = || Status::new(ErrorCode::ShutdownInProgress, "Connection pool is shut down");
        {
            let hosts = read(&self.hosts);
            if hosts.shut_down {
                return Err(shut_down());
            }
            if let Some(pool) = hosts.pools.get(host) {
                return Ok(Arc::clone(pool));
            }
        }
        // Not there: look again under the write lock, since another caller may have made it meanwhile.
        let mut hosts = write(&self.hosts);
        if hosts.shut_down {
            return Err(shut_down());
        }
        if let Some(pool) = hosts.pools.get(host) {
            return Ok(Arc::clone(pool));
        }
        let pool = SpecificPool::new(
            host,
            Arc::clone(&self.common),
            Arc::downgrade(self),
            tags::PENDING,
        );
        hosts.pools.insert(host.to_owned(), Arc::clone(&pool));
        Ok(pool)
    }

    /// Forgets `pool` if it is still the one for `host`.
    pub(crate) fn remove_pool(&self, host: &str, pool: &Arc<SpecificPool<C>>) {
        let mut hosts = write(&self.hosts);
        if hosts
            .pools
            .get(host)
            .is_some_and(|current| Arc::ptr_eq(current, pool))
        {
            hosts.pools.remove(host);
        }
    }
}

fn dropped() -> Status {
    Status::new(ErrorCode::PooledConnectionsDropped, "Pooled connections dropped")
}

impl<C: ConnectionInterface> EgressTagCloser for Shared<C> {
    fn drop_connections_by_tags(&self, tag_mask: u32) {
        let doomed: Vec<_> = {
            let mut hosts = write(&self.hosts);
            let names: Vec<String> = hosts
                .pools
                .iter()
                .filter(|(_, pool)| pool.tags() & tag_mask == 0)
                .map(|(host, _)| host.clone())
                .collect();
            names.iter().filter_map(|host| hosts.pools.remove(host)).collect()
        };
        for pool in doomed {
            pool.shutdown(dropped());
        }
    }

    fn drop_connections_to(&self, host: &str) {
        let doomed = write(&self.hosts).pools.remove(host);
        if let Some(pool) = doomed {
            pool.shutdown(dropped());
        }
    }

    fn mutate_tags(&self, host: &str, mutate: &dyn Fn(u32) -> u32) {
        if let Some(pool) = self.pool(host) {
            pool.mutate_tags(mutate);
        }
    }

    fn append_connection_stats(&self, stats: &mut ConnectionPoolStats) {
        // Collected first: each host's stats take its own lock, never together with the host map's.
        let pools: Vec<_> = read(&self.hosts).pools.values().cloned().collect();
        for pool in pools {
            stats.update_stats_for_host(&self.common.name, pool.host(), &pool.stats());
        }
    }
}

impl<C: ConnectionInterface> Drop for ConnectionPool<C> {
    fn drop(&mut self) {
        if let Some((manager, id)) = self.registration.take() {
            manager.remove(id);
        }
        self.shutdown();
    }
}

impl<C: ConnectionInterface> fmt::Debug for ConnectionPool<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionPool")
            .field("name", &self.shared.common.name)
            .field("hosts", &self.hosts())
            .finish()
    }
}
