//! Authentication over TLS with every client: pymongo, mongosh and the Rust driver authenticate with
//! SCRAM-SHA-256 and SCRAM-SHA-1 to docwire with `--auth --tlsMode requireTLS`, and a wrong password fails
//! with AuthenticationFailed (18). The first user is created through the localhost exception over TLS.
//! Certificates are generated per test (rcgen).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bson::doc;
use docwire_server::RunningServer;
use docwire_tests::tls::{TestPki, as_strs, path};
use docwire_tests::{last_json, mongosh, python, run_client, start_server};
use mongodb::options::{AuthMechanism, ClientOptions, Credential};
use serde_json::json;

const PASSWORD: &str = "tls-shell-pass-0";

/// A `--auth --tlsMode requireTLS` server with a root user made through the localhost exception.
async fn tls_server_with_root(pki: &TestPki) -> RunningServer {
    let mut flags = pki.server_flags("requireTLS", false);
    flags.extend(["--auth", "--authFailedDelayMs", "0"].map(str::to_owned));
    let server = start_server(&as_strs(&flags), None).await;
    let anonymous = mongodb::Client::with_uri_str(pki.driver_uri(server.addrs[0], None))
        .await
        .unwrap();
    anonymous
        .database("admin")
        .run_command(doc! {"createUser": "root", "pwd": PASSWORD, "roles": ["root"]})
        .await
        .unwrap();
    server
}

const PYMONGO: &str = r#"
import json, sys
from pymongo import MongoClient
from pymongo.errors import OperationFailure
host, ca, password = sys.argv[1:4]
report = {}
for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-1"]:
    client = MongoClient(host, directConnection=True, tls=True, tlsCAFile=ca, username="root",
                         password=password, authSource="admin", authMechanism=mechanism,
                         serverSelectionTimeoutMS=10000)
    client.tls.pymongo.insert_one({"mechanism": mechanism})
    users = client.admin.command("connectionStatus")["authInfo"]["authenticatedUsers"]
    wrong = MongoClient(host, directConnection=True, tls=True, tlsCAFile=ca, username="root",
                        password="wrong-password", authSource="admin", authMechanism=mechanism,
                        serverSelectionTimeoutMS=10000)
    try:
        wrong.admin.command("ping")
        code = None
    except OperationFailure as e:
        code = e.code
    report[mechanism] = {"users": users, "wrong": code,
                         "found": client.tls.pymongo.count_documents({"mechanism": mechanism})}
print(json.dumps(report))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pymongo_authenticates_over_tls_with_both_mechanisms() {
    let pki = TestPki::generate();
    let server = tls_server_with_root(&pki).await;
    let host = server.addrs[0].to_string();
    let stdout = run_client(&python(), &["-c", PYMONGO, &host, &path(&pki.ca), PASSWORD], &[]).await;
    let report = last_json(&stdout);
    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-1"] {
        assert_eq!(
            report[mechanism],
            json!({"users": [{"user": "root", "db": "admin"}], "wrong": 18, "found": 1}),
            "{mechanism}: {report}"
        );
    }
    server.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongosh_authenticates_over_tls_with_both_mechanisms() {
    let pki = TestPki::generate();
    let server = tls_server_with_root(&pki).await;
    let addr = server.addrs[0];
    let home = tempfile::tempdir().unwrap();
    let ca = path(&pki.ca);
    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-1"] {
        let uri = format!(
            "mongodb://root:{PASSWORD}@{addr}/test?authSource=admin&authMechanism={mechanism}&directConnection=true"
        );
        let eval = "db.shell.insertOne({ ok: 1 }); \
                    print(JSON.stringify({ \
                      users: db.adminCommand({ connectionStatus: 1 }).authInfo.authenticatedUsers, \
                      count: db.shell.countDocuments({}) }))";
        let stdout = run_client(
            &mongosh(),
            &[
                &uri,
                "--tls",
                "--tlsCAFile",
                &ca,
                "--quiet",
                "--norc",
                "--eval",
                eval,
            ],
            &[("HOME", home.path())],
        )
        .await;
        let out = last_json(&stdout);
        assert_eq!(
            out["users"],
            json!([{"user": "root", "db": "admin"}]),
            "{mechanism}: {out}"
        );
        assert!(out["count"].as_i64().unwrap() >= 1, "{mechanism}: {out}");
    }
    server.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_driver_authenticates_over_tls_with_both_mechanisms() {
    let pki = TestPki::generate();
    let server = tls_server_with_root(&pki).await;
    let uri = pki.driver_uri(server.addrs[0], None);
    for (mechanism, name) in [
        (AuthMechanism::ScramSha256, "SCRAM-SHA-256"),
        (AuthMechanism::ScramSha1, "SCRAM-SHA-1"),
    ] {
        for (password, succeeds) in [(PASSWORD, true), ("wrong-password", false)] {
            let mut options = ClientOptions::parse(&uri).await.unwrap();
            options.server_selection_timeout = Some(Duration::from_secs(5));
            options.credential = Some(
                Credential::builder()
                    .username("root".to_owned())
                    .password(password.to_owned())
                    .source("admin".to_owned())
                    .mechanism(mechanism.clone())
                    .build(),
            );
            let client = mongodb::Client::with_options(options).unwrap();
            let status = client
                .database("admin")
                .run_command(doc! {"connectionStatus": 1})
                .await;
            match (status, succeeds) {
                (Ok(status), true) => {
                    let users = status
                        .get_document("authInfo")
                        .unwrap()
                        .get_array("authenticatedUsers");
                    assert_eq!(users.unwrap().len(), 1, "{name}: {status}");
                }
                (Err(error), false) => {
                    assert!(format!("{error:?}").contains("18"), "{name}: {error:?}");
                }
                (other, _) => panic!("{name} with {password}: {other:?}"),
            }
        }
    }
    server.shutdown(Duration::from_secs(5)).await;
}
