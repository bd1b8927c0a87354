//! With `--auth`, each built-in role is allowed exactly what it should be: a table of commands x roles
//! run through the Rust driver, each cell either succeeding or failing with Unauthorized (13) and
//! mongod's "not authorized on <db> to execute command" message. Roles on database `a` grant nothing on
//! `b`; the *AnyDatabase roles work on both. An unauthenticated client gets "Command <name> requires
//! authentication" (13) for every command but the handshake and authentication ones.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use bson::{Bson, Document, doc};
use docwire_tests::start_server;
use mongodb::Client;
use mongodb::options::{ClientOptions, Credential};

const PASSWORD: &str = "role-table-password";

async fn client_as(uri: &str, user: &str) -> Client {
    let mut options = ClientOptions::parse(uri).await.unwrap();
    options.credential = Some(
        Credential::builder()
            .username(user.to_owned())
            .password(PASSWORD.to_owned())
            .source("admin".to_owned())
            .build(),
    );
    Client::with_options(options).unwrap()
}

fn error_code(error: &mongodb::error::Error) -> Option<i32> {
    match error.kind.as_ref() {
        mongodb::error::ErrorKind::Command(command) => Some(command.code),
        _ => None,
    }
}

/// One command of the table: a label, the database, and the command (built per user so that
/// createUser names differ).
fn commands(user: &str) -> Vec<(&'static str, &'static str, Document)> {
    vec![
        ("find a", "a", doc! {"find": "c", "filter": {}}),
        ("insert a", "a", doc! {"insert": "c", "documents": [{"x": 1}]}),
        (
            "update a",
            "a",
            doc! {"update": "c", "updates": [{"q": {}, "u": {"$set": {"y": 1}}}]},
        ),
        (
            "delete a",
            "a",
            doc! {"delete": "c", "deletes": [{"q": {"x": -1}, "limit": 0}]},
        ),
        (
            "createIndexes a",
            "a",
            doc! {"createIndexes": "c", "indexes": [{"key": {"x": 1}, "name": "x_1"}]},
        ),
        ("listCollections a", "a", doc! {"listCollections": 1}),
        ("dbStats a", "a", doc! {"dbStats": 1}),
        (
            "createUser a",
            "a",
            doc! {"createUser": format!("made_by_{user}"), "pwd": "x", "roles": []},
        ),
        ("usersInfo a", "a", doc! {"usersInfo": 1}),
        ("find b", "b", doc! {"find": "c", "filter": {}}),
        ("insert b", "b", doc! {"insert": "c", "documents": [{"x": 1}]}),
        ("serverStatus", "admin", doc! {"serverStatus": 1}),
        ("find admin.system.users", "admin", doc! {"find": "system.users"}),
    ]
}

/// user, its role, and the labels it may run.
fn table() -> Vec<(&'static str, Bson, Vec<&'static str>)> {
    let on_a = |role: &str| Bson::Document(doc! {"role": role, "db": "a"});
    let on_admin = |role: &str| Bson::Document(doc! {"role": role, "db": "admin"});
    let read_a = vec!["find a", "listCollections a", "dbStats a"];
    let write_a = [
        read_a.clone(),
        vec!["insert a", "update a", "delete a", "createIndexes a"],
    ]
    .concat();
    let all: Vec<&str> = commands("x").iter().map(|(label, _, _)| *label).collect();
    vec![
        ("reader", on_a("read"), read_a.clone()),
        ("writer", on_a("readWrite"), write_a.clone()),
        (
            "useradmin",
            on_a("userAdmin"),
            vec!["createUser a", "usersInfo a"],
        ),
        (
            "dbadmin",
            on_a("dbAdmin"),
            vec!["createIndexes a", "listCollections a", "dbStats a"],
        ),
        (
            "dbowner",
            on_a("dbOwner"),
            [write_a.clone(), vec!["createUser a", "usersInfo a"]].concat(),
        ),
        (
            "anyreader",
            on_admin("readAnyDatabase"),
            [read_a.clone(), vec!["find b"]].concat(),
        ),
        (
            "anywriter",
            on_admin("readWriteAnyDatabase"),
            [write_a.clone(), vec!["find b", "insert b"]].concat(),
        ),
        (
            "anyuseradmin",
            on_admin("userAdminAnyDatabase"),
            vec!["createUser a", "usersInfo a"],
        ),
        (
            "monitor",
            on_admin("clusterMonitor"),
            vec!["serverStatus", "dbStats a"],
        ),
        ("superuser", on_admin("root"), all),
    ]
}

