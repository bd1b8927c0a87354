//! `Monitor`: a value behind a mutex with a condition variable, which interruptible waits can be woken on.
//!
//! Interruptible thread waits ([`OperationContext::wait_for_condition_or_interrupt`]) need a kill or an
//! alarm on another thread to wake the waiter. The waker locks the monitor's mutex before notifying, so a
//! waiter that checked its conditions under the lock cannot miss the wake-up (the same protocol as
//! mongod's `OperationContext::markKilled`, which takes the waiter's mutex before signalling).
//!
//! [`OperationContext::wait_for_condition_or_interrupt`]: crate::OperationContext::wait_for_condition_or_interrupt

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, carrying on past poisoning: every critical section here leaves state consistent, so a
/// panic elsewhere is no reason to fail every later caller.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Something a kill or an alarm can wake.
pub(crate) trait Wakeable: Send + Sync {
    /// Wakes every waiter.
    fn wake(&self);
}

/// A value behind a mutex, paired with a condition variable signalled when the value changes.
#[derive(Debug, Default)]
pub struct Monitor<T> {
    value: Mutex<T>,
    changed: Condvar,
}

impl<T> Monitor<T> {
    /// A monitor holding `value`.
    pub fn new(value: T) -> Monitor<T> {
        Monitor {
            value: Mutex::new(value),
            changed: Condvar::new(),
        }
    }

    /// Locks the value.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        lock(&self.value)
    }

    /// Wakes every thread waiting on this monitor so it re-checks its condition.
    pub fn notify_all(&self) {
        self.changed.notify_all();
    }

    /// Changes the value under the lock, then wakes every waiter.
    pub fn update<R>(&self, change: impl FnOnce(&mut T) -> R) -> R {
        let result = change(&mut self.lock());
        self.notify_all();
        result
    }

    /// Releases `guard`, waits for a notification, and relocks.
    pub(crate) fn wait<'a>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.changed.wait(guard).unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Send> Wakeable for Monitor<T> {
    fn wake(&self) {
        // Taking the lock orders this wake-up after any waiter's check-then-wait.
        drop(self.lock());
        self.changed.notify_all();
    }
}
