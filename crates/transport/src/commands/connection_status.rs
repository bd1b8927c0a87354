//! `connectionStatus`: who is authenticated on this connection, with which roles (and, with
//! `showPrivileges`, privileges).

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
        ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let show_privileges = request.merged()?.get("showPrivileges").is_some_and(truthy);
        let auth_info = match request.auth {
            Some(auth) => auth.auth_info(ctx.client, show_privileges),
            None => {
                let mut info = doc! {"authenticatedUsers": [], "authenticatedUserRoles": []};
                if show_privileges {
                    info.insert("authenticatedUserPrivileges", Vec::<Bson>::new());
                }
                info
            }
        };
        reply.set_command_reply(doc! {"authInfo": auth_info, "ok": 1.0});
        Ok(())
    }
}