#[tokio::test]
async fn each_role_is_allowed_exactly_its_commands() {
    let server = start_server(&["--auth", "--authFailedDelayMs", "0"], None).await;
    let uri = server.uri();
    let anonymous = Client::with_uri_str(&uri).await.unwrap();
    anonymous
        .database("admin")
        .run_command(doc! {"createUser": "root", "pwd": PASSWORD, "roles": ["root"]})
        .await
        .unwrap();
    let root = client_as(&uri, "root").await;
    for (user, role, _) in table() {
        root.database("admin")
            .run_command(doc! {"createUser": user, "pwd": PASSWORD, "roles": [role]})
            .await
            .unwrap();
    }

    let mut mismatches = Vec::new();
    for (user, role, allowed) in table() {
        let client = client_as(&uri, user).await;
        let allowed: BTreeSet<&str> = allowed.into_iter().collect();
        for (label, db, command) in commands(user) {
            let result = client.database(db).run_command(command.clone()).await;
            match (allowed.contains(label), result) {
                (true, Ok(_)) => {}
                (false, Err(e))
                    if error_code(&e) == Some(13)
                        && e.to_string()
                            .contains(&format!("not authorized on {db} to execute command")) => {}
                (expected, got) => mismatches.push(format!(
                    "{user} ({role}) {label}: expected {}, got {got:?}",
                    if expected { "success" } else { "Unauthorized" }
                )),
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // listDatabases lists only the databases a user has privileges on; readAnyDatabase sees all.
    let names = |reply: Document| -> Vec<String> {
        reply
            .get_array("databases")
            .unwrap()
            .iter()
            .map(|d| d.as_document().unwrap().get_str("name").unwrap().to_owned())
            .collect()
    };
    let listed = client_as(&uri, "reader")
        .await
        .database("admin")
        .run_command(doc! {"listDatabases": 1})
        .await
        .unwrap();
    assert_eq!(names(listed), ["a"]);
    let listed = client_as(&uri, "anyreader")
        .await
        .database("admin")
        .run_command(doc! {"listDatabases": 1})
        .await
        .unwrap();
    let all = names(listed);
    assert!(
        all.iter().any(|n| n == "a") && all.iter().any(|n| n == "b") && all.iter().any(|n| n == "admin"),
        "{all:?}"
    );

    // Every user may read its own usersInfo, and only its own.
    let reader = client_as(&uri, "reader").await;
    let own = reader
        .database("admin")
        .run_command(doc! {"usersInfo": "reader"})
        .await
        .unwrap();
    assert_eq!(own.get_array("users").unwrap().len(), 1, "{own}");
    let other = reader
        .database("admin")
        .run_command(doc! {"usersInfo": "writer"})
        .await
        .expect_err("another user's usersInfo needs viewUser");
    assert_eq!(error_code(&other), Some(13), "{other}");
    server.shutdown(std::time::Duration::from_secs(5)).await;
}

#[tokio::test]
async fn unauthenticated_clients_may_only_shake_hands_and_authenticate() {
    let server = start_server(&["--auth"], None).await;
    let uri = server.uri();
    let anonymous = Client::with_uri_str(&uri).await.unwrap();
    anonymous
        .database("admin")
        .run_command(doc! {"createUser": "root", "pwd": PASSWORD, "roles": ["root"]})
        .await
        .unwrap();

    let refused = [
        ("test", doc! {"find": "c"}),
        ("test", doc! {"insert": "c", "documents": [{"x": 1}]}),
        (
            "test",
            doc! {"update": "c", "updates": [{"q": {}, "u": {"$set": {"y": 1}}}]},
        ),
        ("test", doc! {"delete": "c", "deletes": [{"q": {}, "limit": 0}]}),
        ("test", doc! {"findAndModify": "c", "query": {}, "remove": true}),
        ("test", doc! {"aggregate": "c", "pipeline": [], "cursor": {}}),
        ("test", doc! {"count": "c"}),
        ("test", doc! {"distinct": "c", "key": "x"}),
        ("test", doc! {"getMore": 1_i64, "collection": "c"}),
        ("test", doc! {"killCursors": "c", "cursors": [1_i64]}),
        ("test", doc! {"explain": {"find": "c"}}),
        ("test", doc! {"create": "c"}),
        ("test", doc! {"drop": "c"}),
        (
            "test",
            doc! {"createIndexes": "c", "indexes": [{"key": {"x": 1}, "name": "x_1"}]},
        ),
        ("test", doc! {"dropIndexes": "c", "index": "x_1"}),
        ("test", doc! {"listIndexes": "c"}),
        ("test", doc! {"listCollections": 1}),
        ("test", doc! {"collStats": "c"}),
        ("test", doc! {"dbStats": 1}),
        ("test", doc! {"dropDatabase": 1}),
        ("admin", doc! {"renameCollection": "test.c", "to": "test.d"}),
        ("admin", doc! {"listDatabases": 1}),
        ("admin", doc! {"serverStatus": 1}),
        ("admin", doc! {"currentOp": 1}),
        ("admin", doc! {"killOp": 1, "op": 1}),
        ("admin", doc! {"getParameter": "*"}),
        ("admin", doc! {"getCmdLineOpts": 1}),
        ("admin", doc! {"hostInfo": 1}),
        ("admin", doc! {"connPoolStats": 1}),
        ("admin", doc! {"listCommands": 1}),
        ("admin", doc! {"startSession": 1}),
        ("admin", doc! {"createUser": "u", "pwd": "p", "roles": []}),
        ("admin", doc! {"updateUser": "root", "pwd": "p"}),
        ("admin", doc! {"dropUser": "root"}),
        ("admin", doc! {"usersInfo": 1}),
        ("admin", doc! {"grantRolesToUser": "root", "roles": ["read"]}),
    ];
    for (db, command) in refused {
        let name = command.keys().next().unwrap().clone();
        let err = anonymous
            .database(db)
            .run_command(command)
            .await
            .expect_err(&format!("{name} needs authentication"));
        assert_eq!(error_code(&err), Some(13), "{name}: {err}");
        assert!(
            err.to_string()
                .contains(&format!("Command {name} requires authentication")),
            "{name}: {err}"
        );
    }
    for command in [
        doc! {"hello": 1},
        doc! {"isMaster": 1},
        doc! {"ping": 1},
        doc! {"buildInfo": 1},
        doc! {"connectionStatus": 1},
        doc! {"logout": 1},
    ] {
        anonymous.database("admin").run_command(command).await.unwrap();
    }
    server.shutdown(std::time::Duration::from_secs(5)).await;
}
