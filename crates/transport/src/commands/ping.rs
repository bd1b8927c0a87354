//! `ping`: answers `{ok: 1}`; drivers use it to check a connection.

use async_trait::async_trait;
use bson::Document;
use docwire_rpc::{ReplyBuilder, StatusResult};

use crate::command::{Command, CommandRequest};
use crate::service_entry_point::RequestContext;

/// The ping command.
pub struct Ping;

#[async_trait]
impl Command for Ping {
    fn names(&self) -> &'static [&'static str] {
        &["ping"]
    }

    fn help(&self) -> &'static str {
        "a way to check that the server is alive. responds immediately even if server is in a db lock."
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
