//! `Counters`: what happened to the commands a network interface ran, as serverStatus reports it.

use std::sync::atomic::{AtomicU64, Ordering};

use bson::{Document, doc};
use docwire_rpc::{ErrorCode, Status};
use docwire_transport::client::RemoteCommandResponse;

/// A snapshot of the counters (mongod's NetworkInterface::Counters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Commands started.
    pub sent: u64,
    /// Commands cancelled before they finished.
    pub canceled: u64,
    /// Commands that ran past their timeout.
    pub timed_out: u64,
    /// Commands that failed in transport (no reply).
    pub failed: u64,
    /// Commands whose reply had `ok: 0`.
    pub failed_remotely: u64,
    /// Commands whose reply had `ok: 1`.
    pub succeeded: u64,
}

impl Counters {
    /// The serverStatus shape.
    pub fn to_document(&self) -> Document {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        doc! {
            "sent": n(self.sent),
            "canceled": n(self.canceled),
            "timedOut": n(self.timed_out),
            "failed": n(self.failed),
            "failedRemotely": n(self.failed_remotely),
            "succeeded": n(self.succeeded),
        }
    }
}

/// The live counters, updated without a lock.
#[derive(Debug, Default)]
pub struct NetworkCounters {
    sent: AtomicU64,
    canceled: AtomicU64,
    timed_out: AtomicU64,
    failed: AtomicU64,
    failed_remotely: AtomicU64,
    succeeded: AtomicU64,
}

impl NetworkCounters {
    /// Counts a command started.
    pub fn record_sent(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a command cancelled.
    pub fn record_canceled(&self) {
        self.canceled.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a finished command by its outcome.
    pub fn record_outcome(&self, response: &RemoteCommandResponse) {
        let counter = match &response.status {
            Err(status) => self.for_failure(status),
            Ok(()) if reply_ok(&response.data) => &self.succeeded,
            Ok(()) => &self.failed_remotely,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn for_failure(&self, status: &Status) -> &AtomicU64 {
        match status.code() {
            ErrorCode::NetworkInterfaceExceededTimeLimit => &self.timed_out,
            ErrorCode::CallbackCanceled => &self.canceled,
            _ => &self.failed,
        }
    }

    /// A snapshot.
    pub fn snapshot(&self) -> Counters {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Counters {
            sent: get(&self.sent),
            canceled: get(&self.canceled),
            timed_out: get(&self.timed_out),
            failed: get(&self.failed),
            failed_remotely: get(&self.failed_remotely),
            succeeded: get(&self.succeeded),
        }
    }
}

/// Whether a reply document says `ok: 1` (any numeric or boolean truthy form).
pub(crate) fn reply_ok(reply: &Document) -> bool {
    match reply.get("ok") {
        Some(bson::Bson::Double(v)) => *v == 1.0,
        Some(bson::Bson::Int32(v)) => *v == 1,
        Some(bson::Bson::Int64(v)) => *v == 1,
        Some(bson::Bson::Boolean(v)) => *v,
        _ => false,
    }
}
