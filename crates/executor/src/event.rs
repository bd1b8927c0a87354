//! `EventHandle`: a one-shot event that callbacks and waiters can wait on; signalled at most once.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use docwire_rpc::{ErrorCode, Status, StatusResult};
use tokio_util::sync::CancellationToken;

static NEXT_EVENT_ID: AtomicU64 = AtomicU64::new(1);

#[derive(Debug)]
struct EventState {
    id: u64,
    /// Set by the first signal; a second signal is refused rather than silently ignored.
    claimed: AtomicBool,
    signaled: CancellationToken,
}

/// An event made by [`TaskExecutor::make_event`](crate::TaskExecutor::make_event); compared by identity.
#[derive(Clone)]
pub struct EventHandle {
    state: Arc<EventState>,
}

/// How a bounded wait for an event ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventWait {
    /// The event was signalled.
    Signaled,
    /// The deadline came first.
    TimedOut,
}

impl EventHandle {
    pub(crate) fn new() -> EventHandle {
        EventHandle {
            state: Arc::new(EventState {
                id: NEXT_EVENT_ID.fetch_add(1, Ordering::Relaxed),
                claimed: AtomicBool::new(false),
                signaled: CancellationToken::new(),
            }),
        }
    }

    /// Whether the event has been signalled.
    pub fn is_signaled(&self) -> bool {
        self.state.signaled.is_cancelled()
    }

    /// Signals the event; a second signal fails with IllegalOperation (mongod treats it as a bug).
    pub(crate) fn signal(&self) -> StatusResult<()> {
        if self.state.claimed.swap(true, Ordering::AcqRel) {
            return Err(Status::new(
                ErrorCode::IllegalOperation,
                format!("event {} was already signaled", self.state.id),
            ));
        }
        self.state.signaled.cancel();
        Ok(())
    }

    /// Completes once the event is signalled (not on shutdown; the executor adds that).
    pub(crate) fn signaled(&self) -> tokio_util::sync::WaitForCancellationFutureOwned {
        self.state.signaled.clone().cancelled_owned()
    }
}

impl PartialEq for EventHandle {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.state, &other.state)
    }
}

impl Eq for EventHandle {}

impl Hash for EventHandle {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.state.id.hash(state);
    }
}

impl fmt::Debug for EventHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventHandle")
            .field("id", &self.state.id)
            .field("signaled", &self.is_signaled())
            .finish()
    }
}
