//! `killOp`: interrupts an operation by opid; answers "attempting to kill op" whether or not it exists,
//! as mongod does.

use async_trait::async_trait;
use docwire_rpc::{ReplyBuilder, StatusResult};

use crate::command::{Command, CommandRequest};
use crate::commands::util::require_admin;
use crate::service_entry_point::RequestContext;

/// The killOp command.
pub struct KillOp;

#[async_trait]
impl Command for KillOp {
    fn names(&self) -> &'static [&'static str] {
        &["killOp"]
    }

    fn help(&self) -> &'static str {
        "Kill an operation by opid: { killOp: 1, op: <opid> }"
    }

    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        require_admin(request)?;
        let cmd = request.merged()?;
        let answer = ctx.op_ctx.service_context().kill_op_command(&cmd)?;
        reply.set_command_reply(answer);
        Ok(())
    }
}
