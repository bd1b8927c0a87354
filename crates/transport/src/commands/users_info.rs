//! `usersInfo`: the users of a database (or of all, `forAllDBs`), one or several by name; credentials
//! only with `showCredentials` (salted keys, never a password), privileges with `showPrivileges`.

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};

use crate::auth::{ScramMechanism, UserDocument, UserName, privilege_document, privileges_of};
use crate::command::{Command, CommandRequest};
use crate::commands::sasl::manager;
use crate::commands::util::truthy;
use crate::service_entry_point::RequestContext;

/// The usersInfo command.
pub struct UsersInfo;

fn names(value: &Bson, db: &str) -> StatusResult<Vec<UserName>> {
    match value {
        Bson::String(user) => Ok(vec![UserName::new(user.clone(), db)]),
        Bson::Document(d) => match (d.get_str("user"), d.get_str("db")) {
            (Ok(user), Ok(db)) => Ok(vec![UserName::new(user, db)]),
            _ => Err(Status::new(
                ErrorCode::BadValue,
                "User name documents must contain 'user' and 'db' fields",
            )),
        },
        Bson::Array(list) => {
            let mut all = Vec::new();
            for item in list {
                all.extend(names(item, db)?);
            }
            Ok(all)
        }
        _ => Err(Status::new(
            ErrorCode::BadValue,
            "User and role names must be either strings or objects",
        )),
    }
}

fn describe(user: &UserDocument, show_credentials: bool, show_privileges: bool) -> Document {
    let stored = user.to_document();
    let mechanisms: Vec<Bson> = user
        .mechanisms()
        .into_iter()
        .map(|m| Bson::from(ScramMechanism::name(m)))
        .collect();
    let mut out = doc! {};
    for field in ["_id", "userId", "user", "db"] {
        if let Some(value) = stored.get(field) {
            out.insert(field, value.clone());
        }
    }
    if show_credentials && let Some(credentials) = stored.get("credentials") {
        out.insert("credentials", credentials.clone());
    }
    if let Some(custom) = stored.get("customData") {
        out.insert("customData", custom.clone());
    }
    out.insert(
        "roles",
        stored.get("roles").cloned().unwrap_or(Bson::Array(Vec::new())),
    );
    if show_privileges {
        let privileges: Vec<Bson> = privileges_of(&user.roles)
            .iter()
            .map(privilege_document)
            .collect();
        out.insert("inheritedPrivileges", privileges);
    }
    out.insert("mechanisms", mechanisms);
    out
}

#[async_trait]
impl Command for UsersInfo {
    fn names(&self) -> &'static [&'static str] {
        &["usersInfo"]
    }

    fn help(&self) -> &'static str {
        "Returns information about users."
    }

    async fn run(
        &self,
        _ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let auth = manager(request)?;
        let cmd = request.merged()?;
        let db = request.database;
        let show_credentials = cmd.get("showCredentials").is_some_and(truthy);
        let show_privileges = cmd.get("showPrivileges").is_some_and(truthy);
        let selector = cmd.get("usersInfo").cloned().unwrap_or(Bson::Int32(1));
        let users = match &selector {
            Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) => {
                let all_dbs = cmd.get("forAllDBs").is_some_and(truthy);
                auth.store().list(if all_dbs { None } else { Some(db) })?
            }
            other => {
                let mut found = Vec::new();
                for name in names(other, db)? {
                    if let Some(user) = auth.store().get(&name)? {
                        found.push(user);
                    }
                }
                found
            }
        };
        let users: Vec<Bson> = users
            .iter()
            .map(|u| Bson::Document(describe(u, show_credentials, show_privileges)))
            .collect();
        reply.set_command_reply(doc! {"users": users, "ok": 1.0});
        Ok(())
    }
}
