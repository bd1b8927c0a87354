//! What every specific pool of one connection pool shares: factory, clock, runtime, controller, options.

use std::fmt;
use std::hash::Hasher;
use std::ops::Deref;
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

/// FNV-1a, for the host map: every `get` hashes its host name, and SipHash's resistance to chosen keys
/// buys nothing for names the process itself configures.
pub(crate) struct HostHasher(u64);

impl Default for HostHasher {
    fn default() -> Self {
        HostHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for HostHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Keeps `T` on cache lines of its own. A specific pool's state mutex is taken twice per checkout by
/// every caller; sharing its line with the pool's reference count (cloned per checkout) would make
/// each of those bounce the other between cores.
#[repr(align(128))]
pub(crate) struct CachePadded<T>(pub(crate) T);

impl<T> Deref for CachePadded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}
