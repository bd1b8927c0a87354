//! What each command needs, by name (mongod's `requiresAuth` and each command's privilege check, in
//! one table so that the db crate's commands need not know about authorization). A command not in
//! the table needs everything (only root may run it).

use bson::{Bson, Document, RawBsonRef, RawDocument};

use super::privilege::{ActionType, Resource};
use super::roles::RoleName;

/// What running a command takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// Nothing: the handshake and authentication commands (mongod's `requiresAuth() == false`).
    Nothing,
    /// Any authenticated user.
    Authenticated,
    /// Every one of these privileges.
    Privileges(Vec<(ActionType, Resource)>),
}

/// The commands an unauthenticated client may run.
pub const NO_AUTH_COMMANDS: &[&str] = &[
    "hello",
    "isMaster",
    "ismaster",
    "saslStart",
    "saslContinue",
    "authenticate",
    "logout",
    "ping",
    "buildInfo",
    "buildinfo",
    "connectionStatus",
    "whatsmyuri",
];

/// What `name`, run on `db` with `body`, requires.
pub fn requirement(name: &str, db: &str, body: &RawDocument) -> Requirement {
    if NO_AUTH_COMMANDS.contains(&name) {
        return Requirement::Nothing;
    }
    let target = || collection_target(db, body, name);
    let database = || Resource::database(db);
    let cluster = |action| vec![(action, Resource::Cluster)];
    let privileges = match name {
        "listCommands" | "startSession" | "endSessions" | "refreshSessions" | "listDatabases" => {
            return Requirement::Authenticated;
        }
        "find" | "count" | "distinct" => vec![(ActionType::Find, target())],
        "getMore" => vec![(ActionType::Find, named_collection(db, body, "collection"))],
        "killCursors" => vec![(ActionType::KillCursors, target())],
        "insert" => vec![(ActionType::Insert, target())],
        "update" => vec![(ActionType::Update, target())],
        "delete" => vec![(ActionType::Remove, target())],
        "findAndModify" | "findandmodify" => find_and_modify(body, target()),
        "aggregate" => aggregate(db, body, target()),
        "explain" => return explain(db, body),
        "create" => vec![(ActionType::CreateCollection, target())],
        "drop" => vec![(ActionType::DropCollection, target())],
        "createIndexes" => vec![(ActionType::CreateIndex, target())],
        "dropIndexes" | "deleteIndexes" => vec![(ActionType::DropIndex, target())],
        "listIndexes" => vec![(ActionType::ListIndexes, target())],
        "collStats" => vec![(ActionType::CollStats, target())],
        "dbStats" => vec![(ActionType::DbStats, database())],
        "listCollections" => vec![(ActionType::ListCollections, database())],
        "dropDatabase" => vec![(ActionType::DropDatabase, database())],
        "renameCollection" => rename_collection(body),
        "serverStatus" => cluster(ActionType::ServerStatus),
        "currentOp" => cluster(ActionType::Inprog),
        "killOp" => cluster(ActionType::Killop),
        "hostInfo" => cluster(ActionType::HostInfo),
        "getCmdLineOpts" => cluster(ActionType::GetCmdLineOpts),
        "getParameter" => cluster(ActionType::GetParameter),
        "connPoolStats" => cluster(ActionType::ConnPoolStats),
        "dropConnections" => cluster(ActionType::DropConnections),
        "replSetGetStatus" => cluster(ActionType::ReplSetGetStatus),
        "replSetStepDown" | "replSetStepUp" => cluster(ActionType::ReplSetStateChange),
        "createUser" => with_roles(db, body, "roles", ActionType::CreateUser, ActionType::GrantRole),
        "updateUser" => update_user(db, body),
        "dropUser" | "dropAllUsersFromDatabase" => vec![(ActionType::DropUser, database())],
        "grantRolesToUser" => with_roles(db, body, "roles", ActionType::GrantRole, ActionType::GrantRole),
        "revokeRolesFromUser" => {
            with_roles(db, body, "roles", ActionType::RevokeRole, ActionType::RevokeRole)
        }
        "usersInfo" => vec![(ActionType::ViewUser, users_info_target(db, body))],
        _ => cluster(ActionType::AnyAction),
    };
    Requirement::Privileges(privileges)
}

/// The collection named by the command's first field; the database when it names none
/// (`aggregate: 1`).
fn collection_target(db: &str, body: &RawDocument, name: &str) -> Resource {
    named_collection(db, body, name)
}

