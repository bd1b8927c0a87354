//! `listCommands`: every command name the server answers, with its help.

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};

use crate::command::{Command, CommandRequest};
use crate::commands::deps::CommandCatalog;
use crate::service_entry_point::RequestContext;

/// The listCommands command.
pub struct ListCommands {
    catalog: CommandCatalog,
}

impl ListCommands {
    /// Lists the registry published to `catalog`.
    pub fn new(catalog: CommandCatalog) -> ListCommands {
        ListCommands { catalog }
    }
}

#[async_trait]
impl Command for ListCommands {
    fn names(&self) -> &'static [&'static str] {
        &["listCommands"]
    }

    fn help(&self) -> &'static str {
        "get a list of all db commands"
    }

    async fn run(
        &self,
        _ctx: &mut RequestContext<'_>,
        _request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let Some(registry) = self.catalog.registry() else {
            return Err(Status::new(
                ErrorCode::InternalError,
                "listCommands: the command registry was never published to its catalog",
            ));
        };
        // mongod lists every name, aliases included, in name order.
        let mut entries: Vec<(&'static str, &'static str)> = registry
            .commands()
            .iter()
            .flat_map(|c| c.names().iter().map(|n| (*n, c.help())))
            .collect();
        entries.sort_by_key(|(name, _)| *name);
        let mut commands = Document::new();
        for (name, help) in entries {
            commands.insert(
                name,
                doc! {
                    "help": help,
                    "requiresAuth": false,
                    "secondaryOk": true,
                    "apiVersions": Vec::<Bson>::new(),
                    "deprecatedApiVersions": Vec::<Bson>::new(),
                },
            );
        }
        reply.set_command_reply(doc! {"commands": commands, "ok": 1.0});
        Ok(())
    }
}
