//! Work and events on the executor: schedule_work, schedule_work_at, sleeps, and one-shot events
//! (make, signal, on_event, wait_for_event), each async first with the callback form built on it.

use std::sync::Arc;
use std::time::Duration;

use docwire_rpc::StatusResult;
use docwire_service::{ClockTime, OperationContext, sleep_until};

use crate::callback::{CallbackArgs, CallbackHandle, shutdown_in_progress};
use crate::event::{EventHandle, EventWait};
use crate::executor::TaskExecutor;
use crate::job::Completion;

/// Wraps a work callback so it receives [`CallbackArgs`].
fn work_completion(work: impl FnOnce(CallbackArgs) + Send + 'static) -> Completion<()> {
    Box::new(move |executor, handle, status| {
        work(CallbackArgs {
            executor,
            handle,
            status,
        })
    })
}

impl TaskExecutor {
    /// Runs `work` as soon as a worker is free; ShutdownInProgress once shut down.
    pub fn schedule_work(
        &self,
        work: impl FnOnce(CallbackArgs) + Send + 'static,
    ) -> StatusResult<CallbackHandle> {
        self.schedule_ready((), work_completion(work))
    }

    /// Runs `work` no earlier than `at` (a time in the past means as soon as possible).
    pub fn schedule_work_at(
        &self,
        at: ClockTime,
        work: impl FnOnce(CallbackArgs) + Send + 'static,
    ) -> StatusResult<CallbackHandle> {
        if at <= self.now() {
            return self.schedule_ready((), work_completion(work));
        }
        let clock = Arc::clone(self.clock());
        self.schedule_with(
            async move { sleep_until(clock.as_ref(), at).await },
            work_completion(work),
            None,
        )
    }

    /// Completes at `at`, or with ShutdownInProgress if the executor shuts down first.
    pub fn sleep_until(&self, at: ClockTime) -> impl Future<Output = StatusResult<()>> + Send + 'static {
        let clock = Arc::clone(self.clock());
        let shutdown = self.shared.shutdown.clone();
        async move {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => Err(shutdown_in_progress()),
                _ = sleep_until(clock.as_ref(), at) => Ok(()),
            }
        }
    }

    /// Completes after `duration`; see [`sleep_until`](Self::sleep_until).
    pub fn sleep_for(&self, duration: Duration) -> impl Future<Output = StatusResult<()>> + Send + 'static {
        self.sleep_until(self.now().saturating_add(duration))
    }

    /// A new unsignalled event; ShutdownInProgress once shut down.
    pub fn make_event(&self) -> StatusResult<EventHandle> {
        if self.is_shutting_down() {
            return Err(shutdown_in_progress());
        }
        Ok(EventHandle::new())
    }

    /// Signals `event`, running its waiters' callbacks; IllegalOperation if it was already signalled.
    pub fn signal_event(&self, event: &EventHandle) -> StatusResult<()> {
        event.signal()
    }

    /// Runs `work` once `event` is signalled (with CallbackCanceled if cancelled or shut down first).
    pub fn on_event(
        &self,
        event: &EventHandle,
        work: impl FnOnce(CallbackArgs) + Send + 'static,
    ) -> StatusResult<CallbackHandle> {
        if event.is_signaled() {
            return self.schedule_ready((), work_completion(work));
        }
        self.schedule_with(event.signaled(), work_completion(work), None)
    }

    /// Completes once `event` is signalled or the executor shuts down.
    pub async fn wait_for_event(&self, event: &EventHandle) {
        tokio::select! {
            _ = event.signaled() => {}
            _ = self.shared.shutdown.cancelled() => {}
        }
    }

    /// Waits for `event` until `deadline` (and `op`'s own deadline): Signaled or TimedOut, or the
    /// operation's interruption, or ShutdownInProgress.
    pub async fn wait_for_event_until(
        &self,
        op: &OperationContext,
        event: &EventHandle,
        deadline: Option<ClockTime>,
    ) -> StatusResult<EventWait> {
        let shutdown = self.shared.shutdown.clone();
        let signaled = event.signaled();
        let waited = op
            .wait_for_condition_or_interrupt_async(deadline, async move {
                tokio::select! {
                    biased;
                    _ = signaled => true,
                    _ = shutdown.cancelled() => false,
                }
            })
            .await?;
        match waited {
            Some(true) => Ok(EventWait::Signaled),
            Some(false) => Err(shutdown_in_progress()),
            None => Ok(EventWait::TimedOut),
        }
    }
}
