//! pymongo and mongosh (unmodified, installed by `cargo xtask drivers`) over TLS to docwire with
//! `--tlsMode requireTLS --tlsCAFile`: each trusts the test CA, presents a client certificate, writes
//! and reads; pymongo without a certificate is refused. Certificates are generated per test (rcgen).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use docwire_tests::tls::{TestPki, as_strs, path};
use docwire_tests::{last_json, mongosh, python, run_client, start_server};
use serde_json::json;

const PYMONGO: &str = r#"
import json, sys
from pymongo import MongoClient
host, ca, cert = sys.argv[1:4]
client = MongoClient(host, directConnection=True, tls=True, tlsCAFile=ca, tlsCertificateKeyFile=cert,
                     serverSelectionTimeoutMS=10000)
client.tls.pymongo.insert_one({"_id": "pymongo"})
found = client.tls.pymongo.find_one({"_id": "pymongo"})
anonymous = MongoClient(host, directConnection=True, tls=True, tlsCAFile=ca, serverSelectionTimeoutMS=1000)
try:
    anonymous.admin.command("ping")
    refused = None
except Exception as e:
    refused = type(e).__name__
print(json.dumps({"found": found["_id"], "refused": refused}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pymongo_connects_over_tls_with_a_client_certificate() {
    let pki = TestPki::generate();
    let server = start_server(&as_strs(&pki.server_flags("requireTLS", true)), None).await;
    let host = server.addrs[0].to_string();
    let (ca, cert) = (path(&pki.ca), path(&pki.client));
    let stdout = run_client(&python(), &["-c", PYMONGO, &host, &ca, &cert], &[]).await;
    let report = last_json(&stdout);
    assert_eq!(report["found"], json!("pymongo"), "{report}");
    assert_eq!(
        report["refused"],
        json!("ServerSelectionTimeoutError"),
        "{report}"
    );
    server.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongosh_connects_over_tls_with_a_client_certificate() {
    let pki = TestPki::generate();
    let server = start_server(&as_strs(&pki.server_flags("requireTLS", true)), None).await;
    let uri = format!("mongodb://{}/tls?directConnection=true", server.addrs[0]);
    let (ca, cert) = (path(&pki.ca), path(&pki.client));
    let home = tempfile::tempdir().unwrap();
    let eval = "db.mongosh.insertOne({ _id: 'mongosh' }); \
                print(JSON.stringify({ found: db.mongosh.findOne({ _id: 'mongosh' })._id, \
                                       ok: db.adminCommand({ ping: 1 }).ok }))";
    let stdout = run_client(
        &mongosh(),
        &[
            &uri,
            "--tls",
            "--tlsCAFile",
            &ca,
            "--tlsCertificateKeyFile",
            &cert,
            "--quiet",
            "--norc",
            "--eval",
            eval,
        ],
        &[("HOME", home.path())],
    )
    .await;
    assert_eq!(last_json(&stdout), json!({"found": "mongosh", "ok": 1}));
    server.shutdown(Duration::from_secs(5)).await;
}
