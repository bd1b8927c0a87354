//! The user-management commands over the process's user store: createUser, updateUser, dropUser,
//! dropAllUsersFromDatabase, grantRolesToUser and revokeRolesFromUser, with mongod's fields, replies
//! and errors. Passwords become SCRAM credentials here and go no further.

use std::sync::Arc;

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};

use crate::auth::{
    AuthorizationManager, RoleName, ScramMechanism, UserDocument, UserName, derive_credentials, user_exists,
    user_not_found,
};
use crate::command::{Command, CommandRequest};
use crate::commands::sasl::manager;
use crate::service_entry_point::RequestContext;

/// Which user-management command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Create,
    Update,
    Drop,
    DropAll,
    Grant,
    Revoke,
}

/// One of the user-management commands.
pub struct UserManagement(Kind);

impl UserManagement {
    /// Every user-management command but usersInfo.
    pub fn all() -> Vec<Arc<dyn Command>> {
        [
            Kind::Create,
            Kind::Update,
            Kind::Drop,
            Kind::DropAll,
            Kind::Grant,
            Kind::Revoke,
        ]
        .into_iter()
        .map(|kind| Arc::new(UserManagement(kind)) as Arc<dyn Command>)
        .collect()
    }
}

#[async_trait]
impl Command for UserManagement {
    fn names(&self) -> &'static [&'static str] {
        match self.0 {
            Kind::Create => &["createUser"],
            Kind::Update => &["updateUser"],
            Kind::Drop => &["dropUser"],
            Kind::DropAll => &["dropAllUsersFromDatabase"],
            Kind::Grant => &["grantRolesToUser"],
            Kind::Revoke => &["revokeRolesFromUser"],
        }
    }

    fn help(&self) -> &'static str {
        match self.0 {
            Kind::Create => "Adds a user to the system",
            Kind::Update => "Used to update a user, for example to change its password",
            Kind::Drop => "Drops a single user.",
            Kind::DropAll => "Drops all users for a single database.",
            Kind::Grant => "Grants roles to a user.",
            Kind::Revoke => "Revokes roles from a user.",
        }
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
        let body = match self.0 {
            Kind::Create => create_user(auth, db, &cmd)?,
            Kind::Update => update_user(auth, db, &cmd)?,
            Kind::Drop => drop_user(auth, db, &cmd)?,
            Kind::DropAll => drop_all_users(auth, db)?,
            Kind::Grant | Kind::Revoke => change_roles(auth, db, &cmd, self.0 == Kind::Grant)?,
        };
        auth.users_changed();
        reply.set_command_reply(body);
        Ok(())
    }
}

fn user_name(cmd: &Document, field: &str, db: &str) -> StatusResult<UserName> {
    match cmd.get(field) {
        Some(Bson::String(user)) if !user.is_empty() => Ok(UserName::new(user.clone(), db)),
        Some(Bson::String(_)) => Err(Status::new(ErrorCode::BadValue, "User name cannot be empty")),
        _ => Err(Status::new(
            ErrorCode::TypeMismatch,
            format!("BSON field '{field}' is the wrong type, expected type 'string'"),
        )),
    }
}

/// The `roles` array, every role checked to exist.
fn roles(cmd: &Document, db: &str, required: bool) -> StatusResult<Option<Vec<RoleName>>> {
    let list = match cmd.get("roles") {
        Some(Bson::Array(list)) => list,
        None if !required => return Ok(None),
        None => {
            return Err(Status::new(
                ErrorCode::Location(40414),
                format!(
                    "BSON field '{}.roles' is missing but a required field",
                    cmd.keys().next().map_or("", String::as_str)
                ),
            ));
        }
        Some(_) => {
            return Err(Status::new(
                ErrorCode::TypeMismatch,
                "BSON field 'roles' is the wrong type, expected type 'array'",
            ));
        }
    };
    let mut parsed = Vec::with_capacity(list.len());
    for role in list {
        let role = RoleName::parse(role, db)?;
        role.validate()?;
        if !parsed.contains(&role) {
            parsed.push(role);
        }
    }
    Ok(Some(parsed))
}

/// `mechanisms`, defaulting to both; only SCRAM mechanisms exist here.
fn mechanisms(cmd: &Document, default: &[ScramMechanism]) -> StatusResult<Vec<ScramMechanism>> {
    let Some(value) = cmd.get("mechanisms") else {
        return Ok(default.to_vec());
    };
    let Bson::Array(list) = value else {
        return Err(Status::new(
            ErrorCode::TypeMismatch,
            "BSON field 'mechanisms' is the wrong type, expected type 'array'",
        ));
    };
    let mut parsed = Vec::new();
    for name in list {
        let mechanism = name
            .as_str()
            .and_then(ScramMechanism::from_name)
            .ok_or_else(|| Status::new(ErrorCode::BadValue, format!("Unknown auth mechanism '{name}'")))?;
        if !parsed.contains(&mechanism) {
            parsed.push(mechanism);
        }
    }
    if parsed.is_empty() {
        return Err(Status::new(
            ErrorCode::BadValue,
            "mechanisms field must not be empty",
        ));
    }
    Ok(parsed)
}

