//! Exhaust remote commands on the executor: the callback runs once per reply, in order, and the handle
//! completes after the last reply (or the cancellation).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use docwire_rpc::StatusResult;
use docwire_transport::client::{
    RemoteCommandOnAnyResponse, RemoteCommandRequestOnAny, RemoteCommandResponse,
};
use tokio::sync::oneshot;

use crate::callback::{CallbackHandle, RemoteCommandCallbackArgs, callback_canceled, shutdown_in_progress};
use crate::executor::TaskExecutor;
use crate::job::Job;

type ExhaustCallback = Arc<Mutex<dyn FnMut(RemoteCommandCallbackArgs) + Send>>;

fn call(callback: &ExhaustCallback, args: RemoteCommandCallbackArgs) {
    let mut callback = callback.lock().unwrap_or_else(PoisonError::into_inner);
    (*callback)(args);
}

impl TaskExecutor {
    /// Starts an exhaust command and runs `callback` for each reply (moreToCome says whether more
    /// follow). Cancelling stops the stream: the network operation is cancelled and the callback runs
    /// once more with CallbackCanceled.
    pub fn schedule_exhaust_remote_command_on_any(
        &self,
        request: RemoteCommandRequestOnAny,
        callback: impl FnMut(RemoteCommandCallbackArgs) + Send + 'static,
    ) -> StatusResult<CallbackHandle> {
        if self.is_shutting_down() {
            return Err(shutdown_in_progress());
        }
        let handle = self.shared.begin()?;
        let callback: ExhaustCallback = Arc::new(Mutex::new(callback));
        let mut replies = self.shared.network.start_exhaust_command(request.clone());
        let shared = Arc::clone(&self.shared);
        let own = handle.clone();
        tokio::spawn(async move {
            loop {
                let reply = tokio::select! {
                    biased;
                    _ = own.cancel_token().cancelled() => None,
                    _ = shared.shutdown.cancelled() => None,
                    reply = replies.next() => Some(reply),
                };
                let (reply, last) = match reply {
                    None => {
                        own.cancel();
                        (canceled_reply(), true)
                    }
                    Some(None) => (canceled_reply(), true),
                    Some(Some(reply)) => {
                        let last = !reply.response.more_to_come || reply.response.status.is_err();
                        (reply, last)
                    }
                };
                let args = {
                    let callback = Arc::clone(&callback);
                    let request = request.clone();
                    move |executor, handle, response| {
                        call(
                            &callback,
                            RemoteCommandCallbackArgs {
                                executor,
                                handle,
                                request,
                                response,
                            },
                        )
                    }
                };
                if last {
                    // Cancel the network operation (if still open) before the final callback runs.
                    drop(replies);
                    shared.enqueue(Job::finishing(
                        own.clone(),
                        Ok(reply),
                        Box::new(move |executor, handle, outcome: Result<_, _>| {
                            args(executor, handle, outcome.unwrap_or_else(failed))
                        }),
                    ));
                    return;
                }
                // Wait for this reply's callback before the next, so callbacks run in reply order.
                let (done, ran) = oneshot::channel::<()>();
                shared.enqueue(Job::intermediate(own.clone(), move |executor, handle| {
                    args(executor, handle, reply);
                    let _ = done.send(());
                }));
                let _ = ran.await;
            }
        });
        Ok(handle)
    }

    /// The single-host form of [`schedule_exhaust_remote_command_on_any`](Self::schedule_exhaust_remote_command_on_any).
    pub fn schedule_exhaust_remote_command(
        &self,
        request: docwire_transport::client::RemoteCommandRequest,
        callback: impl FnMut(RemoteCommandCallbackArgs) + Send + 'static,
    ) -> StatusResult<CallbackHandle> {
        self.schedule_exhaust_remote_command_on_any(crate::remote::on_any(request), callback)
    }
}

fn failed(status: docwire_rpc::Status) -> RemoteCommandOnAnyResponse {
    RemoteCommandOnAnyResponse {
        response: RemoteCommandResponse::failed(status, Duration::ZERO),
        target: None,
    }
}

fn canceled_reply() -> RemoteCommandOnAnyResponse {
    failed(callback_canceled())
}
