//! `SystemClock`: the real monotonic clock, with one timer thread that fires its alarms.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::alarm::{Alarm, AlarmKey, AlarmQueue, CancelAlarm};
use crate::clock::{AlarmCallback, Clock, ClockTime};
use crate::monitor::lock;

/// The real clock: monotonic time since it was made. Alarms run on a timer thread it owns, which exits
/// when the clock is dropped.
#[derive(Debug)]
pub struct SystemClock {
    shared: Arc<TimerShared>,
}

struct TimerShared {
    origin: Instant,
    state: Mutex<TimerState>,
    changed: Condvar,
}

#[derive(Default)]
struct TimerState {
    alarms: AlarmQueue,
    stopping: bool,
}

impl std::fmt::Debug for TimerShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SystemClock(started {:?} ago)", self.origin.elapsed())
    }
}

impl TimerShared {
    fn now(&self) -> ClockTime {
        let micros = u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX);
        ClockTime::from_micros(micros)
    }

    /// The timer thread: fire due alarms, then sleep until the earliest one (or a new, earlier one).
    fn run_timer(&self) {
        let mut state = lock(&self.state);
        loop {
            if state.stopping {
                return;
            }
            let now = self.now();
            let due = state.alarms.take_due(now);
            if !due.is_empty() {
                drop(state);
                for wake in due {
                    wake();
                }
                state = lock(&self.state);
                continue;
            }
            state = match state.alarms.next_due() {
                None => self.changed.wait(state).unwrap_or_else(PoisonError::into_inner),
                Some(at) => {
                    let timeout = at.saturating_duration_since(now).max(Duration::from_micros(1));
                    self.changed
                        .wait_timeout(state, timeout)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }
}

impl SystemClock {
    /// A clock starting now, with its timer thread running.
    pub fn new() -> StatusResult<SystemClock> {
        let shared = Arc::new(TimerShared {
            origin: Instant::now(),
            state: Mutex::new(TimerState::default()),
            changed: Condvar::new(),
        });
        let timer = Arc::clone(&shared);
        thread::Builder::new()
            .name("docwire-clock".into())
            .spawn(move || timer.run_timer())
            .map_err(|e| {
                Status::new(
                    ErrorCode::InternalError,
                    format!("cannot start clock thread: {e}"),
                )
            })?;
        Ok(SystemClock { shared })
    }
}

impl Drop for SystemClock {
    fn drop(&mut self) {
        lock(&self.shared.state).stopping = true;
        self.shared.changed.notify_all();
    }
}

impl CancelAlarm for TimerShared {
    fn cancel(&self, key: AlarmKey) {
        lock(&self.state).alarms.remove(key);
    }
}

impl Clock for SystemClock {
    fn now(&self) -> ClockTime {
        self.shared.now()
    }

    fn set_alarm(&self, at: ClockTime, wake: AlarmCallback) -> Alarm {
        let mut state = lock(&self.shared.state);
        if at <= self.shared.now() {
            return Alarm::already_due();
        }
        let earliest = state.alarms.next_due().is_none_or(|next| at < next);
        let key = state.alarms.insert(at, wake);
        drop(state);
        if earliest {
            self.shared.changed.notify_all();
        }
        let queue: Arc<dyn CancelAlarm> = self.shared.clone();
        Alarm::pending(Arc::downgrade(&queue), key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_alarms_are_due_and_time_does_not_go_backwards() {
        let clock = SystemClock::new().unwrap();
        let first = clock.now();
        assert!(clock.set_alarm(ClockTime::ZERO, Box::new(|| {})).is_due());
        assert!(clock.now() >= first);
        // A far-off alarm is pending, and dropping it takes it out of the queue.
        let far = clock.set_alarm(first.saturating_add(Duration::from_secs(3600)), Box::new(|| {}));
        assert!(!far.is_due());
        drop(far);
        assert_eq!(lock(&clock.shared.state).alarms.len(), 0);
    }
}
