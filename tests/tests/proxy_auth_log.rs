//! The proxy's upstream password never reaches its log: the real `docwire proxy` binary runs at the
//! most verbose level (RUST_LOG=trace) in front of an `--auth` upstream, authenticating to it as a
//! service user whose password comes from `--upstreamPasswordFile` (one run) or the
//! DOCWIRE_UPSTREAM_PASSWORD environment variable (another run); clients create a proxy user,
//! authenticate (both mechanisms, and once with a wrong password) and write and read through it. The
//! whole log and stderr are then searched for every password.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Stdio;
use std::sync::{Arc, Mutex};

use bson::{Document, doc};
use docwire_tests::proxy::{command, wire};
use docwire_tests::{PATIENCE, docwire_binary, start_server};
use docwire_transport::auth::ScramMechanism;
use docwire_transport::client::{Credentials, authenticate};
use mongodb::Client;
use mongodb::options::{AuthMechanism, ClientOptions, Credential};
use tokio::io::AsyncBufReadExt;

const SERVICE_PASSWORD: &str = "svc-Log-Secret-2718";
const CLIENT_PASSWORD: &str = "client-Log-Secret-3141";
const WRONG_PASSWORD: &str = "wrong-Log-Secret-1618";

async fn client_as(uri: &str, password: &str, mechanism: AuthMechanism) -> Client {
    let mut options = ClientOptions::parse(uri).await.unwrap();
    options.credential = Some(
        Credential::builder()
            .username("app".to_owned())
            .password(password.to_owned())
            .source("admin".to_owned())
            .mechanism(mechanism)
            .build(),
    );
    Client::with_options(options).unwrap()
}

/// Where a run's proxy gets its upstream password: a name, extra flags, extra environment variables.
type PasswordSource<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, &'a str)]);

/// A running `docwire proxy` child, its port, and its log as collected so far.
struct ProxyProcess {
    child: tokio::process::Child,
    port: u16,
    log: Arc<Mutex<String>>,
    collector: tokio::task::JoinHandle<()>,
    stderr: tokio::task::JoinHandle<String>,
}

async fn spawn_proxy(args: &[&str], envs: &[(&str, &str)]) -> ProxyProcess {
    let mut child = tokio::process::Command::new(docwire_binary())
        .arg("proxy")
        .args(["--port", "0", "--nounixsocket", "--logFormat", "json"])
        .args(args)
        .envs(envs.iter().copied())
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stderr = child.stderr.take().unwrap();
    let stderr = tokio::spawn(async move {
        let mut text = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut text)
            .await
            .unwrap();
        text
    });
    let port = tokio::time::timeout(PATIENCE, async {
        loop {
            let Some(line) = lines.next_line().await.unwrap() else {
                panic!("the proxy exited before listening: {}", log.lock().unwrap());
            };
            log.lock().unwrap().push_str(&line);
            if line.contains("Proxy waiting for connections") {
                assert!(line.contains("\"upstream_user\":\"svc\""), "{line}");
                let at = line.find("\"port\":").unwrap() + "\"port\":".len();
                let digits: String = line[at..].chars().take_while(char::is_ascii_digit).collect();
                return digits.parse::<u16>().unwrap();
            }
        }
    })
    .await
    .unwrap();
    let collector = {
        let log = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        })
    };
    ProxyProcess {
        child,
        port,
        log,
        collector,
        stderr,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upstream_password_never_appears_in_the_proxy_log() {
    let upstream = start_server(&["--auth", "--authFailedDelayMs", "0"], None).await;
    let upstream_host = upstream.addrs[0].to_string();
    command(
        &upstream_host,
        "admin",
        doc! {"createUser": "svc", "pwd": SERVICE_PASSWORD, "roles": ["readWriteAnyDatabase"]},
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("upstream-password");
    std::fs::write(&password_file, format!("{SERVICE_PASSWORD}\n")).unwrap();

    let from_file = ["--upstreamPasswordFile", password_file.to_str().unwrap()];
    let runs: [PasswordSource<'_>; 2] = [
        ("file", &from_file, &[]),
        (
            "environment",
            &[],
            &[(docwire_server::UPSTREAM_PASSWORD_ENV, SERVICE_PASSWORD)],
        ),
    ];
    for (source, extra, envs) in runs {
        let users = dir.path().join(format!("users-{source}"));
        let mut args = vec![
            "--upstream",
            upstream_host.as_str(),
            "--auth",
            "--dbpath",
            users.to_str().unwrap(),
            "--authFailedDelayMs",
            "0",
            "--logSampleRate",
            "1",
            "--upstreamUser",
            "svc",
            "--upstreamAuthMechanism",
            if source == "file" {
                "SCRAM-SHA-256"
            } else {
                "SCRAM-SHA-1"
            },
        ];
        args.extend_from_slice(extra);
        let mut proxy = spawn_proxy(&args, envs).await;
        let uri = format!("mongodb://127.0.0.1:{}/?directConnection=true", proxy.port);

        let anonymous = Client::with_uri_str(&uri).await.unwrap();
        anonymous
            .database("admin")
            .run_command(
                doc! {"createUser": "app", "pwd": CLIENT_PASSWORD, "roles": ["readWriteAnyDatabase"]},
            )
            .await
            .unwrap();
        for mechanism in [AuthMechanism::ScramSha256, AuthMechanism::ScramSha1] {
            let client = client_as(&uri, CLIENT_PASSWORD, mechanism.clone()).await;
            let items = client.database("logged").collection::<Document>("items");
            items.insert_one(doc! {"source": source}).await.unwrap();
            assert!(items.find_one(doc! {}).await.unwrap().is_some());
            client_as(&uri, WRONG_PASSWORD, mechanism)
                .await
                .database("admin")
                .run_command(doc! {"ping": 1})
                .await
                .expect_err("a wrong password fails");
        }
        drop(anonymous);

        proxy.child.kill().await.unwrap();
        proxy.collector.await.unwrap();
        let stderr = proxy.stderr.await.unwrap();
        let log = proxy.log.lock().unwrap().clone();
        assert!(
            log.contains("Successfully authenticated") && log.contains("docwire::proxy::request"),
            "{source}: the log is the proxy's, with its request log:\n{log}"
        );
        for secret in [SERVICE_PASSWORD, CLIENT_PASSWORD, WRONG_PASSWORD] {
            assert!(!log.contains(secret), "{source}: {secret} is in the log");
            assert!(!stderr.contains(secret), "{source}: {secret} is on stderr");
        }
    }

    // The writes reached the upstream as svc.
    let mut svc = wire(&upstream_host).await;
    authenticate(
        &mut svc,
        &Credentials::new("svc", "admin", SERVICE_PASSWORD, ScramMechanism::Sha256),
    )
    .await
    .unwrap();
    let reply = svc.run_command("logged", doc! {"count": "items"}).await.unwrap();
    assert_eq!(docwire_tests::proxy::number(&reply, "n"), 4, "{reply}");
}
