//! A role-simulated replica set (`--replSet`, no data replication) whose members require TLS and client
//! certificates: their heartbeats go over TLS with the server's own certificate (as mongod's do under
//! requireTLS), so they see each other as healthy and elect one primary, which the Rust driver finds
//! over TLS. Certificates are generated per test (rcgen).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bson::{Bson, Document, doc};
use docwire_tests::PATIENCE;
use docwire_tests::tls::{TestPki, as_strs, path};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_heartbeat_over_tls() {
    let pki = TestPki::generate();
    let ports: Vec<u16> = {
        let listeners: Vec<_> = (0..2)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        listeners.iter().map(|l| l.local_addr().unwrap().port()).collect()
    };
    let members = ports
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut servers = Vec::new();
    for port in &ports {
        let port = port.to_string();
        let mut flags = vec![
            "--port",
            &port,
            "--nounixsocket",
            "--storageEngine",
            "inMemory",
            "--replSet",
            "rs0",
            "--replSetMembers",
            &members,
        ];
        let tls = pki.server_flags("requireTLS", true);
        flags.extend(as_strs(&tls));
        let settings = docwire_server::Settings::from_flags(flags).unwrap();
        servers.push(docwire_server::start(&settings, None).await.unwrap());
    }

    let uri = format!(
        "mongodb://{members}/?replicaSet=rs0&tls=true&tlsCAFile={}&tlsCertificateKeyFile={}",
        path(&pki.ca),
        path(&pki.client)
    );
    let mut options = mongodb::options::ClientOptions::parse(uri).await.unwrap();
    options.server_selection_timeout = Some(PATIENCE);
    let client = mongodb::Client::with_options(options).unwrap();
    // Server selection waits for the election.
    client
        .database("tls")
        .collection::<Document>("rs")
        .insert_one(doc! {"on": "the primary"})
        .await
        .unwrap();
    let status = client
        .database("admin")
        .run_command(doc! {"replSetGetStatus": 1})
        .await
        .unwrap();
    let members = status.get_array("members").unwrap();
    let states: Vec<(f64, &str)> = members
        .iter()
        .map(|m| match m {
            Bson::Document(m) => (m.get_f64("health").unwrap(), m.get_str("stateStr").unwrap()),
            other => panic!("a member is {other}"),
        })
        .collect();
    // Heartbeats over TLS reached the other member: both healthy, one primary.
    assert!(states.iter().all(|(health, _)| *health == 1.0), "{status}");
    assert_eq!(
        states.iter().filter(|(_, s)| *s == "PRIMARY").count(),
        1,
        "{status}"
    );
    for server in servers {
        server.shutdown(Duration::from_secs(5)).await;
    }
}
