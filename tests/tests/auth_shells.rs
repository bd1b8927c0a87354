//! pymongo and mongosh (unmodified, installed by `cargo xtask drivers`) authenticate to docwire with
//! `--auth` using SCRAM-SHA-256 and SCRAM-SHA-1, and a wrong password fails with AuthenticationFailed
//! (18). The first user is created through the localhost exception by the Rust driver.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::doc;
use docwire_tests::{driver_script, last_json, mongosh, python, run_client, start_server};
use serde_json::json;

const PASSWORD: &str = "shell-pass-0";

async fn server_with_root() -> docwire_server::RunningServer {
    let server = start_server(&["--auth", "--authFailedDelayMs", "0"], None).await;
    let anonymous = mongodb::Client::with_uri_str(server.uri()).await.unwrap();
    anonymous
        .database("admin")
        .run_command(doc! {"createUser": "root", "pwd": PASSWORD, "roles": ["root"]})
        .await
        .unwrap();
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pymongo_authenticates_with_both_mechanisms() {
    let server = server_with_root().await;
    let host = server.addrs[0].to_string();
    let script = driver_script("pymongo_auth.py");
    let stdout = run_client(
        &python(),
        &[script.to_str().unwrap(), &host, "root", PASSWORD],
        &[],
    )
    .await;
    let report = last_json(&stdout);
    let root = json!([{"user": "root", "db": "admin"}]);
    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-1", "default"] {
        assert_eq!(report["authenticated"][mechanism]["users"], root, "{report}");
        assert_eq!(report["authenticated"][mechanism]["found"], json!(1), "{report}");
    }
    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-1"] {
        assert_eq!(
            report["wrongPassword"][mechanism],
            json!({"code": 18, "codeName": "AuthenticationFailed"}),
            "{report}"
        );
    }
    server.shutdown(std::time::Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongosh_authenticates_with_both_mechanisms() {
    let server = server_with_root().await;
    let addr = server.addrs[0];
    let home = tempfile::tempdir().unwrap();
    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-1"] {
        let uri = format!(
            "mongodb://root:{PASSWORD}@{addr}/test?authSource=admin&authMechanism={mechanism}&directConnection=true"
        );
        let plain = format!("mongodb://{addr}/?directConnection=true");
        let eval = format!(
            "const admin = db.getSiblingDB('admin'); \
             db.shell.insertOne({{ ok: 1 }}); \
             const other = new Mongo('{plain}'); \
             let wrong = null; \
             try {{ other.getDB('admin').auth({{ user: 'root', pwd: 'wrong-password', \
                                                 mechanism: '{mechanism}' }}); }} \
             catch (e) {{ wrong = e.code; }} \
             print(JSON.stringify({{ \
               users: admin.runCommand({{ connectionStatus: 1 }}).authInfo.authenticatedUsers, \
               count: db.shell.countDocuments({{}}), wrong }}))"
        );
        let stdout = run_client(
            &mongosh(),
            &[&uri, "--quiet", "--norc", "--eval", &eval],
            &[("HOME", home.path())],
        )
        .await;
        let out = last_json(&stdout);
        assert_eq!(
            out["users"],
            json!([{"user": "root", "db": "admin"}]),
            "{mechanism}: {out}"
        );
        assert!(out["count"].as_i64().unwrap() >= 1, "{out}");
        assert_eq!(out["wrong"], json!(18), "{mechanism}: {out}");
    }
    server.shutdown(std::time::Duration::from_secs(5)).await;
}
