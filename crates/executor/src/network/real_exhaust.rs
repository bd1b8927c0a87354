//! Exhaust commands on the [`RealNetwork`]: a task per command leases a connection, sends the command
//! with exhaustAllowed and forwards each reply until one comes without moreToCome. Each reply must
//! arrive within the request's timeout. The connection is marked good only when the stream ended
//! cleanly; a stream cancelled, timed out or failed midway leaves it unmarked, so the pool drops it.

use std::sync::Arc;
use std::time::Duration;

use docwire_rpc::Status;
use docwire_transport::client::{
    RemoteCommandOnAnyResponse, RemoteCommandRequestOnAny, RemoteCommandResponse,
};
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio_util::sync::CancellationToken;

use super::exhaust::ExhaustReplies;
use super::on_drop::OnDrop;
use super::real::{RealNetwork, RealShared, failed, shut_down, sleep_until_if_any, timed_out, with_metadata};

/// Starts `request` as an exhaust command on `network`.
pub(super) fn start(network: &RealNetwork, request: RemoteCommandRequestOnAny) -> ExhaustReplies {
    let (sender, receiver) = mpsc::unbounded_channel();
    if let Err(status) = network.check_running() {
        let _ = sender.send(failed(status, Duration::ZERO));
        return ExhaustReplies::new(receiver, OnDrop::new(|| {}));
    }
    let shared = Arc::clone(network.shared());
    shared.counters.record_sent();
    let cancel = CancellationToken::new();
    let on_cancel = {
        let cancel = cancel.clone();
        let shared = Arc::clone(&shared);
        OnDrop::new(move || {
            cancel.cancel();
            shared.counters.record_canceled();
        })
    };
    tokio::spawn(async move {
        let started = shared.now();
        let last = tokio::select! {
            biased;
            _ = cancel.cancelled() => return,
            _ = shared.shutdown.cancelled() => Err((shut_down(), None)),
            last = stream(&shared, &request, &sender) => last,
        };
        let elapsed = shared.now().saturating_duration_since(started);
        let reply = match last {
            Ok((data, target)) => RemoteCommandOnAnyResponse {
                response: RemoteCommandResponse {
                    data,
                    elapsed,
                    status: Ok(()),
                    more_to_come: false,
                },
                target: Some(target),
            },
            Err((status, target)) => RemoteCommandOnAnyResponse {
                response: RemoteCommandResponse::failed(status, elapsed),
                target,
            },
        };
        shared.counters.record_outcome(&reply.response);
        let _ = sender.send(reply);
    });
    ExhaustReplies::new(receiver, on_cancel)
}

type Failure = (Status, Option<String>);

/// Sends every reply but the last to `sender`; returns the last (or the failure).
async fn stream(
    shared: &RealShared,
    request: &RemoteCommandRequestOnAny,
    sender: &UnboundedSender<RemoteCommandOnAnyResponse>,
) -> Result<(bson::Document, String), Failure> {
    let deadline = |shared: &RealShared| request.timeout.map(|t| shared.now().saturating_add(t));
    let first_deadline = deadline(shared);
    let (mut conn, target) = tokio::select! {
        biased;
        found = shared.connect_any(request, first_deadline) => found.map_err(|s| (s, None))?,
        _ = sleep_until_if_any(shared.clock(), first_deadline) => return Err((timed_out(request), None)),
    };
    let on = |status: Status| (status, Some(target.clone()));
    let last = {
        let client = conn.client().map_err(on)?;
        let started = client.run_exhaust_command(&request.db, with_metadata(request));
        let mut replies = tokio::select! {
            biased;
            sent = started => sent.map_err(on)?,
            _ = sleep_until_if_any(shared.clock(), first_deadline) => return Err(on(timed_out(request))),
        };
        let mut next_deadline = first_deadline;
        loop {
            let next = tokio::select! {
                biased;
                next = replies.next() => next,
                _ = sleep_until_if_any(shared.clock(), next_deadline) => return Err(on(timed_out(request))),
            };
            match next {
                Some(Ok((data, true))) => {
                    let reply = RemoteCommandOnAnyResponse {
                        response: RemoteCommandResponse {
                            data,
                            elapsed: Duration::ZERO,
                            status: Ok(()),
                            more_to_come: true,
                        },
                        target: Some(target.clone()),
                    };
                    if sender.send(reply).is_err() {
                        // Nobody listens any more; the connection stays unmarked and is dropped.
                        return Err(on(super::real::shut_down()));
                    }
                    next_deadline = deadline(shared);
                }
                Some(Ok((data, false))) => break data,
                Some(Err(status)) => return Err(on(status)),
                None => {
                    return Err(on(Status::new(
                        docwire_rpc::ErrorCode::InternalError,
                        "exhaust stream ended without a last reply",
                    )));
                }
            }
        }
    };
    conn.indicate_success();
    Ok((last, target))
}
