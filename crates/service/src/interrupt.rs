//! `KillSwitch`: the part of an operation other tasks may flip — the first kill code wins, and every
//! waiter (thread or task) wakes.

use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use docwire_rpc::ErrorCode;
use tokio_util::sync::CancellationToken;

use crate::monitor::{Wakeable, lock};

/// An operation's kill state: a kill code (0 while alive), the waiters to wake, and a cancellation token.
pub(crate) struct KillSwitch {
    code: AtomicI32,
    token: CancellationToken,
    waiters: Mutex<Vec<(u64, Arc<dyn Wakeable>)>>,
    next_waiter: AtomicU64,
}

impl KillSwitch {
    pub(crate) fn new() -> KillSwitch {
        KillSwitch {
            code: AtomicI32::new(0),
            token: CancellationToken::new(),
            waiters: Mutex::new(Vec::new()),
            next_waiter: AtomicU64::new(0),
        }
    }

    /// Records `code` unless a kill code is already set (the first one wins); then cancels the token
    /// and wakes every thread waiting. Returns whether this call set the code.
    pub(crate) fn kill(&self, code: ErrorCode) -> bool {
        // `OK` would read as "alive"; a kill with it is treated as a plain interruption.
        let code = if code.code() == 0 {
            ErrorCode::Interrupted
        } else {
            code
        };
        let won = self
            .code
            .compare_exchange(0, code.code(), Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if won {
            self.token.cancel();
            // Clone the waiters out so no lock is held while taking a waiter's monitor.
            let waiters: Vec<Arc<dyn Wakeable>> =
                lock(&self.waiters).iter().map(|(_, w)| w.clone()).collect();
            for waiter in waiters {
                waiter.wake();
            }
        }
        won
    }

    /// The kill code, if killed.
    pub(crate) fn code(&self) -> Option<ErrorCode> {
        match self.code.load(Ordering::Acquire) {
            0 => None,
            code => Some(ErrorCode::from_code(code)),
        }
    }

    /// A token cancelled when the operation is killed.
    pub(crate) fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// Registers `waiter` to be woken by a kill until the returned guard drops.
    pub(crate) fn register_waiter(&self, waiter: Arc<dyn Wakeable>) -> WaiterRegistration<'_> {
        let id = self.next_waiter.fetch_add(1, Ordering::Relaxed);
        lock(&self.waiters).push((id, waiter));
        WaiterRegistration { switch: self, id }
    }
}

/// Keeps a waiter registered on a [`KillSwitch`] while it waits.
pub(crate) struct WaiterRegistration<'a> {
    switch: &'a KillSwitch,
    id: u64,
}

impl Drop for WaiterRegistration<'_> {
    fn drop(&mut self) {
        lock(&self.switch.waiters).retain(|(id, _)| *id != self.id);
    }
}