fn password(cmd: &Document) -> StatusResult<Option<&str>> {
    if cmd
        .get("digestPassword")
        .is_some_and(|v| v == &Bson::Boolean(false))
    {
        return Err(Status::new(
            ErrorCode::BadValue,
            "Use of SCRAM-SHA-256 requires undigested passwords",
        ));
    }
    match cmd.get("pwd") {
        None => Ok(None),
        Some(Bson::String(pwd)) if pwd.is_empty() => {
            Err(Status::new(ErrorCode::BadValue, "Password cannot be empty"))
        }
        Some(Bson::String(pwd)) => Ok(Some(pwd)),
        Some(_) => Err(Status::new(
            ErrorCode::TypeMismatch,
            "BSON field 'pwd' is the wrong type, expected type 'string'",
        )),
    }
}

fn custom_data(cmd: &Document) -> StatusResult<Option<Document>> {
    match cmd.get("customData") {
        None => Ok(None),
        Some(Bson::Document(d)) => Ok(Some(d.clone())),
        Some(_) => Err(Status::new(
            ErrorCode::TypeMismatch,
            "BSON field 'customData' is the wrong type, expected type 'object'",
        )),
    }
}

fn create_user(auth: &AuthorizationManager, db: &str, cmd: &Document) -> StatusResult<Document> {
    let name = user_name(cmd, "createUser", db)?;
    let pwd = password(cmd)?.ok_or_else(|| {
        Status::new(
            ErrorCode::BadValue,
            "Must provide a 'pwd' field for all user documents, except those with '$external' as the \
             user's source db",
        )
    })?;
    let roles = roles(cmd, db, true)?.unwrap_or_default();
    let mechanisms = mechanisms(cmd, &ScramMechanism::ALL)?;
    let mut user = UserDocument::new(name.clone(), pwd, &mechanisms, roles)?;
    user.custom_data = custom_data(cmd)?;
    if !auth.store().create(&user)? {
        return Err(user_exists(&name));
    }
    tracing::info!(user = %name.user, db = %name.db, "Created user");
    Ok(doc! {"ok": 1.0})
}

fn stored(auth: &AuthorizationManager, name: &UserName) -> StatusResult<UserDocument> {
    auth.store().get(name)?.ok_or_else(|| user_not_found(name))
}

fn save(auth: &AuthorizationManager, user: &UserDocument) -> StatusResult<()> {
    if auth.store().update(user)? {
        Ok(())
    } else {
        Err(user_not_found(&user.name))
    }
}

fn update_user(auth: &AuthorizationManager, db: &str, cmd: &Document) -> StatusResult<Document> {
    let name = user_name(cmd, "updateUser", db)?;
    let mut user = stored(auth, &name)?;
    let pwd = password(cmd)?;
    let roles = roles(cmd, db, false)?;
    let custom = custom_data(cmd)?;
    if pwd.is_none() && roles.is_none() && custom.is_none() && !cmd.contains_key("mechanisms") {
        return Err(Status::new(
            ErrorCode::BadValue,
            "Must specify at least one field to update in updateUser",
        ));
    }
    let current = user.mechanisms();
    let mechanisms = mechanisms(cmd, &current)?;
    match pwd {
        Some(pwd) => user.credentials = derive_credentials(&name.user, pwd, &mechanisms)?,
        None if cmd.contains_key("mechanisms") => {
            // Without a new password, mechanisms may only narrow the existing credentials.
            if mechanisms.iter().any(|m| !current.contains(m)) {
                return Err(Status::new(
                    ErrorCode::BadValue,
                    "mechanisms field must be a subset of previously set mechanisms",
                ));
            }
            user.credentials.retain(|(m, _)| mechanisms.contains(m));
        }
        None => {}
    }
    if let Some(roles) = roles {
        user.roles = roles;
    }
    if let Some(custom) = custom {
        user.custom_data = Some(custom);
    }
    save(auth, &user)?;
    tracing::info!(user = %name.user, db = %name.db, "Updated user");
    Ok(doc! {"ok": 1.0})
}

fn drop_user(auth: &AuthorizationManager, db: &str, cmd: &Document) -> StatusResult<Document> {
    let name = user_name(cmd, "dropUser", db)?;
    if !auth.store().drop_user(&name)? {
        return Err(user_not_found(&name));
    }
    tracing::info!(user = %name.user, db = %name.db, "Dropped user");
    Ok(doc! {"ok": 1.0})
}

fn drop_all_users(auth: &AuthorizationManager, db: &str) -> StatusResult<Document> {
    let mut n = 0i32;
    for user in auth.store().list(Some(db))? {
        if auth.store().drop_user(&user.name)? {
            n = n.saturating_add(1);
        }
    }
    tracing::info!(db, n, "Dropped all users from a database");
    Ok(doc! {"n": n, "ok": 1.0})
}

fn change_roles(
    auth: &AuthorizationManager,
    db: &str,
    cmd: &Document,
    grant: bool,
) -> StatusResult<Document> {
    let field = if grant {
        "grantRolesToUser"
    } else {
        "revokeRolesFromUser"
    };
    let name = user_name(cmd, field, db)?;
    let changed = roles(cmd, db, true)?.unwrap_or_default();
    let mut user = stored(auth, &name)?;
    if grant {
        for role in changed {
            if !user.roles.contains(&role) {
                user.roles.push(role);
            }
        }
    } else {
        user.roles.retain(|r| !changed.contains(r));
    }
    save(auth, &user)?;
    Ok(doc! {"ok": 1.0})
}
