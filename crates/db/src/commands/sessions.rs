//! `endSessions` for the embedded database: ending a logical session also kills the cursors opened in
//! it, as mongod does (it replaces the admin command of the same name, which has no cursors to kill).

use async_trait::async_trait;
use bson::{Bson, doc};
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};
use docwire_transport::{Command, CommandRequest, RequestContext};

use super::context::DbDeps;
use super::util::command_document;

/// The endSessions command.
pub struct EndSessions(pub DbDeps);

#[async_trait]
impl Command for EndSessions {
    fn names(&self) -> &'static [&'static str] {
        &["endSessions"]
    }

    fn help(&self) -> &'static str {
        "end logical sessions and kill their cursors"
    }

    async fn run(
        &self,
        _: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let command = command_document(req)?;
        let Some(Bson::Array(sessions)) = command.get("endSessions") else {
            return Err(Status::new(
                ErrorCode::TypeMismatch,
                "BSON field 'endSessions' is the wrong type, expected type 'array'",
            ));
        };
        for session in sessions {
            if let Bson::Document(lsid) = session {
                self.0.cursors.kill_for_session(lsid);
            }
        }
        reply.set_command_reply(doc! {"ok": 1.0});
        Ok(())
    }
}
