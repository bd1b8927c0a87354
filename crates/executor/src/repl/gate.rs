//! Command gating on a role-simulated member: a secondary refuses writes with NotWritablePrimary 10107
//! and reads that carry no secondary-ok read preference with NotPrimaryNoSecondaryOk 13435, as mongod
//! does. [`gate_commands`] wraps the registered data commands; everything else runs on any member.

use std::sync::Arc;

use async_trait::async_trait;
use bson::RawBsonRef;
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};
use docwire_transport::{Command, CommandRegistry, CommandRequest, RequestContext};

use super::coordinator::ReplicationCoordinator;

/// Commands that change data: only a primary runs them.
pub const WRITE_COMMANDS: [&str; 11] = [
    "insert",
    "update",
    "delete",
    "findAndModify",
    "create",
    "drop",
    "dropDatabase",
    "renameCollection",
    "createIndexes",
    "dropIndexes",
    "collMod",
];

/// Commands that read data: a secondary runs them only for a secondary-ok read preference.
pub const READ_COMMANDS: [&str; 10] = [
    "find",
    "aggregate",
    "count",
    "distinct",
    "listCollections",
    "listIndexes",
    "listDatabases",
    "collStats",
    "dbStats",
    "explain",
];

/// Whether a command's kind is refused on a secondary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// A write: primary only.
    Write,
    /// A read: primary, or any member for a secondary-ok read preference.
    Read,
}

/// A registered command behind a role check.
pub struct Gated {
    inner: Arc<dyn Command>,
    gate: Gate,
    coordinator: ReplicationCoordinator,
}

/// Whether the request's `$readPreference` lets a secondary answer (any mode but primary).
fn secondary_ok(request: &CommandRequest<'_>) -> bool {
    let Some(RawBsonRef::Document(pref)) = request.field("$readPreference") else {
        return false;
    };
    matches!(pref.get("mode"), Ok(Some(RawBsonRef::String(mode))) if mode != "primary")
}

impl Gated {
    fn check(&self, request: &CommandRequest<'_>) -> StatusResult<()> {
        if self.coordinator.is_writable_primary() {
            return Ok(());
        }
        match self.gate {
            Gate::Write => Err(Status::new(ErrorCode::NotWritablePrimary, "not primary")),
            Gate::Read if secondary_ok(request) => Ok(()),
            Gate::Read => Err(Status::new(
                ErrorCode::NotPrimaryNoSecondaryOk,
                "not primary and secondaryOk=false",
            )),
        }
    }
}

#[async_trait]
impl Command for Gated {
    fn names(&self) -> &'static [&'static str] {
        self.inner.names()
    }

    fn help(&self) -> &'static str {
        self.inner.help()
    }

    fn allowed_over_op_query(&self) -> bool {
        self.inner.allowed_over_op_query()
    }

    fn is_handshake(&self) -> bool {
        self.inner.is_handshake()
    }

    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        self.check(request)?;
        self.inner.run(ctx, request, reply).await
    }
}

/// Wraps every registered write and read command (see [`WRITE_COMMANDS`], [`READ_COMMANDS`]) in the
/// role check. Call after the data commands are registered.
pub fn gate_commands(registry: &mut CommandRegistry, coordinator: &ReplicationCoordinator) {
    let kinds = WRITE_COMMANDS
        .iter()
        .map(|name| (*name, Gate::Write))
        .chain(READ_COMMANDS.iter().map(|name| (*name, Gate::Read)));
    for (name, gate) in kinds {
        let Some(inner) = registry.find(name).cloned() else {
            continue;
        };
        registry.register(Arc::new(Gated {
            inner,
            gate,
            coordinator: coordinator.clone(),
        }));
    }
}
