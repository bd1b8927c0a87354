//! What every specific pool of one connection pool shares: factory, clock, runtime, controller, options.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use docwire_service::Clock;

use crate::connection::{ConnectionFactory, ConnectionInterface};
use crate::controller::ControllerInterface;
use crate::options::Options;

/// The parts of a [`ConnectionPool`](crate::ConnectionPool) its specific pools read but never change.
pub(crate) struct Common<C: ConnectionInterface> {
    /// The pool's name in connPoolStats.
    pub(crate) name: String,
    pub(crate) factory: Arc<dyn ConnectionFactory<Connection = C>>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Setups and refreshes run as tasks here; alarms may fire on a thread outside any runtime (the
    /// SystemClock's timer thread), so the handle is captured when the pool is made.
    pub(crate) runtime: tokio::runtime::Handle,
    pub(crate) controller: Arc<dyn ControllerInterface>,
    pub(crate) options: Options,
}

impl<C: ConnectionInterface> fmt::Debug for Common<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Common")
            .field("name", &self.name)
            .field("controller", &self.controller)
            .finish_non_exhaustive()
    }
}

/// Locks `mutex`, carrying on past poisoning: every critical section in this crate leaves its state
/// consistent before anything that could panic, so one panicking caller is no reason to fail the rest.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
