//! The state of one host's pool, kept behind its mutex, and the work a state change leaves to do.
//!
//! Every connection is owned by exactly one place at a time: the ready list, a setup or refresh task,
//! or a [`ConnectionHandle`]. The counters here say how many are in each place that the state does not
//! own itself; that ownership is what makes "never handed out twice" hold by construction.

use std::collections::BTreeMap;

use docwire_rpc::{ErrorCode, Status};
use docwire_service::{Alarm, ClockTime};
use tokio::sync::oneshot;

use crate::connection::ConnectionInterface;
use crate::controller::HostState;
use crate::future::Delivery;
use crate::stats::{HostConnectionStats, WaitTimeHistogram};

/// A connection plus what the pool alone tracks about it.
pub(crate) struct Slot<C> {
    pub(crate) conn: C,
    /// How many times it was checked out (zero when dropped counts toward wasNeverUsed).
    pub(crate) times_used: u64,
}

/// Whether the host's pool still serves requests.
#[derive(Clone, Debug)]
pub(crate) enum Health {
    Open,
    /// Shut down (expired, dropped, or the whole pool shut down); every request fails with this.
    ShutDown(Status),
}

/// What a setup or refresh task is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Work {
    Setup,
    Refresh,
}

/// A queued `get`.
pub(crate) struct Request<C: ConnectionInterface> {
    pub(crate) reply: oneshot::Sender<Delivery<C>>,
    pub(crate) queued_at: ClockTime,
    /// The code an expired request fails with (NetworkInterfaceExceededTimeLimit unless the caller chose).
    pub(crate) timeout_code: ErrorCode,
    pub(crate) lease: bool,
}

/// Requests ordered by expiry, then arrival: the first entry is the most urgent.
pub(crate) type RequestKey = (ClockTime, u64);

/// One host's pool state.
pub(crate) struct State<C: ConnectionInterface> {
    pub(crate) health: Health,
    pub(crate) generation: u64,
    /// Idle connections, least recently used first: checkout pops the back (MRU).
    pub(crate) ready: Vec<Slot<C>>,
    /// Connections in a setup task.
    pub(crate) setting_up: usize,
    /// Connections in a refresh task.
    pub(crate) refreshing: usize,
    /// Connections checked out, not leased.
    pub(crate) active: usize,
    /// Connections leased.
    pub(crate) leased: usize,
    pub(crate) requests: BTreeMap<RequestKey, Request<C>>,
    pub(crate) next_request: u64,
    /// The last get or return; the host expires hostTimeout after it when idle.
    pub(crate) last_active: ClockTime,
    /// The latest clock reading any caller brought in; the fast checkout path uses it instead of reading
    /// the clock (every timed event also has an alarm, which is exact).
    pub(crate) latest: ClockTime,
    /// Until then, connections are not opened for minConnections alone (set by a failure).
    pub(crate) retry_after: ClockTime,
    /// The armed event alarm and its time.
    pub(crate) timer: Option<(ClockTime, Alarm)>,
    pub(crate) tags: u32,
    pub(crate) created: u64,
    pub(crate) refreshed: u64,
    pub(crate) was_never_used: u64,
    pub(crate) rejected: u64,
    pub(crate) wait_times: WaitTimeHistogram,
}

impl<C: ConnectionInterface> State<C> {
    pub(crate) fn new(now: ClockTime, tags: u32) -> Self {
        State {
            health: Health::Open,
            generation: 0,
            ready: Vec::new(),
            setting_up: 0,
            refreshing: 0,
            active: 0,
            leased: 0,
            requests: BTreeMap::new(),
            next_request: 0,
            last_active: now,
            latest: now,
            retry_after: ClockTime::ZERO,
            timer: None,
            tags,
            created: 0,
            refreshed: 0,
            was_never_used: 0,
            rejected: 0,
            wait_times: WaitTimeHistogram::default(),
        }
    }

    pub(crate) fn pending(&self) -> usize {
        self.setting_up + self.refreshing
    }

    /// Every connection this host has: ready, pending, checked out and leased.
    pub(crate) fn open(&self) -> usize {
        self.ready.len() + self.pending() + self.active + self.leased
    }

    pub(crate) fn host_state(&self) -> HostState {
        HostState {
            requests: self.requests.len(),
            pending: self.pending(),
            ready: self.ready.len(),
            active: self.active,
            leased: self.leased,
        }
    }

    pub(crate) fn stats(&self) -> HostConnectionStats {
        HostConnectionStats {
            in_use: self.active as u64,
            available: self.ready.len() as u64,
            leased: self.leased as u64,
            created: self.created,
            refreshing: self.pending() as u64,
            refreshed: self.refreshed,
            was_never_used: self.was_never_used,
            pending_requests: self.requests.len() as u64,
            rejected_requests: self.rejected,
            acquisition_wait_times: self.wait_times.clone(),
        }
    }

    /// Whether nothing is queued or checked out (the condition for the host to expire).
    pub(crate) fn is_idle(&self) -> bool {
        self.requests.is_empty() && self.active == 0 && self.leased == 0
    }

    /// Queues a request; returns its key.
    pub(crate) fn push_request(&mut self, expiry: ClockTime, request: Request<C>) -> RequestKey {
        let key = (expiry, self.next_request);
        self.next_request += 1;
        self.requests.insert(key, request);
        key
    }

    /// Counts `slot` as checked out (or leased); the caller hands it to a [`ConnectionHandle`].
    pub(crate) fn count_check_out(&mut self, slot: &mut Slot<C>, lease: bool) {
        slot.times_used += 1;
        if lease {
            self.leased += 1;
        } else {
            self.active += 1;
        }
    }

    /// Hands `slot` to `actions` for dropping after the lock, counting it if it never served anyone.
    pub(crate) fn discard(&mut self, slot: Slot<C>, actions: &mut Actions<C>) {
        if slot.times_used == 0 {
            self.was_never_used += 1;
        }
        actions.dropped.push(slot);
    }
}

/// Work a state change leaves for after the lock is released: answering waiters (which may drop a
/// handle, which relocks), starting tasks, dropping connections (whose destructors may do I/O).
pub(crate) struct Actions<C: ConnectionInterface> {
    pub(crate) deliveries: Vec<(oneshot::Sender<Delivery<C>>, Delivery<C>)>,
    pub(crate) tasks: Vec<(Slot<C>, Work)>,
    pub(crate) dropped: Vec<Slot<C>>,
    /// The host shut itself down (expired) and must leave its parent's map.
    pub(crate) expired: bool,
}

impl<C: ConnectionInterface> Default for Actions<C> {
    fn default() -> Self {
        Actions {
            deliveries: Vec::new(),
            tasks: Vec::new(),
            dropped: Vec::new(),
            expired: false,
        }
    }
}
