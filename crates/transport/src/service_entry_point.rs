//! `ServiceEntryPoint`: what the ingress state machine calls for each request, and what it gets back.

use std::sync::Arc;

use async_trait::async_trait;
use bson::Document;
use docwire_rpc::{Message, StatusResult};
use docwire_service::{OperationContext, UniqueClient};

use crate::session::SessionInfo;

/// The answer to one request.
#[derive(Debug, Default)]
pub struct DbResponse {
    /// The reply to send; `None` for a moreToCome (fire-and-forget) request, which gets no reply.
    pub response: Option<Message>,
    /// For exhaust: the command to run again without a new request (only honoured when the request had
    /// exhaustAllowed). The state machine synthesizes the next request from it.
    pub next_invocation: Option<Document>,
}

impl DbResponse {
    /// A response carrying `reply`.
    pub fn reply(reply: Message) -> DbResponse {
        DbResponse {
            response: Some(reply),
            next_invocation: None,
        }
    }

    /// The empty response of a moreToCome request.
    pub fn none() -> DbResponse {
        DbResponse::default()
    }
}

/// Handles one request message (already decompressed) on behalf of a session. An `Err` is
/// connection-fatal: the state machine ends the session; errors the client should see go in the reply.
#[async_trait]
pub trait ServiceEntryPoint: Send + Sync + 'static {
    /// Runs `request` in `ctx`.
    async fn handle_request(
        &self,
        ctx: &mut RequestContext<'_>,
        request: &Message,
    ) -> StatusResult<DbResponse>;

    /// Called once when a session ends while an exhaust getMore was streaming: kill that cursor (best
    /// effort). `command` is the getMore that would have run next.
    async fn kill_exhaust_cursor(&self, _ctx: &mut RequestContext<'_>, _command: &Document) {}
}

/// Everything a request runs with: the session's owning Client (so handlers such as `hello` can record
/// client metadata and tags), the operation, and the session itself (none for internal requests).
pub struct RequestContext<'a> {
    /// The session's Client, owned by the state machine.
    pub client: &'a mut UniqueClient,
    /// This request's operation.
    pub op_ctx: &'a mut OperationContext,
    /// The session the request came in on.
    pub session: Option<&'a Arc<SessionInfo>>,
}
