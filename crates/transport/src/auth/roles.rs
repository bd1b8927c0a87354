//! mongod's built-in roles and the privileges each grants (a subset of mongod's action lists, the
//! actions docwire's commands check). Database roles exist in every database; the *AnyDatabase and
//! cluster roles, and root, only in `admin`.

use std::fmt;

use bson::{Bson, Document, doc};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::privilege::{ActionType, Privilege, ResourcePattern};

/// A role: its name and the database it is defined in.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleName {
    /// The role's name (e.g. `readWrite`).
    pub role: String,
    /// Its database.
    pub db: String,
}

impl RoleName {
    /// `role@db`.
    pub fn new(role: impl Into<String>, db: impl Into<String>) -> RoleName {
        RoleName {
            role: role.into(),
            db: db.into(),
        }
    }

    /// `{role, db}`.
    pub fn to_document(&self) -> Document {
        doc! {"role": self.role.clone(), "db": self.db.clone()}
    }

    /// A role as commands name it: a string (a role in `default_db`) or `{role, db}`.
    pub fn parse(value: &Bson, default_db: &str) -> StatusResult<RoleName> {
        match value {
            Bson::String(role) => Ok(RoleName::new(role.clone(), default_db)),
            Bson::Document(d) => match (d.get_str("role"), d.get_str("db")) {
                (Ok(role), Ok(db)) => Ok(RoleName::new(role, db)),
                _ => Err(Status::new(
                    ErrorCode::BadValue,
                    "Role names must be either strings or objects with 'role' and 'db' fields",
                )),
            },
            _ => Err(Status::new(
                ErrorCode::BadValue,
                "Role names must be either strings or objects",
            )),
        }
    }

    /// Checks that this names a built-in role (RoleNotFound otherwise, as mongod says it).
    pub fn validate(&self) -> StatusResult<()> {
        if builtin_privileges(self).is_some() {
            return Ok(());
        }
        Err(Status::new(
            ErrorCode::RoleNotFound,
            format!("Could not find role: {self}"),
        ))
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.role, self.db)
    }
}

const READ: &[ActionType] = &[
    ActionType::ChangeStream,
    ActionType::CollStats,
    ActionType::DbStats,
    ActionType::Find,
    ActionType::KillCursors,
    ActionType::ListCollections,
    ActionType::ListIndexes,
];

const WRITE: &[ActionType] = &[
    ActionType::CreateCollection,
    ActionType::CreateIndex,
    ActionType::DropCollection,
    ActionType::DropIndex,
    ActionType::Insert,
    ActionType::Remove,
    ActionType::RenameCollectionSameDb,
    ActionType::Update,
];

const DB_ADMIN: &[ActionType] = &[
    ActionType::CollStats,
    ActionType::CreateCollection,
    ActionType::CreateIndex,
    ActionType::DbStats,
    ActionType::DropCollection,
    ActionType::DropDatabase,
    ActionType::DropIndex,
    ActionType::ListCollections,
    ActionType::ListIndexes,
    ActionType::RenameCollectionSameDb,
];

const USER_ADMIN: &[ActionType] = &[
    ActionType::ChangeCustomData,
    ActionType::ChangePassword,
    ActionType::CreateRole,
    ActionType::CreateUser,
    ActionType::DropRole,
    ActionType::DropUser,
    ActionType::GrantRole,
    ActionType::RevokeRole,
    ActionType::ViewRole,
    ActionType::ViewUser,
];

const CLUSTER_MONITOR: &[ActionType] = &[
    ActionType::ConnPoolStats,
    ActionType::GetCmdLineOpts,
    ActionType::GetParameter,
    ActionType::HostInfo,
    ActionType::Inprog,
    ActionType::ListDatabases,
    ActionType::ReplSetGetStatus,
    ActionType::ServerStatus,
];

const CLUSTER_MANAGE: &[ActionType] = &[
    ActionType::DropConnections,
    ActionType::Killop,
    ActionType::ReplSetStateChange,
];

/// The names of the built-in roles, for listing.
pub const BUILTIN_ROLES: &[&str] = &[
    "read",
    "readWrite",
    "dbAdmin",
    "userAdmin",
    "dbOwner",
    "readAnyDatabase",
    "readWriteAnyDatabase",
    "userAdminAnyDatabase",
    "dbAdminAnyDatabase",
    "clusterMonitor",
    "clusterAdmin",
    "root",
];

fn on(resource: ResourcePattern, action_lists: &[&[ActionType]]) -> Privilege {
    let mut actions: Vec<ActionType> = action_lists.iter().flat_map(|l| l.iter().copied()).collect();
    actions.sort();
    actions.dedup();
    Privilege { resource, actions }
}

/// The privileges a built-in role grants; `None` if there is no such built-in role in that database.
pub fn builtin_privileges(role: &RoleName) -> Option<Vec<Privilege>> {
    let db = || ResourcePattern::Database(role.db.clone());
    let any = || ResourcePattern::AnyNormalResource;
    let list_databases = || on(ResourcePattern::Cluster, &[&[ActionType::ListDatabases]]);
    let privileges = match role.role.as_str() {
        "read" => vec![on(db(), &[READ])],
        "readWrite" => vec![on(db(), &[READ, WRITE])],
        "dbAdmin" => vec![on(db(), &[DB_ADMIN])],
        "userAdmin" => vec![on(db(), &[USER_ADMIN])],
        "dbOwner" => vec![on(db(), &[READ, WRITE, DB_ADMIN, USER_ADMIN])],
        _ if role.db != "admin" => return None,
        "readAnyDatabase" => vec![on(any(), &[READ]), list_databases()],
        "readWriteAnyDatabase" => vec![on(any(), &[READ, WRITE]), list_databases()],
        "userAdminAnyDatabase" => vec![on(any(), &[USER_ADMIN]), list_databases()],
        "dbAdminAnyDatabase" => vec![on(any(), &[DB_ADMIN]), list_databases()],
        "clusterMonitor" => vec![
            on(ResourcePattern::Cluster, &[CLUSTER_MONITOR]),
            on(any(), &[&[ActionType::CollStats, ActionType::DbStats]]),
        ],
        "clusterAdmin" => vec![
            on(ResourcePattern::Cluster, &[CLUSTER_MONITOR, CLUSTER_MANAGE]),
            on(
                any(),
                &[&[
                    ActionType::CollStats,
                    ActionType::DbStats,
                    ActionType::DropDatabase,
                ]],
            ),
        ],
        "root" => vec![Privilege {
            resource: ResourcePattern::AnyResource,
            actions: vec![ActionType::AnyAction],
        }],
        _ => return None,
    };
    Some(privileges)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn any_database_roles_exist_only_in_admin() {
        assert!(RoleName::new("readAnyDatabase", "admin").validate().is_ok());
        let err = RoleName::new("readAnyDatabase", "test").validate().unwrap_err();
        assert_eq!(err.code(), ErrorCode::RoleNotFound);
        assert_eq!(err.reason(), "Could not find role: readAnyDatabase@test");
        assert!(RoleName::new("readWrite", "test").validate().is_ok());
        assert!(RoleName::new("nope", "test").validate().is_err());
        for name in BUILTIN_ROLES {
            assert!(RoleName::new(*name, "admin").validate().is_ok(), "{name}");
        }
    }
}
