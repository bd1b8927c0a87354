//! The replica-set commands of a role-simulated member: `replSetStepUp`, `replSetStepDown` and
//! `replSetGetStatus` (admin only, as in mongod).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};
use docwire_transport::{Command, CommandRegistry, CommandRequest, RequestContext};

use super::coordinator::ReplicationCoordinator;

/// mongod's check for adminOnly commands.
fn require_admin(request: &CommandRequest<'_>) -> StatusResult<()> {
    if request.database == "admin" {
        return Ok(());
    }
    Err(Status::new(
        ErrorCode::Unauthorized,
        format!("{} may only be run against the admin database.", request.name),
    ))
}

fn number(value: &Bson) -> Option<f64> {
    match value {
        Bson::Int32(v) => Some(f64::from(*v)),
        Bson::Int64(v) => Some(*v as f64),
        Bson::Double(v) => Some(*v),
        _ => None,
    }
}

/// `replSetStepUp`: makes this member primary in a new term.
pub struct ReplSetStepUp {
    coordinator: ReplicationCoordinator,
}

#[async_trait]
impl Command for ReplSetStepUp {
    fn names(&self) -> &'static [&'static str] {
        &["replSetStepUp"]
    }

    fn help(&self) -> &'static str {
        "Step up this member to primary (role simulation: no data is replicated)"
    }

    async fn run(
        &self,
        _ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        require_admin(request)?;
        self.coordinator.step_up()?;
        reply.set_command_reply(Document::new());
        Ok(())
    }
}

/// `replSetStepDown: <secs>, force: <bool>`: the primary becomes a secondary for that long.
pub struct ReplSetStepDown {
    coordinator: ReplicationCoordinator,
}

#[async_trait]
impl Command for ReplSetStepDown {
    fn names(&self) -> &'static [&'static str] {
        &["replSetStepDown"]
    }

    fn help(&self) -> &'static str {
        "Step down as primary for the given seconds { replSetStepDown: <secs>, force: <bool> }"
    }

    async fn run(
        &self,
        _ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        require_admin(request)?;
        let cmd = request.merged()?;
        let secs = cmd
            .get("replSetStepDown")
            .and_then(number)
            .ok_or_else(|| Status::new(ErrorCode::TypeMismatch, "replSetStepDown must be a number"))?;
        if !(secs > 0.0 && secs.is_finite()) {
            return Err(Status::new(
                ErrorCode::BadValue,
                "replSetStepDown must be a positive number of seconds",
            ));
        }
        let force = match cmd.get("force") {
            None => false,
            Some(Bson::Boolean(b)) => *b,
            Some(other) => number(other).is_some_and(|n| n != 0.0),
        };
        self.coordinator.step_down(Duration::from_secs_f64(secs), force)?;
        reply.set_command_reply(Document::new());
        Ok(())
    }
}

/// `replSetGetStatus`: the set's members and their states as this member sees them.
pub struct ReplSetGetStatus {
    coordinator: ReplicationCoordinator,
}

#[async_trait]
impl Command for ReplSetGetStatus {
    fn names(&self) -> &'static [&'static str] {
        &["replSetGetStatus"]
    }

    fn help(&self) -> &'static str {
        "Report the replica set's members and states { replSetGetStatus: 1 }"
    }

    async fn run(
        &self,
        _ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        require_admin(request)?;
        reply.set_command_reply(self.coordinator.status_document());
        Ok(())
    }
}

/// Registers the three replica-set commands for `coordinator`.
pub fn register_repl_commands(registry: &mut CommandRegistry, coordinator: &ReplicationCoordinator) {
    registry
        .register(Arc::new(ReplSetStepUp {
            coordinator: coordinator.clone(),
        }))
        .register(Arc::new(ReplSetStepDown {
            coordinator: coordinator.clone(),
        }))
        .register(Arc::new(ReplSetGetStatus {
            coordinator: coordinator.clone(),
        }));
}
