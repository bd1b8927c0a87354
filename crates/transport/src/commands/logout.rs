//! `logout`: nothing to undo until authentication exists; answers `{ok: 1}` as mongod does when no
//! user is logged in.

use async_trait::async_trait;
use bson::Document;
use docwire_rpc::{ReplyBuilder, StatusResult};

use crate::command::{Command, CommandRequest};
use crate::service_entry_point::RequestContext;

/// The logout command.
pub struct Logout;

#[async_trait]
impl Command for Logout {
    fn names(&self) -> &'static [&'static str] {
        &["logout"]
    }

    fn help(&self) -> &'static str {
        "de-authenticate"
    }

    async fn run(
        &self,
        _ctx: &mut RequestContext<'_>,
        _request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        reply.set_command_reply(Document::new());
        Ok(())
    }
}
