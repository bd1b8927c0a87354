//! `ControllerInterface`: the policy that tells each specific pool how many connections to keep and open.
//!
//! mongod's `ConnectionPool::ControllerInterface`. A specific pool reports its state with
//! [`update_host`](ControllerInterface::update_host) whenever it changes and gets back its controls.
//! The pool calls the controller while holding that host's lock, so a controller must be quick and must
//! never call back into the pool.

use std::fmt;
use std::time::Duration;

/// A specific pool's state, as reported to the controller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostState {
    /// Queued `get` requests.
    pub requests: usize,
    /// Connections in setup or refresh.
    pub pending: usize,
    /// Idle connections ready to hand out.
    pub ready: usize,
    /// Connections checked out (not leased).
    pub active: usize,
    /// Connections leased.
    pub leased: usize,
}

/// How many connections a host should have and how many may be opening at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionControls {
    /// At most this many connections in setup or refresh before no more are spawned (maxConnecting).
    pub max_pending: usize,
    /// The number of open connections (ready, pending, checked out) to aim for.
    pub target: usize,
}

/// The controller's answer to a host update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostUpdate {
    /// The host's controls from now on.
    pub controls: ConnectionControls,
    /// Whether the host may be shut down once it has expired (a host group may keep it alive).
    pub can_shutdown: bool,
}

/// Directs the specific pools of one connection pool.
pub trait ControllerInterface: Send + Sync + fmt::Debug {
    /// A specific pool for `host` was made.
    fn add_host(&self, host: &str);

    /// `host` is now in `state`; returns its controls.
    fn update_host(&self, host: &str, state: &HostState) -> HostUpdate;

    /// The specific pool for `host` was shut down.
    fn remove_host(&self, host: &str);

    /// How long a host may sit with no requests and nothing checked out before it expires.
    fn host_timeout(&self) -> Duration;

    /// How long a setup or refresh may take, and the longest a request may wait.
    fn pending_timeout(&self) -> Duration;

    /// How long a connection may sit unused before it is refreshed (or dropped).
    fn refresh_requirement(&self) -> Duration;

    /// The controller's name, for statistics.
    fn name(&self) -> &str;
}
