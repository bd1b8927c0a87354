//! `WorkSignal`: how idle executor workers sleep until there is work, without polling.

use tokio::sync::Notify;

use docwire_service::{Clock, ClockTime, sleep_until};

/// A wake-up for idle workers. A signal with nobody waiting is kept for the next waiter, so work pushed
/// just before a worker goes to sleep is never missed.
#[derive(Debug, Default)]
pub struct WorkSignal {
    notify: Notify,
}

impl WorkSignal {
    /// A signal nobody has raised yet.
    pub fn new() -> WorkSignal {
        WorkSignal::default()
    }

    /// Wakes one waiter, or the next one to wait.
    pub fn signal(&self) {
        self.notify.notify_one();
    }

    /// Completes at the next signal.
    pub async fn wait(&self) {
        self.notify.notified().await;
    }

    /// Completes at the next signal or when `clock` reaches `at`, whichever is first.
    pub async fn wait_until(&self, clock: &dyn Clock, at: ClockTime) {
        tokio::select! {
            _ = self.notify.notified() => {}
            _ = sleep_until(clock, at) => {}
        }
    }
}
