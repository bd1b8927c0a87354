//! TLS refusals are logged and keys are not: the real `docwire` binary runs with `--tlsMode requireTLS
//! --tlsCAFile` at the most verbose level (RUST_LOG=trace); a plain client and a TLS client without a
//! certificate are refused, each logged with its address and mongod's reason, a client with a
//! certificate is served, and no line of any private key appears in the log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Stdio;

use bson::doc;
use docwire_tests::tls::TestPki;
use docwire_tests::{PATIENCE, docwire_binary};
use docwire_transport::client::{AsyncDbClient, ClientOptions};
use tokio::io::AsyncBufReadExt;
use tokio::sync::watch;

/// The base64 lines of the private key in a PEM file.
fn key_lines(pem_file: &std::path::Path) -> Vec<String> {
    let pem = std::fs::read_to_string(pem_file).unwrap();
    let key = pem.split("-----BEGIN PRIVATE KEY-----").nth(1).unwrap();
    let key = key.split("-----END PRIVATE KEY-----").next().unwrap();
    let lines: Vec<String> = key
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    assert!(!lines.is_empty());
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_logged_with_the_reason_and_keys_never_are() {
    let pki = TestPki::generate();
    let mut child = tokio::process::Command::new(docwire_binary())
        .args([
            "--port",
            "0",
            "--nounixsocket",
            "--logFormat",
            "json",
            "--storageEngine",
            "inMemory",
        ])
        .args(pki.server_flags("requireTLS", true))
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // The whole log so far, republished after every line.
    let (log_tx, mut log_rx) = watch::channel(String::new());
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            log_tx.send_modify(|log| {
                log.push_str(&line);
                log.push('\n');
            });
        }
    });
    let wait_for = |rx: &mut watch::Receiver<String>, what: &'static str| {
        let mut rx = rx.clone();
        async move {
            tokio::time::timeout(PATIENCE, rx.wait_for(|log| log.contains(what)))
                .await
                .unwrap_or_else(|_| panic!("no '{what}' in the log"))
                .map(|log| log.clone())
                .unwrap()
        }
    };
    let started = wait_for(&mut log_rx, "Waiting for connections").await;
    let line = started
        .lines()
        .find(|l| l.contains("Waiting for connections"))
        .unwrap();
    let at = line.find("\"port\":").unwrap() + "\"port\":".len();
    let port: String = line[at..].chars().take_while(char::is_ascii_digit).collect();
    let host = format!("127.0.0.1:{port}");

    let plain = AsyncDbClient::connect(&host, PATIENCE, &ClientOptions::default()).await;
    assert!(plain.is_err());
    wait_for(
        &mut log_rx,
        "The server is configured to only allow SSL connections",
    )
    .await;
    let anonymous = ClientOptions {
        tls: Some(pki.client_tls(None)),
        ..ClientOptions::default()
    };
    assert!(AsyncDbClient::connect(&host, PATIENCE, &anonymous).await.is_err());
    wait_for(
        &mut log_rx,
        "no SSL certificate provided by peer; connection rejected",
    )
    .await;
    let good = ClientOptions {
        tls: Some(pki.client_tls(Some(&pki.client))),
        ..ClientOptions::default()
    };
    let mut client = AsyncDbClient::connect(&host, PATIENCE, &good).await.unwrap();
    client.run_command("admin", doc! {"ping": 1}).await.unwrap();
    drop(client);
    let log = wait_for(&mut log_rx, "TLS session established").await;
    child.kill().await.unwrap();

    for reason in [
        "only allow SSL connections",
        "no SSL certificate provided by peer",
    ] {
        let refusal = log.lines().find(|l| l.contains(reason)).unwrap();
        assert!(
            refusal.contains("Error receiving request from client. Ending connection from remote")
                && refusal.contains("127.0.0.1:"),
            "{refusal}"
        );
    }
    for file in [&pki.server, &pki.client] {
        for line in key_lines(file) {
            assert!(!log.contains(&line), "a line of {} is in the log", file.display());
        }
    }
}
