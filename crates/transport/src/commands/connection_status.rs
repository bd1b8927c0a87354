//! `connectionStatus`: who is authenticated on this connection (nobody until authentication exists).

use async_trait::async_trait;
use bson::{Bson, doc};
use docwire_rpc::{ReplyBuilder, StatusResult};

use crate::command::{Command, CommandRequest};
use crate::commands::util::truthy;
use crate::service_entry_point::RequestContext;

/// The connectionStatus command.
pub struct ConnectionStatus;

#[async_trait]
impl Command for ConnectionStatus {
    fn names(&self) -> &'static [&'static str] {
        &["connectionStatus"]
    }

    fn help(&self) -> &'static str {
        "Returns connection-specific information such as logged-in users and their roles"
    }

    async fn run(
        &self,
        _ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let mut auth_info = doc! {"authenticatedUsers": [], "authenticatedUserRoles": []};
        let show_privileges = request.merged()?.get("showPrivileges").is_some_and(truthy);
        if show_privileges {
            auth_info.insert("authenticatedUserPrivileges", Vec::<Bson>::new());
        }
        reply.set_command_reply(doc! {"authInfo": auth_info, "ok": 1.0});
        Ok(())
    }
}
