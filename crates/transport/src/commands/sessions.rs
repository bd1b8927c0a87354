//! Logical sessions: `startSession` hands out a session id; `endSessions` and `refreshSessions` accept
//! lists of ids. No session state is kept yet (transactions and retryable writes come later).

use async_trait::async_trait;
use bson::{Bson, Document, Uuid, doc};
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};

use crate::command::{Command, CommandRequest};
use crate::service_entry_point::RequestContext;

/// mongod's localLogicalSessionTimeoutMinutes.
const SESSION_TIMEOUT_MINUTES: i32 = 30;

/// The startSession command.
pub struct StartSession;

/// The endSessions command.
pub struct EndSessions;

/// The refreshSessions command.
pub struct RefreshSessions;

#[async_trait]
impl Command for StartSession {
    fn names(&self) -> &'static [&'static str] {
        &["startSession"]
    }

    fn help(&self) -> &'static str {
        "start a logical session"
    }

    async fn run(
        &self,
        _ctx: &mut RequestContext<'_>,
        _request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        reply.set_command_reply(doc! {
            "id": {"id": Uuid::new()},
            "timeoutMinutes": SESSION_TIMEOUT_MINUTES,
            "ok": 1.0,
        });
        Ok(())
    }
}

#[async_trait]
impl Command for EndSessions {
    fn names(&self) -> &'static [&'static str] {
        &["endSessions"]
    }

    fn help(&self) -> &'static str {
        "end a set of logical sessions"
    }

    async fn run(
        &self,
        _ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        check_session_list(request)?;
        reply.set_command_reply(Document::new());
        Ok(())
    }
}

#[async_trait]
impl Command for RefreshSessions {
    fn names(&self) -> &'static [&'static str] {
        &["refreshSessions"]
    }

    fn help(&self) -> &'static str {
        "renew a set of logical sessions"
    }

    async fn run(
        &self,
        _ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        check_session_list(request)?;
        reply.set_command_reply(Document::new());
        Ok(())
    }
}

/// The command's argument must be an array of session ids (`[{id: UUID}, ...]`), as mongod's IDL says.
fn check_session_list(request: &CommandRequest<'_>) -> StatusResult<()> {
    let cmd = request.merged()?;
    match cmd.get(request.name) {
        Some(Bson::Array(ids)) => {
            if ids
                .iter()
                .all(|id| matches!(id, Bson::Document(d) if d.contains_key("id")))
            {
                Ok(())
            } else {
                Err(Status::new(
                    ErrorCode::TypeMismatch,
                    format!(
                        "BSON field '{0}.{0}' must be an array of session ids",
                        request.name
                    ),
                ))
            }
        }
        other => Err(Status::new(
            ErrorCode::TypeMismatch,
            format!(
                "BSON field '{0}.{0}' is the wrong type '{1}', expected type 'array'",
                request.name,
                other.map_or("missing".to_owned(), |v| format!("{:?}", v.element_type())
                    .to_lowercase())
            ),
        )),
    }
}
