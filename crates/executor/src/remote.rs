//! Remote commands on the executor: the futures (`run_remote_command*`) and the callback forms built on
//! them (`schedule_remote_command*`), with request timeouts, operation deadlines and kills, and batons.

use std::time::Duration;

use docwire_rpc::{ErrorCode, Status};
use docwire_service::OperationContext;
use docwire_transport::client::{
    RemoteCommandOnAnyResponse, RemoteCommandRequest, RemoteCommandRequestOnAny, RemoteCommandResponse,
};

use docwire_rpc::StatusResult;

use crate::baton::Baton;
use crate::callback::{CallbackHandle, RemoteCommandCallbackArgs, shutdown_in_progress};
use crate::executor::TaskExecutor;
use crate::network::CommandFuture;

/// Where and under what a remote command runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct RemoteOptions<'a> {
    /// The operation the command is for: its deadline bounds the request timeout (the shorter wins) and
    /// a kill ends the command with the kill code.
    pub op: Option<&'a OperationContext>,
    /// Drive the command's networking and run its callback on this baton (the operation's own task).
    pub baton: Option<&'a Baton>,
}

/// A single-host request as the on-any form the network interface takes.
pub fn on_any(request: RemoteCommandRequest) -> RemoteCommandRequestOnAny {
    RemoteCommandRequestOnAny {
        id: request.id,
        db: request.db,
        command: request.command,
        metadata: request.metadata,
        timeout: request.timeout,
        targets: vec![request.target],
        fire_and_forget: request.fire_and_forget,
    }
}

fn failed(status: Status) -> RemoteCommandOnAnyResponse {
    RemoteCommandOnAnyResponse {
        response: RemoteCommandResponse::failed(status, Duration::ZERO),
        target: None,
    }
}

impl TaskExecutor {
    /// Starts `request` now and returns its reply; dropping the future cancels the network operation.
    pub fn run_remote_command_on_any(
        &self,
        request: RemoteCommandRequestOnAny,
        op: Option<&OperationContext>,
    ) -> CommandFuture {
        if self.is_shutting_down() {
            return Box::pin(std::future::ready(failed(shutdown_in_progress())));
        }
        let mut request = request;
        // The operation's deadline bounds the request's timeout; when it is the shorter one, its expiry
        // reports the operation's timeout code (as mongod's RemoteCommandRequest does) instead of 202.
        let mut op_timeout_code = None;
        let mut kill = None;
        if let Some(op) = op {
            if let Err(status) = op.check_for_interrupt() {
                return Box::pin(std::future::ready(failed(status)));
            }
            if let Some(remaining) = op.remaining_max_time()
                && request.timeout.is_none_or(|timeout| remaining < timeout)
            {
                request.timeout = Some(remaining);
                op_timeout_code = Some(op.timeout_code());
            }
            kill = Some(op.handle().clone());
        }
        let command = self.shared.network.start_command(request);
        Box::pin(async move {
            let mut reply = match kill {
                None => command.await,
                Some(handle) => {
                    let token = handle.cancellation_token();
                    tokio::select! {
                        biased;
                        reply = command => reply,
                        _ = token.cancelled() => {
                            let code = handle.kill_code().unwrap_or(ErrorCode::Interrupted);
                            failed(Status::new(code, "operation was interrupted"))
                        }
                    }
                }
            };
            if let (Some(code), Err(status)) = (op_timeout_code, &reply.response.status)
                && status.code() == ErrorCode::NetworkInterfaceExceededTimeLimit
            {
                let reason = format!("operation exceeded its time limit: {}", status.reason());
                reply.response.status = Err(Status::new(code, reason));
            }
            reply
        })
    }

    /// Runs `request` on its one host; see [`run_remote_command_on_any`](Self::run_remote_command_on_any).
    pub fn run_remote_command(
        &self,
        request: RemoteCommandRequest,
        op: Option<&OperationContext>,
    ) -> impl Future<Output = RemoteCommandResponse> + Send + 'static {
        let command = self.run_remote_command_on_any(on_any(request), op);
        async move { command.await.response }
    }

    /// Runs `request` on one of its hosts and then `callback` with the reply (which names the host that
    /// answered). Cancelling the handle cancels the network operation; the callback then gets
    /// CallbackCanceled.
    pub fn schedule_remote_command_on_any(
        &self,
        request: RemoteCommandRequestOnAny,
        options: RemoteOptions<'_>,
        callback: impl FnOnce(RemoteCommandCallbackArgs) + Send + 'static,
    ) -> StatusResult<CallbackHandle> {
        let command = self.run_remote_command_on_any(request.clone(), options.op);
        self.schedule_with(
            command,
            Box::new(move |executor, handle, reply| {
                callback(RemoteCommandCallbackArgs {
                    executor,
                    handle,
                    request,
                    response: reply.unwrap_or_else(failed),
                })
            }),
            options.baton,
        )
    }

    /// Runs `request` on its one host, then `callback`; see
    /// [`schedule_remote_command_on_any`](Self::schedule_remote_command_on_any).
    pub fn schedule_remote_command(
        &self,
        request: RemoteCommandRequest,
        options: RemoteOptions<'_>,
        callback: impl FnOnce(RemoteCommandCallbackArgs) + Send + 'static,
    ) -> StatusResult<CallbackHandle> {
        self.schedule_remote_command_on_any(on_any(request), options, callback)
    }
}
