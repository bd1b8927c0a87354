//! `logout`: forgets the user authenticated on the command's database; answers `{ok: 1}` whether or
//! not one was, as mongod does.

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
        ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        if let Some(auth) = request.auth {
            auth.logout(ctx.client, request.database);
        }
        reply.set_command_reply(Document::new());
        Ok(())
    }
}
