//! `saslStart` and `saslContinue`: SCRAM authentication over SASL, as mongod runs it (one
//! conversation per connection, `conversationId: 1`, payloads as BinData); and serverStatus'
//! `security` section with the authentication counters.

use std::sync::Arc;

use async_trait::async_trait;
use bson::{Binary, Bson, Document, doc, spec::BinarySubtype};
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};

use crate::auth::{AuthorizationManager, SaslReply};
use crate::command::{Command, CommandRequest};
use crate::commands::util::{as_i64, truthy};
use crate::service_entry_point::RequestContext;

/// The saslStart command.
pub struct SaslStart;

/// The saslContinue command.
pub struct SaslContinue;

/// The manager, or the error a server without authentication gives.
pub(crate) fn manager<'a>(request: &CommandRequest<'a>) -> StatusResult<&'a AuthorizationManager> {
    request.auth.ok_or_else(|| {
        Status::new(
            ErrorCode::AuthenticationFailed,
            "Authentication is not configured on this server",
        )
    })
}

/// A SASL payload: BinData, or a string (as some shells send it).
pub(crate) fn payload(cmd: &Document) -> StatusResult<Vec<u8>> {
    match cmd.get("payload") {
        Some(Bson::Binary(binary)) => Ok(binary.bytes.clone()),
        Some(Bson::String(text)) => Ok(text.clone().into_bytes()),
        _ => Err(Status::new(
            ErrorCode::BadValue,
            "Missing or wrongly typed SASL payload",
        )),
    }
}

/// The reply fields of one SASL step.
pub(crate) fn reply_document(reply: SaslReply) -> Document {
    doc! {
        "conversationId": reply.conversation_id,
        "done": reply.done,
        "payload": Binary { subtype: BinarySubtype::Generic, bytes: reply.payload },
        "ok": 1.0,
    }
}

/// Runs saslStart's body (`mechanism`, `payload`, `options.skipEmptyExchange`) for `db`;
/// `speculative` when it came inside hello.
pub(crate) async fn start(
    auth: &AuthorizationManager,
    ctx: &RequestContext<'_>,
    db: &str,
    cmd: &Document,
    speculative: bool,
) -> StatusResult<SaslReply> {
    let mechanism = cmd
        .get_str("mechanism")
        .map_err(|_| Status::new(ErrorCode::BadValue, "Missing or wrongly typed SASL mechanism"))?;
    let skip_empty_exchange = cmd
        .get_document("options")
        .ok()
        .and_then(|o| o.get("skipEmptyExchange"))
        .is_some_and(truthy);
    let payload = payload(cmd)?;
    auth.sasl_start(
        ctx.client,
        db,
        mechanism,
        &payload,
        skip_empty_exchange,
        speculative,
    )
    .await
}

#[async_trait]
impl Command for SaslStart {
    fn names(&self) -> &'static [&'static str] {
        &["saslStart"]
    }

    fn help(&self) -> &'static str {
        "First step in a SASL authentication conversation."
    }

    fn allowed_over_op_query(&self) -> bool {
        true
    }

    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let auth = manager(request)?;
        let cmd = request.merged()?;
        let answer = start(auth, ctx, request.database, &cmd, false).await?;
        reply.set_command_reply(reply_document(answer));
        Ok(())
    }
}

#[async_trait]
impl Command for SaslContinue {
    fn names(&self) -> &'static [&'static str] {
        &["saslContinue"]
    }

    fn help(&self) -> &'static str {
        "Subsequent steps in a SASL authentication conversation."
    }

    fn allowed_over_op_query(&self) -> bool {
        true
    }

    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let auth = manager(request)?;
        let cmd = request.merged()?;
        let conversation_id = cmd
            .get("conversationId")
            .and_then(as_i64)
            .and_then(|id| i32::try_from(id).ok())
            .ok_or_else(|| Status::new(ErrorCode::BadValue, "Missing or wrongly typed conversationId"))?;
        let payload = payload(&cmd)?;
        let answer = auth.sasl_continue(ctx.client, conversation_id, &payload).await?;
        reply.set_command_reply(reply_document(answer));
        Ok(())
    }
}

/// serverStatus with mongod's `security` section (the authentication counters) appended.
pub struct AuthServerStatus {
    inner: Arc<dyn Command>,
}

impl AuthServerStatus {
    /// Wraps the registered serverStatus.
    pub fn new(inner: Arc<dyn Command>) -> AuthServerStatus {
        AuthServerStatus { inner }
    }
}

#[async_trait]
impl Command for AuthServerStatus {
    fn names(&self) -> &'static [&'static str] {
        self.inner.names()
    }

    fn help(&self) -> &'static str {
        self.inner.help()
    }

    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        self.inner.run(ctx, request, reply).await?;
        if let Some(auth) = request.auth {
            reply.body_mut().insert("security", auth.counters().to_document());
        }
        Ok(())
    }
}
