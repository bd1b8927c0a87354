//! `Alarm`: a pending call-back on a clock, cancelled when dropped; and the queue clocks keep them in.

use std::collections::BTreeMap;
use std::sync::Weak;

use crate::clock::{AlarmCallback, ClockTime};

/// Identifies one queued alarm: its time, then a sequence number so equal times stay distinct and in order.
pub(crate) type AlarmKey = (ClockTime, u64);

/// Implemented by a clock's shared state so an [`Alarm`] can take itself out of the queue.
pub(crate) trait CancelAlarm: Send + Sync {
    /// Removes the alarm with `key` if it has not fired.
    fn cancel(&self, key: AlarmKey);
}

/// A call-back registered with [`Clock::set_alarm`](crate::Clock::set_alarm); dropping it cancels the call.
#[must_use = "dropping an Alarm cancels it"]
pub struct Alarm {
    registration: Option<(Weak<dyn CancelAlarm>, AlarmKey)>,
}

impl Alarm {
    /// An alarm whose time had already come when it was set; it will never call back.
    pub fn already_due() -> Alarm {
        Alarm { registration: None }
    }

    pub(crate) fn pending(queue: Weak<dyn CancelAlarm>, key: AlarmKey) -> Alarm {
        Alarm {
            registration: Some((queue, key)),
        }
    }

    /// Whether the time had already come when this alarm was set (so the caller must not wait for it).
    pub fn is_due(&self) -> bool {
        self.registration.is_none()
    }
}

impl Drop for Alarm {
    fn drop(&mut self) {
        if let Some((queue, key)) = self.registration.take()
            && let Some(queue) = queue.upgrade()
        {
            queue.cancel(key);
        }
    }
}

impl std::fmt::Debug for Alarm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.registration {
            None => f.write_str("Alarm(due)"),
            Some((_, (at, _))) => write!(f, "Alarm(at {at:?})"),
        }
    }
}

/// Alarms ordered by time. Both clocks keep one behind their own lock.
#[derive(Default)]
pub(crate) struct AlarmQueue {
    alarms: BTreeMap<AlarmKey, AlarmCallback>,
    next_sequence: u64,
}

impl AlarmQueue {
    /// Queues `wake` for `at` and returns its key.
    pub(crate) fn insert(&mut self, at: ClockTime, wake: AlarmCallback) -> AlarmKey {
        let key = (at, self.next_sequence);
        self.next_sequence += 1;
        self.alarms.insert(key, wake);
        key
    }

    /// Removes the alarm with `key`, if still queued.
    pub(crate) fn remove(&mut self, key: AlarmKey) {
        self.alarms.remove(&key);
    }

    /// Takes every alarm due at `now`, earliest first, for the caller to run after releasing its lock.
    pub(crate) fn take_due(&mut self, now: ClockTime) -> Vec<AlarmCallback> {
        let later = self.alarms.split_off(&(now, u64::MAX));
        let due = std::mem::replace(&mut self.alarms, later);
        due.into_values().collect()
    }

    /// The time of the earliest queued alarm.
    pub(crate) fn next_due(&self) -> Option<ClockTime> {
        self.alarms.keys().next().map(|(at, _)| *at)
    }

    /// How many alarms are queued.
    pub(crate) fn len(&self) -> usize {
        self.alarms.len()
    }
}
