//! `whatsmyuri`: the peer's address as the server sees it (`{you: "host:port"}`).

use async_trait::async_trait;
use bson::doc;
use docwire_rpc::{ReplyBuilder, StatusResult};

use crate::command::{Command, CommandRequest};
use crate::service_entry_point::RequestContext;

/// The whatsmyuri command.
pub struct WhatsMyUri;

#[async_trait]
impl Command for WhatsMyUri {
    fn names(&self) -> &'static [&'static str] {
        &["whatsmyuri"]
    }

    fn help(&self) -> &'static str {
        "{whatsmyuri:1}"
    }

    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        _request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let you = match ctx.session {
            Some(session) => session.remote().to_owned(),
            None => ctx.client.remote_address().unwrap_or_default(),
        };
        reply.set_command_reply(doc! {"you": you, "ok": 1.0});
        Ok(())
    }
}
