//! `Job`: a callback ready to run with its outcome, and `Pending`, a callback still waiting for its
//! trigger that, if abandoned, still runs (cancelled) so that every callback runs exactly once.

use std::sync::Arc;

use docwire_rpc::Status;

use crate::callback::{CallbackHandle, callback_canceled};
use crate::executor::{Shared, TaskExecutor};

/// What a callback is given when it runs: its executor, its handle and the trigger's outcome, which is
/// `Err` (CallbackCanceled) when the callback was cancelled or the executor shut down.
pub(crate) type Completion<T> = Box<dyn FnOnce(TaskExecutor, CallbackHandle, Result<T, Status>) + Send>;

type RunFn = Box<dyn FnOnce(TaskExecutor, CallbackHandle, Option<Status>) + Send>;

/// A callback with everything it needs to run on a worker (or a baton).
pub(crate) struct Job {
    pub(crate) handle: CallbackHandle,
    /// Whether running this job completes the handle; an exhaust command's intermediate replies do not.
    pub(crate) finishes: bool,
    run: RunFn,
}

impl Job {
    /// A job that runs `completion` with `outcome`, unless cancellation overrides it when it runs.
    pub(crate) fn finishing<T: Send + 'static>(
        handle: CallbackHandle,
        outcome: Result<T, Status>,
        completion: Completion<T>,
    ) -> Job {
        Job {
            handle,
            finishes: true,
            run: Box::new(move |executor, handle, canceled| {
                let outcome = match canceled {
                    Some(status) => Err(status),
                    None => outcome,
                };
                completion(executor, handle, outcome);
            }),
        }
    }

    /// A job that runs `run` without completing the handle; skipped if the handle was cancelled by then.
    pub(crate) fn intermediate(
        handle: CallbackHandle,
        run: impl FnOnce(TaskExecutor, CallbackHandle) + Send + 'static,
    ) -> Job {
        Job {
            handle,
            finishes: false,
            run: Box::new(move |executor, handle, _| run(executor, handle)),
        }
    }

    pub(crate) fn run(self, executor: TaskExecutor, canceled: Option<Status>) {
        (self.run)(executor, self.handle, canceled);
    }
}

/// A callback whose trigger (a time, an event, a reply) has not happened yet.
pub(crate) struct Pending<T: Send + 'static> {
    parts: Option<(Arc<Shared>, CallbackHandle, Completion<T>)>,
}

impl<T: Send + 'static> Pending<T> {
    pub(crate) fn new(shared: Arc<Shared>, handle: CallbackHandle, completion: Completion<T>) -> Pending<T> {
        Pending {
            parts: Some((shared, handle, completion)),
        }
    }

    /// The job to run now that the trigger produced `outcome`.
    pub(crate) fn into_job(mut self, outcome: Result<T, Status>) -> Option<Job> {
        self.parts
            .take()
            .map(|(_, handle, completion)| Job::finishing(handle, outcome, completion))
    }
}

impl<T: Send + 'static> Drop for Pending<T> {
    fn drop(&mut self) {
        // Dropped before its trigger fired (a baton dropped with work on it, a runtime going away): the
        // callback still runs, cancelled, on the executor's workers.
        if let Some((shared, handle, completion)) = self.parts.take() {
            handle.cancel();
            shared.enqueue(Job::finishing(handle, Err(callback_canceled()), completion));
        }
    }
}
