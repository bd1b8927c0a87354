//! `Clock`: the time source every deadline, wait and periodic job reads, with alarms instead of sleeps.
//!
//! Nothing in this crate reads the system time directly. A [`Clock`] says what time it is and calls back when
//! a given time arrives ([`Clock::set_alarm`]); blocking waits (Condvar) and async waits (futures) both wait
//! for that call-back, so under a [`MockClock`](crate::MockClock) every wait wakes exactly when a test
//! advances time past its deadline, and no test sleeps.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::alarm::Alarm;

/// A point on a [`Clock`]'s timeline: microseconds since the clock started.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ClockTime {
    micros: u64,
}

impl ClockTime {
    /// The clock's start.
    pub const ZERO: ClockTime = ClockTime { micros: 0 };

    /// The latest representable time.
    pub const MAX: ClockTime = ClockTime { micros: u64::MAX };

    /// The time `micros` microseconds after the clock's start.
    pub const fn from_micros(micros: u64) -> ClockTime {
        ClockTime { micros }
    }

    /// Microseconds since the clock's start.
    pub const fn as_micros(self) -> u64 {
        self.micros
    }

    /// This time plus `duration`, or `None` when that is past [`ClockTime::MAX`].
    pub fn checked_add(self, duration: Duration) -> Option<ClockTime> {
        let micros = u64::try_from(duration.as_micros()).ok()?;
        self.micros.checked_add(micros).map(ClockTime::from_micros)
    }

    /// This time plus `duration`, saturating at [`ClockTime::MAX`].
    pub fn saturating_add(self, duration: Duration) -> ClockTime {
        self.checked_add(duration).unwrap_or(ClockTime::MAX)
    }

    /// This time minus `duration`, saturating at [`ClockTime::ZERO`].
    pub fn saturating_sub(self, duration: Duration) -> ClockTime {
        let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        ClockTime::from_micros(self.micros.saturating_sub(micros))
    }

    /// How long after `earlier` this time is, or zero if it is not after it.
    pub fn saturating_duration_since(self, earlier: ClockTime) -> Duration {
        Duration::from_micros(self.micros.saturating_sub(earlier.micros))
    }
}

impl fmt::Debug for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClockTime({}us)", self.micros)
    }
}

/// What an alarm does when its time comes; it runs on whichever thread advanced the clock.
pub type AlarmCallback = Box<dyn FnOnce() + Send>;

/// A source of time that can wake waiters when a time arrives.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> ClockTime;

    /// Calls `wake` once the clock reaches `at`. If `at` has already come, `wake` is dropped uncalled and
    /// the returned alarm [`is_due`](Alarm::is_due): the caller must not wait. Never calls `wake` before
    /// returning, so a caller may hold its own lock while setting an alarm. Dropping the alarm cancels it.
    fn set_alarm(&self, at: ClockTime, wake: AlarmCallback) -> Alarm;
}

/// Completes once `clock` reaches `at`; woken by the clock's alarm, never by polling.
pub async fn sleep_until(clock: &dyn Clock, at: ClockTime) {
    let notify = Arc::new(Notify::new());
    let waker = Arc::clone(&notify);
    // `notify_one` stores a permit, so an alarm that fires before we await is not lost.
    let alarm = clock.set_alarm(at, Box::new(move || waker.notify_one()));
    if alarm.is_due() {
        return;
    }
    notify.notified().await;
}

/// Completes once `clock` reaches `at`, or never when `at` is `None`.
pub(crate) async fn sleep_until_if_any(clock: &dyn Clock, at: Option<ClockTime>) {
    match at {
        Some(at) => sleep_until(clock, at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_overflowing() {
        let t = ClockTime::from_micros(10);
        assert_eq!(t.checked_add(Duration::MAX), None);
        assert_eq!(t.saturating_add(Duration::MAX), ClockTime::MAX);
        assert_eq!(t.saturating_sub(Duration::from_secs(1)), ClockTime::ZERO);
        assert_eq!(
            t.checked_add(Duration::from_micros(5)),
            Some(ClockTime::from_micros(15))
        );
        assert_eq!(
            ClockTime::from_micros(3).saturating_duration_since(t),
            Duration::ZERO
        );
    }
}
