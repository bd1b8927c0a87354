//! The command layer: `Command` handlers in a `CommandRegistry` (name and aliases -> handler), and the
//! `CommandRequest` view of a request they run on. The db and proxy crates register their own commands.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use bson::{Document, RawBsonRef, RawDocument};
use docwire_rpc::{OpMsg, ReplyBuilder, ReplyProtocol, Status, StatusResult};

use crate::auth::AuthorizationManager;
use crate::service_entry_point::RequestContext;

/// One command's parsed request, borrowed from the message.
pub struct CommandRequest<'a> {
    /// The command name as sent (the body's first key).
    pub name: &'a str,
    /// The database it runs against (`$db`, or the OP_QUERY namespace's database).
    pub database: &'a str,
    /// The command document (OP_MSG body, or the unwrapped OP_QUERY query).
    pub body: &'a RawDocument,
    /// The OP_MSG, for commands that read document sequences; `None` for OP_QUERY.
    pub op_msg: Option<&'a OpMsg>,
    /// Whether the request allowed an exhaust stream of replies.
    pub exhaust_allowed: bool,
    /// Whether the request was moreToCome (its reply is never sent).
    pub more_to_come: bool,
    /// The reply format.
    pub protocol: ReplyProtocol,
    /// The process's authentication, when the entry point has one (the auth commands, hello's
    /// speculativeAuthenticate and saslSupportedMechs, connectionStatus and logout use it).
    pub auth: Option<&'a AuthorizationManager>,
}

impl CommandRequest<'_> {
    /// The command decoded, with document sequences merged in as arrays.
    pub fn merged(&self) -> StatusResult<Document> {
        match self.op_msg {
            Some(msg) => msg.merged(),
            None => Document::try_from(self.body).map_err(|e| {
                Status::new(
                    docwire_rpc::ErrorCode::InvalidBSON,
                    format!("invalid command document: {e}"),
                )
            }),
        }
    }

    /// A top-level field of the command.
    pub fn field(&self, name: &str) -> Option<RawBsonRef<'_>> {
        self.body.get(name).ok().flatten()
    }
}

/// A command handler. Errors it returns become the reply (`{ok: 0, errmsg, code, codeName}`).
#[async_trait]
pub trait Command: Send + Sync + 'static {
    /// The command's names: the first is canonical (listCommands), the rest aliases.
    fn names(&self) -> &'static [&'static str];

    /// One line of help for listCommands.
    fn help(&self) -> &'static str {
        ""
    }

    /// Whether a legacy OP_QUERY may run it (mongod allows only the handshake and auth commands).
    fn allowed_over_op_query(&self) -> bool {
        false
    }

    /// Whether running it marks the session as a driver that finished its handshake.
    fn is_handshake(&self) -> bool {
        false
    }

    /// Runs the command, writing the reply into `reply`.
    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()>;
}

/// Name -> handler. Names and aliases are matched exactly (mongod's `isMaster` and `ismaster` are two
/// aliases of `hello`).
#[derive(Clone, Default)]
pub struct CommandRegistry {
    by_name: HashMap<&'static str, Arc<dyn Command>>,
    canonical: Vec<Arc<dyn Command>>,
}

impl CommandRegistry {
    /// An empty registry.
    pub fn new() -> CommandRegistry {
        CommandRegistry::default()
    }

    /// Adds a command under all its names; a later registration of a name replaces the earlier one.
    pub fn register(&mut self, command: Arc<dyn Command>) -> &mut Self {
        for name in command.names() {
            self.by_name.insert(name, command.clone());
        }
        self.canonical
            .retain(|c| c.names().first() != command.names().first());
        self.canonical.push(command);
        self
    }

    /// The handler for a name.
    pub fn find(&self, name: &str) -> Option<&Arc<dyn Command>> {
        self.by_name.get(name)
    }

    /// Every command once, by canonical name order.
    pub fn commands(&self) -> Vec<&Arc<dyn Command>> {
        let mut all: Vec<_> = self.canonical.iter().collect();
        all.sort_by_key(|c| c.names().first().copied().unwrap_or_default());
        all
    }
}