fn named_collection(db: &str, body: &RawDocument, field: &str) -> Resource {
    match body.get(field) {
        Ok(Some(RawBsonRef::String(coll))) if !coll.is_empty() => Resource::collection(db, coll),
        _ => Resource::database(db),
    }
}

fn field_document(body: &RawDocument, field: &str) -> Option<Document> {
    match body.get(field) {
        Ok(Some(RawBsonRef::Document(d))) => Document::try_from(d).ok(),
        _ => None,
    }
}

fn truthy(body: &RawDocument, field: &str) -> bool {
    matches!(body.get(field), Ok(Some(RawBsonRef::Boolean(true))))
}

fn find_and_modify(body: &RawDocument, target: Resource) -> Vec<(ActionType, Resource)> {
    let mut needs = vec![(ActionType::Find, target.clone())];
    if truthy(body, "remove") {
        needs.push((ActionType::Remove, target));
    } else {
        needs.push((ActionType::Update, target.clone()));
        if truthy(body, "upsert") {
            needs.push((ActionType::Insert, target));
        }
    }
    needs
}

/// find on the source and on every collection a stage reads; insert and remove on a stage's output.
fn aggregate(db: &str, body: &RawDocument, target: Resource) -> Vec<(ActionType, Resource)> {
    let mut needs = vec![(ActionType::Find, target)];
    let Ok(Some(RawBsonRef::Array(stages))) = body.get("pipeline") else {
        return needs;
    };
    for stage in stages.into_iter().flatten() {
        let RawBsonRef::Document(stage) = stage else {
            continue;
        };
        let Some(Ok((stage_name, spec))) = stage.into_iter().next() else {
            continue;
        };
        match stage_name.as_str() {
            "$lookup" | "$graphLookup" | "$unionWith" => {
                let from = match spec {
                    RawBsonRef::String(coll) => Some(Resource::collection(db, coll)),
                    RawBsonRef::Document(spec) => match spec.get("from") {
                        Ok(Some(RawBsonRef::String(coll))) => Some(Resource::collection(db, coll)),
                        Ok(Some(RawBsonRef::Document(ns))) => output_namespace(db, ns),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(from) = from {
                    needs.push((ActionType::Find, from));
                }
            }
            "$out" | "$merge" => {
                let into = match spec {
                    RawBsonRef::String(coll) => Some(Resource::collection(db, coll)),
                    RawBsonRef::Document(spec) => match spec.get("into") {
                        Ok(Some(RawBsonRef::String(coll))) => Some(Resource::collection(db, coll)),
                        Ok(Some(RawBsonRef::Document(ns))) => output_namespace(db, ns),
                        _ => output_namespace(db, spec),
                    },
                    _ => None,
                };
                let into = into.unwrap_or_else(|| Resource::database(db));
                needs.push((ActionType::Insert, into.clone()));
                needs.push((ActionType::Remove, into));
            }
            _ => {}
        }
    }
    needs
}

/// `{db, coll}` as $out, $merge and $lookup name another database's collection.
fn output_namespace(db: &str, ns: &RawDocument) -> Option<Resource> {
    let coll = match ns.get("coll") {
        Ok(Some(RawBsonRef::String(coll))) => coll,
        _ => return None,
    };
    let db = match ns.get("db") {
        Ok(Some(RawBsonRef::String(db))) => db,
        _ => db,
    };
    Some(Resource::collection(db, coll))
}

/// explain needs what the explained command needs.
fn explain(db: &str, body: &RawDocument) -> Requirement {
    match body.get("explain") {
        Ok(Some(RawBsonRef::Document(inner))) => match inner.into_iter().next() {
            Some(Ok((inner_name, _))) if inner_name.as_str() != "explain" => {
                requirement(inner_name.as_str(), db, inner)
            }
            _ => Requirement::Privileges(vec![(ActionType::AnyAction, Resource::Cluster)]),
        },
        _ => Requirement::Privileges(vec![(ActionType::AnyAction, Resource::Cluster)]),
    }
}

/// renameCollection: within a database renameCollectionSameDB; across, find and dropCollection on the
/// source and insert and createIndex on the target (as mongod).
fn rename_collection(body: &RawDocument) -> Vec<(ActionType, Resource)> {
    let split = |field| match body.get(field) {
        Ok(Some(RawBsonRef::String(ns))) => ns
            .split_once('.')
            .map(|(db, coll)| Resource::collection(db, coll)),
        _ => None,
    };
    match (split("renameCollection"), split("to")) {
        (Some(Resource::Collection(from_db, from)), Some(Resource::Collection(to_db, to))) => {
            if from_db == to_db {
                vec![(ActionType::RenameCollectionSameDb, Resource::Database(from_db))]
            } else {
                vec![
                    (
                        ActionType::Find,
                        Resource::Collection(from_db.clone(), from.clone()),
                    ),
                    (ActionType::DropCollection, Resource::Collection(from_db, from)),
                    (
                        ActionType::Insert,
                        Resource::Collection(to_db.clone(), to.clone()),
                    ),
                    (ActionType::CreateIndex, Resource::Collection(to_db, to)),
                ]
            }
        }
        _ => vec![(ActionType::AnyAction, Resource::Cluster)],
    }
}

/// `action` on the command's database, plus `per_role` on the database of every role it names.
fn with_roles(
    db: &str,
    body: &RawDocument,
    field: &str,
    action: ActionType,
    per_role: ActionType,
) -> Vec<(ActionType, Resource)> {
    let mut needs = vec![(action, Resource::database(db))];
    for role in named_roles(db, body, field) {
        needs.push((per_role, Resource::Database(role.db)));
    }
    needs
}

fn named_roles(db: &str, body: &RawDocument, field: &str) -> Vec<RoleName> {
    let Ok(Some(RawBsonRef::Array(roles))) = body.get(field) else {
        return Vec::new();
    };
    roles
        .into_iter()
        .flatten()
        .filter_map(|role| Bson::try_from(role).ok())
        .filter_map(|role| RoleName::parse(&role, db).ok())
        .collect()
}

fn update_user(db: &str, body: &RawDocument) -> Vec<(ActionType, Resource)> {
    let mut needs = Vec::new();
    if body.get("pwd").ok().flatten().is_some() {
        needs.push((ActionType::ChangePassword, Resource::database(db)));
    }
    if body.get("customData").ok().flatten().is_some() {
        needs.push((ActionType::ChangeCustomData, Resource::database(db)));
    }
    if body.get("roles").ok().flatten().is_some() {
        needs.extend(with_roles(
            db,
            body,
            "roles",
            ActionType::RevokeRole,
            ActionType::GrantRole,
        ));
    }
    if needs.is_empty() {
        needs.push((ActionType::ChangeCustomData, Resource::database(db)));
    }
    needs
}

/// usersInfo on another database (`{usersInfo: {user, db}}`) or on all (`forAllDBs`) needs viewUser
/// there; `admin` stands for all.
fn users_info_target(db: &str, body: &RawDocument) -> Resource {
    if truthy(body, "forAllDBs") {
        return Resource::database("admin");
    }
    match field_document(body, "usersInfo") {
        Some(name) => match name.get_str("db") {
            Ok(other) => Resource::database(other),
            Err(_) => Resource::database(db),
        },
        None => Resource::database(db),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use bson::rawdoc;

    #[test]
    fn commands_map_to_mongods_actions() {
        let find = rawdoc! {"find": "c", "filter": {}};
        assert_eq!(
            requirement("find", "test", &find),
            Requirement::Privileges(vec![(ActionType::Find, Resource::collection("test", "c"))])
        );
        assert_eq!(
            requirement("hello", "admin", &rawdoc! {"hello": 1}),
            Requirement::Nothing
        );
        let pipeline = rawdoc! {"aggregate": "c", "pipeline": [{"$lookup": {"from": "o"}}, {"$out": "x"}]};
        let Requirement::Privileges(needs) = requirement("aggregate", "d", &pipeline) else {
            panic!("aggregate needs privileges");
        };
        assert!(needs.contains(&(ActionType::Find, Resource::collection("d", "o"))));
        assert!(needs.contains(&(ActionType::Insert, Resource::collection("d", "x"))));
        let create =
            rawdoc! {"createUser": "u", "pwd": "p", "roles": ["read", {"role": "root", "db": "admin"}]};
        assert_eq!(
            requirement("createUser", "test", &create),
            Requirement::Privileges(vec![
                (ActionType::CreateUser, Resource::database("test")),
                (ActionType::GrantRole, Resource::database("test")),
                (ActionType::GrantRole, Resource::database("admin")),
            ])
        );
        let explain = rawdoc! {"explain": {"find": "c"}};
        assert_eq!(
            requirement("explain", "test", &explain),
            requirement("find", "test", &find)
        );
        assert_eq!(
            requirement("frobnicate", "test", &rawdoc! {"frobnicate": 1}),
            Requirement::Privileges(vec![(ActionType::AnyAction, Resource::Cluster)])
        );
    }
}
