//! `ConnectionHandle`: a checked-out connection that goes back to its pool when dropped.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use docwire_rpc::Status;

use crate::connection::ConnectionInterface;
use crate::specific_pool::SpecificPool;
use crate::specific_state::Slot;

/// What the holder said about the connection before returning it; it decides the connection's fate.
#[derive(Clone, Debug, Default)]
pub(crate) enum Outcome {
    /// Nothing said: the connection may be mid-exchange, so it is dropped (mongod's "unknown state").
    #[default]
    Unknown,
    /// Used and fine: marked used at its return, and kept.
    Success,
    /// Broken: dropped. The status is kept only for the log.
    Failure(Status),
    /// Never reached a holder (the caller stopped waiting): kept as it was.
    Unused,
}

/// A connection checked out of a [`ConnectionPool`](crate::ConnectionPool).
///
/// Derefs to the connection. Before dropping it, call [`indicate_success`](Self::indicate_success) or
/// [`indicate_failure`](Self::indicate_failure); a handle dropped with neither is treated as broken.
pub struct ConnectionHandle<C: ConnectionInterface> {
    slot: Option<Slot<C>>,
    pool: Arc<SpecificPool<C>>,
    outcome: Outcome,
    leased: bool,
}

impl<C: ConnectionInterface> ConnectionHandle<C> {
    pub(crate) fn new(slot: Slot<C>, pool: Arc<SpecificPool<C>>, leased: bool) -> Self {
        ConnectionHandle {
            slot: Some(slot),
            pool,
            outcome: Outcome::Unknown,
            leased,
        }
    }

    /// The connection is fine and was used: it goes back to the ready connections, counted as used at
    /// its return (idle time for refresh starts there).
    pub fn indicate_success(&mut self) {
        self.outcome = Outcome::Success;
    }

    /// The connection is broken: it is dropped when returned.
    pub fn indicate_failure(&mut self, status: Status) {
        self.outcome = Outcome::Failure(status);
    }

    /// Records a use now (idle time for refresh is counted from the last use).
    pub fn indicate_used(&mut self) {
        let now = self.pool.now();
        if let Some(slot) = self.slot.as_mut() {
            slot.conn.indicate_used(now);
        }
    }

    /// Whether this handle was leased rather than checked out.
    pub fn is_leased(&self) -> bool {
        self.leased
    }

    pub(crate) fn mark_unused(&mut self) {
        self.outcome = Outcome::Unused;
    }
}

impl<C: ConnectionInterface> Deref for ConnectionHandle<C> {
    type Target = C;

    fn deref(&self) -> &C {
        // The slot is taken only in `drop`, so it is always here while the handle can be reached.
        match self.slot.as_ref() {
            Some(slot) => &slot.conn,
            None => unreachable!("a ConnectionHandle's connection is present until it is dropped"),
        }
    }
}

impl<C: ConnectionInterface> DerefMut for ConnectionHandle<C> {
    fn deref_mut(&mut self) -> &mut C {
        match self.slot.as_mut() {
            Some(slot) => &mut slot.conn,
            None => unreachable!("a ConnectionHandle's connection is present until it is dropped"),
        }
    }
}

impl<C: ConnectionInterface> Drop for ConnectionHandle<C> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            let outcome = std::mem::take(&mut self.outcome);
            self.pool.return_connection(slot, outcome, self.leased);
        }
    }
}

impl<C: ConnectionInterface> fmt::Debug for ConnectionHandle<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionHandle")
            .field("host", &self.pool.host())
            .field("outcome", &self.outcome)
            .field("leased", &self.leased)
            .finish()
    }
}
