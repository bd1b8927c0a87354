//! `MockClock`: virtual time for tests; it moves only when a test calls [`MockClock::advance`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::alarm::{Alarm, AlarmKey, AlarmQueue, CancelAlarm};
use crate::clock::{AlarmCallback, Clock, ClockTime};
use crate::monitor::lock;

/// A clock whose time only moves when told to; advancing it fires every alarm that comes due.
///
/// Cloning gives another handle to the same timeline, so a test can keep one while a `ServiceContext`
/// owns another.
#[derive(Clone, Debug, Default)]
pub struct MockClock {
    shared: Arc<MockShared>,
}

#[derive(Default)]
struct MockShared {
    state: Mutex<MockState>,
}

#[derive(Default)]
struct MockState {
    now: ClockTime,
    alarms: AlarmQueue,
}

impl std::fmt::Debug for MockShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = lock(&self.state);
        write!(f, "MockClock(now {:?}, {} alarms)", state.now, state.alarms.len())
    }
}

impl MockClock {
    /// A clock at [`ClockTime::ZERO`] with no alarms.
    pub fn new() -> MockClock {
        MockClock::default()
    }

    /// Moves time forward by `by` and runs every alarm that came due, on this thread, earliest first.
    pub fn advance(&self, by: Duration) {
        let due = {
            let mut state = lock(&self.shared.state);
            state.now = state.now.saturating_add(by);
            let now = state.now;
            state.alarms.take_due(now)
        };
        // Run outside the lock: an alarm wakes a waiter, which may read the clock.
        for wake in due {
            wake();
        }
    }

    /// How many alarms are waiting for a later time (lets a test know a waiter has gone to sleep).
    pub fn pending_alarms(&self) -> usize {
        lock(&self.shared.state).alarms.len()
    }
}

impl CancelAlarm for MockShared {
    fn cancel(&self, key: AlarmKey) {
        lock(&self.state).alarms.remove(key);
    }
}

impl Clock for MockClock {
    fn now(&self) -> ClockTime {
        lock(&self.shared.state).now
    }

    fn set_alarm(&self, at: ClockTime, wake: AlarmCallback) -> Alarm {
        let mut state = lock(&self.shared.state);
        if at <= state.now {
            return Alarm::already_due();
        }
        let key = state.alarms.insert(at, wake);
        let queue: Arc<dyn CancelAlarm> = self.shared.clone();
        Alarm::pending(Arc::downgrade(&queue), key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn alarms_fire_when_time_reaches_them_and_not_after_cancel() {
        let clock = MockClock::new();
        let fired = Arc::new(AtomicUsize::new(0));
        let count = |fired: &Arc<AtomicUsize>| {
            let fired = fired.clone();
            Box::new(move || {
                fired.fetch_add(1, Ordering::SeqCst);
            }) as AlarmCallback
        };
        let at = ClockTime::from_micros(1_000);
        let kept = clock.set_alarm(at, count(&fired));
        let cancelled = clock.set_alarm(at, count(&fired));
        drop(cancelled);
        assert!(!kept.is_due());
        clock.advance(Duration::from_micros(999));
        assert_eq!(fired.load(Ordering::SeqCst), 0);
        clock.advance(Duration::from_micros(1));
        assert_eq!(fired.load(Ordering::SeqCst), 1);
        assert!(clock.set_alarm(at, count(&fired)).is_due());
        assert_eq!(clock.pending_alarms(), 0);
    }
}
