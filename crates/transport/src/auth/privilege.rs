//! Privileges as mongod models them: an action type on a resource. Roles grant privileges on resource
//! patterns; a command needs privileges on concrete resources (a collection, a database, the cluster).

use std::fmt;

/// The actions docwire's commands check, under mongod's action-type names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)] // Each variant is the mongod action type of the same name.
pub enum ActionType {
    AnyAction,
    ChangeCustomData,
    ChangePassword,
    ChangeStream,
    CollStats,
    ConnPoolStats,
    CreateCollection,
    CreateIndex,
    CreateRole,
    CreateUser,
    DbStats,
    DropCollection,
    DropConnections,
    DropDatabase,
    DropIndex,
    DropRole,
    DropUser,
    Find,
    GetCmdLineOpts,
    GetParameter,
    GrantRole,
    HostInfo,
    Inprog,
    Insert,
    KillCursors,
    Killop,
    ListCollections,
    ListDatabases,
    ListIndexes,
    Remove,
    RenameCollectionSameDb,
    ReplSetGetStatus,
    ReplSetStateChange,
    RevokeRole,
    ServerStatus,
    Update,
    ViewRole,
    ViewUser,
}

impl ActionType {
    /// mongod's name for the action.
    pub fn name(self) -> &'static str {
        match self {
            ActionType::AnyAction => "anyAction",
            ActionType::ChangeCustomData => "changeCustomData",
            ActionType::ChangePassword => "changePassword",
            ActionType::ChangeStream => "changeStream",
            ActionType::CollStats => "collStats",
            ActionType::ConnPoolStats => "connPoolStats",
            ActionType::CreateCollection => "createCollection",
            ActionType::CreateIndex => "createIndex",
            ActionType::CreateRole => "createRole",
            ActionType::CreateUser => "createUser",
            ActionType::DbStats => "dbStats",
            ActionType::DropCollection => "dropCollection",
            ActionType::DropConnections => "dropConnections",
            ActionType::DropDatabase => "dropDatabase",
            ActionType::DropIndex => "dropIndex",
            ActionType::DropRole => "dropRole",
            ActionType::DropUser => "dropUser",
            ActionType::Find => "find",
            ActionType::GetCmdLineOpts => "getCmdLineOpts",
            ActionType::GetParameter => "getParameter",
            ActionType::GrantRole => "grantRole",
            ActionType::HostInfo => "hostInfo",
            ActionType::Inprog => "inprog",
            ActionType::Insert => "insert",
            ActionType::KillCursors => "killCursors",
            ActionType::Killop => "killop",
            ActionType::ListCollections => "listCollections",
            ActionType::ListDatabases => "listDatabases",
            ActionType::ListIndexes => "listIndexes",
            ActionType::Remove => "remove",
            ActionType::RenameCollectionSameDb => "renameCollectionSameDB",
            ActionType::ReplSetGetStatus => "replSetGetStatus",
            ActionType::ReplSetStateChange => "replSetStateChange",
            ActionType::RevokeRole => "revokeRole",
            ActionType::ServerStatus => "serverStatus",
            ActionType::Update => "update",
            ActionType::ViewRole => "viewRole",
            ActionType::ViewUser => "viewUser",
        }
    }
}

impl fmt::Display for ActionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A concrete resource a command acts on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    /// The whole server (serverStatus, killOp, ...).
    Cluster,
    /// A database as a whole (listCollections, dbStats, user management).
    Database(String),
    /// One collection: database and collection name.
    Collection(String, String),
}

impl Resource {
    /// The collection `db.coll`.
    pub fn collection(db: &str, coll: &str) -> Resource {
        Resource::Collection(db.to_owned(), coll.to_owned())
    }

    /// The database `db`.
    pub fn database(db: &str) -> Resource {
        Resource::Database(db.to_owned())
    }
}

/// The resources a role's privilege covers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ResourcePattern {
    /// Everything, system collections and the cluster included (root).
    AnyResource,
    /// Every database and every non-system collection in any database (the *AnyDatabase roles).
    AnyNormalResource,
    /// The cluster.
    Cluster,
    /// One database and its non-system collections.
    Database(String),
    /// One collection, system collections included.
    Collection(String, String),
}

impl ResourcePattern {
    /// Whether the pattern covers `resource`.
    pub fn matches(&self, resource: &Resource) -> bool {
        match (self, resource) {
            (ResourcePattern::AnyResource, _) => true,
            (ResourcePattern::Cluster, Resource::Cluster) => true,
            (ResourcePattern::AnyNormalResource, Resource::Database(_)) => true,
            (ResourcePattern::AnyNormalResource, Resource::Collection(_, coll)) => !is_system(coll),
            (ResourcePattern::Database(db), Resource::Database(target)) => db == target,
            (ResourcePattern::Database(db), Resource::Collection(target, coll)) => {
                db == target && !is_system(coll)
            }
            (ResourcePattern::Collection(db, coll), Resource::Collection(target_db, target_coll)) => {
                db == target_db && coll == target_coll
            }
            _ => false,
        }
    }
}

/// System collections (`system.*`) are outside the database-wide patterns, as in mongod.
fn is_system(coll: &str) -> bool {
    coll.starts_with("system.")
}

/// Actions on a resource pattern, as a role grants them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Privilege {
    /// What the privilege covers.
    pub resource: ResourcePattern,
    /// What it allows there.
    pub actions: Vec<ActionType>,
}

impl Privilege {
    /// Whether the privilege allows `action` on `resource`.
    pub fn allows(&self, action: ActionType, resource: &Resource) -> bool {
        self.resource.matches(resource)
            && self
                .actions
                .iter()
                .any(|a| *a == action || *a == ActionType::AnyAction)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn database_patterns_cover_normal_collections_only() {
        let db = ResourcePattern::Database("a".into());
        assert!(db.matches(&Resource::collection("a", "c")));
        assert!(db.matches(&Resource::database("a")));
        assert!(!db.matches(&Resource::collection("b", "c")));
        assert!(!db.matches(&Resource::collection("a", "system.users")));
        assert!(!db.matches(&Resource::Cluster));
        assert!(ResourcePattern::AnyNormalResource.matches(&Resource::collection("z", "c")));
        assert!(!ResourcePattern::AnyNormalResource.matches(&Resource::Cluster));
        assert!(ResourcePattern::AnyResource.matches(&Resource::collection("admin", "system.users")));
    }
}
