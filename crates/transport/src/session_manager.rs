//! `SessionManager`: the live sessions, mongod's connection limit and counters (serverStatus.connections),
//! `endAllSessions(tagMask)`, and the drain at shutdown. Kept on the ServiceContext as a decoration.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dashmap::DashMap;
use docwire_service::{Decoration, ServiceContext, ServiceContextBuilder};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::session::{NetworkCounters, SessionInfo};
use crate::tags;

/// mongod's default `maxConns`.
pub const DEFAULT_MAX_CONNS: usize = 1_000_000;

/// serverStatus.connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionStats {
    /// Open sessions.
    pub current: u64,
    /// How many more the limit allows.
    pub available: u64,
    /// Sessions accepted since start.
    pub total_created: u64,
    /// Connections refused over the limit.
    pub rejected: u64,
}

struct Entry {
    info: Arc<SessionInfo>,
    end: CancellationToken,
}

/// The registry of live sessions.
pub struct SessionManager {
    max_conns: usize,
    sessions: DashMap<u64, Entry>,
    next_id: AtomicU64,
    total_created: AtomicU64,
    rejected: AtomicU64,
    counters: Arc<NetworkCounters>,
    emptied: Notify,
}

/// mongod's share of RLIMIT_NOFILE for connections: 80%, of which half (files need the rest).
pub const MONGOD_FD_SHARE: f64 = 0.8 / 2.0;

/// A proxy's share of RLIMIT_NOFILE for client connections: 80% (its upstream pool is small).
pub const PROXY_FD_SHARE: f64 = 0.8;

impl SessionManager {
    /// A manager enforcing mongod's limit: `min(max_conns, 0.8 * RLIMIT_NOFILE / 2)`.
    pub fn new(max_conns: usize) -> SessionManager {
        SessionManager::with_fd_share(max_conns, MONGOD_FD_SHARE)
    }

    /// A manager allowing at most `min(max_conns, fd_share * RLIMIT_NOFILE)` sessions. mongod keeps half of
    /// its 80% for files; a proxy, whose other descriptors are a small upstream pool, can give clients
    /// the whole 80% ([`PROXY_FD_SHARE`]).
    pub fn with_fd_share(max_conns: usize, fd_share: f64) -> SessionManager {
        let fd_cap = open_file_limit().map_or(usize::MAX, |n| (n as f64 * fd_share) as usize);
        SessionManager {
            max_conns: max_conns.min(fd_cap).max(1),
            sessions: DashMap::new(),
            next_id: AtomicU64::new(1),
            total_created: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            counters: Arc::new(NetworkCounters::default()),
            emptied: Notify::new(),
        }
    }

    /// Declares the manager as a ServiceContext decoration; fetch it with `service.decoration(key)`.
    pub fn declare(
        builder: &mut ServiceContextBuilder,
        max_conns: usize,
    ) -> Decoration<ServiceContext, Arc<Self>> {
        builder.decorate_service_context(move |_| Ok(Arc::new(SessionManager::new(max_conns))))
    }

    /// Like [`declare`](Self::declare), with the share of the descriptor limit clients may use.
    pub fn declare_with_fd_share(
        builder: &mut ServiceContextBuilder,
        max_conns: usize,
        fd_share: f64,
    ) -> Decoration<ServiceContext, Arc<Self>> {
        builder.decorate_service_context(move |_| {
            Ok(Arc::new(SessionManager::with_fd_share(max_conns, fd_share)))
        })
    }

    /// The effective connection limit.
    pub fn max_conns(&self) -> usize {
        self.max_conns
    }

    /// Byte and request counters of every session (serverStatus.network).
    pub fn counters(&self) -> &Arc<NetworkCounters> {
        &self.counters
    }

    /// Admits a new connection if the limit allows: its id and the token that ends it. Over the limit
    /// the caller closes the connection without a reply; it is counted as rejected.
    pub fn admit(
        self: &Arc<Self>,
        local: String,
        remote: String,
        is_unix: bool,
    ) -> Option<(Arc<SessionInfo>, SessionGuard)> {
        if self.sessions.len() >= self.max_conns {
            self.rejected.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                remote = %remote,
                current = self.sessions.len(),
                max = self.max_conns,
                "Connection refused because there are too many open connections"
            );
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let info = Arc::new(SessionInfo::new(id, local, remote, is_unix));
        let end = CancellationToken::new();
        self.sessions.insert(
            id,
            Entry {
                info: info.clone(),
                end: end.clone(),
            },
        );
        self.total_created.fetch_add(1, Ordering::Relaxed);
        Some((
            info,
            SessionGuard {
                manager: self.clone(),
                id,
                end,
            },
        ))
    }

    /// The counters mongod reports as serverStatus.connections.
    pub fn stats(&self) -> ConnectionStats {
        let current = self.sessions.len() as u64;
        ConnectionStats {
            current,
            available: (self.max_conns as u64).saturating_sub(current),
            total_created: self.total_created.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }

    /// The info of every live session.
    pub fn sessions(&self) -> Vec<Arc<SessionInfo>> {
        self.sessions.iter().map(|e| e.info.clone()).collect()
    }

    /// Ends every session whose tags share no bit with `tag_mask` and which is not pending.
    pub fn end_all_sessions(&self, tag_mask: u32) -> usize {
        let mut ended = 0;
        for entry in self.sessions.iter() {
            let t = entry.info.tags();
            if t & tags::PENDING == 0 && t & tag_mask == 0 {
                entry.end.cancel();
                ended += 1;
            }
        }
        ended
    }

    /// Ends one session (e.g. a connection that did not authenticate in time); false if it is gone.
    pub fn end_session(&self, id: u64) -> bool {
        match self.sessions.get(&id) {
            Some(entry) => {
                entry.end.cancel();
                true
            }
            None => false,
        }
    }

    /// Ends every session (shutdown).
    pub fn end_everything(&self) {
        for entry in self.sessions.iter() {
            entry.end.cancel();
        }
    }

    /// Waits until no session is left, or `timeout` passes; returns whether it emptied.
    pub async fn wait_until_empty(&self, timeout: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.emptied.notified();
                if self.sessions.is_empty() {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }
}

/// Keeps a session registered; dropping it deregisters the session exactly once.
pub struct SessionGuard {
    manager: Arc<SessionManager>,
    id: u64,
    end: CancellationToken,
}

impl SessionGuard {
    /// The token cancelled when the session must end (endAllSessions, shutdown).
    pub fn end_token(&self) -> &CancellationToken {
        &self.end
    }
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        deregister(&self.manager, self.id);
    }
}

fn deregister(manager: &SessionManager, id: u64) {
    if let Some((_, entry)) = manager.sessions.remove(&id) {
        entry.info.mark_disconnected();
    }
    if manager.sessions.is_empty() {
        manager.emptied.notify_waiters();
    }
}

/// The soft RLIMIT_NOFILE, read from /proc (no libc binding needed); `None` where unavailable.
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}
