//! `getCmdLineOpts`: the arguments the server was started with, raw and parsed.

use async_trait::async_trait;
use bson::doc;
use docwire_rpc::{ReplyBuilder, StatusResult};

use crate::command::{Command, CommandRequest};
use crate::commands::deps::CmdLineOpts;
use crate::commands::util::require_admin;
use crate::service_entry_point::RequestContext;

/// The getCmdLineOpts command.
pub struct GetCmdLineOpts {
    opts: CmdLineOpts,
}

impl GetCmdLineOpts {
    /// Reports `opts`.
    pub fn new(opts: CmdLineOpts) -> GetCmdLineOpts {
        GetCmdLineOpts { opts }
    }
}

#[async_trait]
impl Command for GetCmdLineOpts {
    fn names(&self) -> &'static [&'static str] {
        &["getCmdLineOpts"]
    }

    fn help(&self) -> &'static str {
        "get argv"
    }

    async fn run(
        &self,
        _ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        require_admin(request)?;
        reply.set_command_reply(doc! {
            "argv": self.opts.argv.clone(),
            "parsed": self.opts.parsed.clone(),
            "ok": 1.0,
        });
        Ok(())
    }
}
