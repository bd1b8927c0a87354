//! `Options`: a connection pool's limits and timeouts, with mongod's names and defaults.

use std::time::Duration;

use crate::tag_closer::EgressTagCloserManager;

/// mongod's `ConnectionPool::Options`. Field names are mongod's in snake case.
#[derive(Clone, Debug)]
pub struct Options {
    /// minConnections: connections kept per host even when idle (default 1).
    pub min_connections: usize,
    /// maxConnections: the most connections per host (default unlimited).
    pub max_connections: usize,
    /// maxConnecting: the most connections in setup or refresh per host at once (default 2).
    pub max_connecting: usize,
    /// refreshTimeout: the limit on a setup or refresh, and on any request's wait (default 20 s).
    pub refresh_timeout: Duration,
    /// refreshRequirement: idle time after which a connection is refreshed (default 60 s).
    pub refresh_requirement: Duration,
    /// hostTimeout: idle time after which a host's pool is shut down (default 5 min).
    pub host_timeout: Duration,
    /// After a failed setup or refresh, how long before connections are opened again for
    /// minConnections alone (requests still open them at once; default 1 s).
    pub host_retry_timeout: Duration,
    /// connectionRequestsMaxQueueDepth: queued requests per host before new ones are rejected with
    /// PooledConnectionAcquisitionRejected (default 0: no limit).
    pub connection_requests_max_queue_depth: usize,
    /// The manager this pool registers with, so `dropConnections` by tag or host reaches it.
    pub egress_tag_closer_manager: Option<EgressTagCloserManager>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            min_connections: 1,
            max_connections: usize::MAX,
            max_connecting: 2,
            refresh_timeout: Duration::from_secs(20),
            refresh_requirement: Duration::from_secs(60),
            host_timeout: Duration::from_secs(300),
            host_retry_timeout: Duration::from_secs(1),
            connection_requests_max_queue_depth: 0,
            egress_tag_closer_manager: None,
        }
    }
}
