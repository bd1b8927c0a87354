//! Passwords and keys never reach the log: the real `docwire` binary runs with `--auth` at the most
//! verbose level (RUST_LOG=trace) while users are created, updated, authenticated (both mechanisms,
//! also speculatively) and refused; its whole log is then searched for every password and every stored
//! key. Failed attempts are logged with the client's address and the user, and nothing more.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Stdio;
use std::sync::{Arc, Mutex};

use bson::{Document, doc};
use docwire_tests::{PATIENCE, docwire_binary};
use mongodb::Client;
use mongodb::options::{AuthMechanism, ClientOptions, Credential};
use tokio::io::AsyncBufReadExt;

const PASSWORDS: [&str; 4] = [
    "first-Secret-4711",
    "wrong-Secret-0815",
    "changed-Secret-1234",
    "other-Secret-9999",
];

async fn client_as(uri: &str, user: &str, password: &str, mechanism: AuthMechanism) -> Client {
    let mut options = ClientOptions::parse(uri).await.unwrap();
    options.credential = Some(
        Credential::builder()
            .username(user.to_owned())
            .password(password.to_owned())
            .source("admin".to_owned())
            .mechanism(mechanism)
            .build(),
    );
    Client::with_options(options).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_and_keys_never_appear_in_the_log() {
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
        .args(["--auth", "--authFailedDelayMs", "0"])
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let port = tokio::time::timeout(PATIENCE, async {
        loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("docwire exited before listening");
            log.lock().unwrap().push_str(&line);
            if line.contains("Waiting for connections") {
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
    let mut stderr = child.stderr.take().unwrap();
    let stderr_collector = tokio::spawn(async move {
        let mut text = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut text)
            .await
            .unwrap();
        text
    });

    let uri = format!("mongodb://127.0.0.1:{port}/?directConnection=true");
    let [first, wrong, changed, other] = PASSWORDS;
    let anonymous = Client::with_uri_str(&uri).await.unwrap();
    anonymous
        .database("admin")
        .run_command(doc! {"createUser": "root", "pwd": first, "roles": ["root"]})
        .await
        .unwrap();
    let mut keys = Vec::new();
    for mechanism in [AuthMechanism::ScramSha256, AuthMechanism::ScramSha1] {
        let root = client_as(&uri, "root", first, mechanism.clone()).await;
        root.database("admin")
            .run_command(doc! {"ping": 1})
            .await
            .unwrap();
        let bad = client_as(&uri, "root", wrong, mechanism).await;
        bad.database("admin")
            .run_command(doc! {"ping": 1})
            .await
            .expect_err("a wrong password fails");
    }
    let root = client_as(&uri, "root", first, AuthMechanism::ScramSha256).await;
    let admin = root.database("admin");
    admin
        .run_command(doc! {"createUser": "other", "pwd": other, "roles": ["read"]})
        .await
        .unwrap();
    admin
        .run_command(doc! {"updateUser": "root", "pwd": changed})
        .await
        .unwrap();
    // An unauthorized createUser: its refusal quotes the command, which must not quote the password.
    let reader = client_as(&uri, "other", other, AuthMechanism::ScramSha256).await;
    let refused = reader
        .database("admin")
        .run_command(doc! {"createUser": "x", "pwd": other, "roles": []})
        .await
        .expect_err("read cannot create users");
    assert!(!refused.to_string().contains(other), "{refused}");
    let root = client_as(&uri, "root", changed, AuthMechanism::ScramSha1).await;
    let info = root
        .database("admin")
        .run_command(doc! {"usersInfo": 1, "showCredentials": true})
        .await
        .unwrap();
    for user in info.get_array("users").unwrap() {
        let credentials = user.as_document().unwrap().get_document("credentials").unwrap();
        for (_, credential) in credentials {
            let credential: &Document = credential.as_document().unwrap();
            keys.push(credential.get_str("storedKey").unwrap().to_owned());
            keys.push(credential.get_str("serverKey").unwrap().to_owned());
        }
    }
    assert_eq!(keys.len(), 8);
    drop((anonymous, admin, reader, root));

    child.kill().await.unwrap();
    collector.await.unwrap();
    let stderr = stderr_collector.await.unwrap();
    let log = log.lock().unwrap().clone();
    assert!(
        log.contains("Successfully authenticated"),
        "the log is the server's:\n{log}"
    );
    for secret in PASSWORDS.iter().copied().chain(keys.iter().map(String::as_str)) {
        assert!(!log.contains(secret), "{secret} is in the log");
        assert!(!stderr.contains(secret), "{secret} is on stderr");
    }
    // Each failed attempt is logged as such, with the client's address and the user.
    let failures: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("Authentication failed"))
        .collect();
    assert!(failures.len() >= 2, "{log}");
    for line in failures {
        assert!(line.contains("127.0.0.1:") && line.contains("root"), "{line}");
    }
}
