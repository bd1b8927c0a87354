//! The mock network's bookkeeping: the operations it holds, the replies scheduled for them, and the
//! virtual-time order in which replies and timeouts are delivered.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use docwire_rpc::{ErrorCode, Status};
use docwire_service::ClockTime;
use docwire_transport::client::{
    RemoteCommandOnAnyResponse, RemoteCommandRequestOnAny, RemoteCommandResponse,
};
use tokio::sync::{mpsc, oneshot};

use super::counters::NetworkCounters;

/// Where an operation's replies go.
#[derive(Debug)]
pub(crate) enum ReplyTo {
    /// One reply.
    Single(oneshot::Sender<RemoteCommandOnAnyResponse>),
    /// Replies until one without moreToCome.
    Exhaust(mpsc::UnboundedSender<RemoteCommandOnAnyResponse>),
}

/// Where an operation is in the test's hands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpPhase {
    /// Not yet taken by the test.
    Ready,
    /// Taken by the test, which will schedule replies.
    Processing,
    /// Taken and ignored: only a timeout or a cancellation ends it.
    BlackHoled,
}

#[derive(Debug)]
pub(crate) struct MockOp {
    pub(crate) request: RemoteCommandRequestOnAny,
    pub(crate) started: ClockTime,
    pub(crate) deadline: Option<ClockTime>,
    pub(crate) phase: OpPhase,
    pub(crate) reply_to: ReplyTo,
}

/// Everything behind the mock's lock.
#[derive(Debug, Default)]
pub(crate) struct MockState {
    pub(crate) ops: BTreeMap<u64, MockOp>,
    /// Replies by delivery time, then scheduling order.
    pub(crate) scheduled: BTreeMap<(ClockTime, u64), (u64, RemoteCommandResponse)>,
    pub(crate) canceled: BTreeSet<u64>,
    pub(crate) next_id: u64,
    pub(crate) shut_down: bool,
}

impl MockState {
    /// Adds an operation started at `now` and returns its id.
    pub(crate) fn add(
        &mut self,
        request: RemoteCommandRequestOnAny,
        now: ClockTime,
        reply_to: ReplyTo,
    ) -> u64 {
        self.next_id += 1;
        let deadline = request.timeout.map(|t| now.saturating_add(t));
        self.ops.insert(
            self.next_id,
            MockOp {
                request,
                started: now,
                deadline,
                phase: OpPhase::Ready,
                reply_to,
            },
        );
        self.next_id
    }

    /// The next time something is due: a scheduled reply or a timeout.
    pub(crate) fn next_event(&self) -> Option<ClockTime> {
        let reply = self.scheduled.keys().next().map(|(at, _)| *at);
        let timeout = self.ops.values().filter_map(|op| op.deadline).min();
        match (reply, timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Delivers every reply due at `now`, then every timeout due (a reply at the deadline wins).
    pub(crate) fn deliver_due(&mut self, now: ClockTime, counters: &NetworkCounters) {
        let later = self.scheduled.split_off(&(now, u64::MAX));
        let due = std::mem::replace(&mut self.scheduled, later);
        for (_, (id, response)) in due {
            self.deliver(id, response, counters);
        }
        let expired: Vec<u64> = self
            .ops
            .iter()
            .filter(|(_, op)| op.deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            let elapsed = self
                .ops
                .get(&id)
                .map_or(Duration::ZERO, |op| now.saturating_duration_since(op.started));
            let status = Status::new(
                ErrorCode::NetworkInterfaceExceededTimeLimit,
                format!("Request {id} timed out after {} ms", elapsed.as_millis()),
            );
            self.deliver(id, RemoteCommandResponse::failed(status, elapsed), counters);
        }
    }

    /// Sends `response` to operation `id` (if it is still there), ending it unless more replies follow.
    pub(crate) fn deliver(&mut self, id: u64, response: RemoteCommandResponse, counters: &NetworkCounters) {
        let Some(op) = self.ops.get(&id) else {
            return;
        };
        let ends = !response.more_to_come || response.status.is_err();
        let reply = RemoteCommandOnAnyResponse {
            target: op.request.targets.first().cloned(),
            response,
        };
        if ends {
            counters.record_outcome(&reply.response);
            if let Some(op) = self.ops.remove(&id) {
                match op.reply_to {
                    ReplyTo::Single(sender) => {
                        // A receiver gone means the caller already cancelled; it was counted then.
                        let _ = sender.send(reply);
                    }
                    ReplyTo::Exhaust(sender) => {
                        let _ = sender.send(reply);
                    }
                }
            }
        } else if let ReplyTo::Exhaust(sender) = &op.reply_to {
            let _ = sender.send(reply);
        }
    }

    /// The caller dropped operation `id` before it ended.
    pub(crate) fn cancel(&mut self, id: u64, counters: &NetworkCounters) {
        if self.ops.remove(&id).is_some() {
            self.canceled.insert(id);
            counters.record_canceled();
        }
    }
}
