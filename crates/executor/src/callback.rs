//! `CallbackHandle`: one scheduled callback, compared by identity, cancellable and waitable; and the
//! arguments a callback receives.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use docwire_rpc::{ErrorCode, Status, StatusResult};
use docwire_transport::client::{RemoteCommandOnAnyResponse, RemoteCommandRequestOnAny};
use tokio_util::sync::CancellationToken;

use crate::executor::TaskExecutor;

static NEXT_CALLBACK_ID: AtomicU64 = AtomicU64::new(1);

/// The status a cancelled callback runs with (mongod's wording).
pub fn callback_canceled() -> Status {
    Status::new(ErrorCode::CallbackCanceled, "Callback canceled")
}

/// The status of scheduling on an executor that is shutting down.
pub fn shutdown_in_progress() -> Status {
    Status::new(ErrorCode::ShutdownInProgress, "Shutdown in progress")
}

/// The shared state behind a handle: two one-way latches, so no lock is needed.
#[derive(Debug)]
struct CallbackState {
    id: u64,
    /// Fired by `cancel` (and by executor shutdown): the callback will run with CallbackCanceled.
    canceled: CancellationToken,
    /// Fired once the callback has run.
    finished: CancellationToken,
}

/// A scheduled callback. Clones name the same callback; handles compare equal only when they do.
#[derive(Clone)]
pub struct CallbackHandle {
    state: Arc<CallbackState>,
}

impl CallbackHandle {
    pub(crate) fn new() -> CallbackHandle {
        CallbackHandle {
            state: Arc::new(CallbackState {
                id: NEXT_CALLBACK_ID.fetch_add(1, Ordering::Relaxed),
                canceled: CancellationToken::new(),
                finished: CancellationToken::new(),
            }),
        }
    }

    /// A number unique to this callback, for logs.
    pub fn id(&self) -> u64 {
        self.state.id
    }

    /// Asks for the callback to run with CallbackCanceled (it still runs); no effect once it has run.
    pub fn cancel(&self) {
        self.state.canceled.cancel();
    }

    /// Whether `cancel` was called (or the executor shut down) before the callback ran.
    pub fn is_canceled(&self) -> bool {
        self.state.canceled.is_cancelled()
    }

    /// Whether the callback has finished running.
    pub fn is_finished(&self) -> bool {
        self.state.finished.is_cancelled()
    }

    /// Completes once the callback has run.
    pub async fn wait(&self) {
        self.state.finished.cancelled().await;
    }

    pub(crate) fn cancel_token(&self) -> &CancellationToken {
        &self.state.canceled
    }

    pub(crate) fn mark_finished(&self) {
        self.state.finished.cancel();
    }
}

impl PartialEq for CallbackHandle {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.state, &other.state)
    }
}

impl Eq for CallbackHandle {}

impl Hash for CallbackHandle {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.state.id.hash(state);
    }
}

impl fmt::Debug for CallbackHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackHandle")
            .field("id", &self.state.id)
            .field("canceled", &self.is_canceled())
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// What a work callback receives (mongod's CallbackArgs).
#[derive(Debug)]
pub struct CallbackArgs {
    /// The executor that ran the callback (to schedule more work from inside it).
    pub executor: TaskExecutor,
    /// The callback's own handle.
    pub handle: CallbackHandle,
    /// `Ok` when the callback ran normally; CallbackCanceled when it was cancelled or the executor shut down.
    pub status: StatusResult<()>,
}

/// What a remote-command callback receives (mongod's RemoteCommandCallbackArgs).
#[derive(Debug)]
pub struct RemoteCommandCallbackArgs {
    /// The executor that ran the callback.
    pub executor: TaskExecutor,
    /// The callback's own handle.
    pub handle: CallbackHandle,
    /// The request as scheduled.
    pub request: RemoteCommandRequestOnAny,
    /// The reply (or the transport failure, cancellation or timeout) and the host that answered.
    pub response: RemoteCommandOnAnyResponse,
}
