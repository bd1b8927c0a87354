//! The proxy's authentication: an upstream docwire with `--auth` and a service user; a proxy started
//! in-process from `docwire proxy --auth --dbpath DIR --upstreamUser svc --upstreamPasswordFile FILE`
//! in front of it. Clients authenticate to the proxy (against its own users, never passed through) with
//! SCRAM-SHA-256 and SCRAM-SHA-1 — the Rust driver and pymongo — and run CRUD through it, which reaches
//! the upstream over the proxy's authenticated pool; an unauthenticated client gets Unauthorized (13)
//! for every forwarded command; a read-only user may find but not insert; a wrong upstream password
//! makes forwarded requests fail with a clear AuthenticationFailed while the proxy keeps answering its
//! handshake and authenticating its own clients. The flags' checks: --auth needs --dbpath, the
//! password never comes from a flag, and the credentials' Debug hides it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bson::{Document, doc};
use clap::Parser;
use docwire_proxy::{ProxyConfig, RunningProxy};
use docwire_server::RunningServer;
use docwire_server::cli::{Cli, Command};
use docwire_tests::proxy::{command, wire};
use docwire_tests::{driver_script, last_json, python, run_client, start_server};
use docwire_transport::auth::ScramMechanism;
use docwire_transport::client::{Credentials, authenticate};
use mongodb::Client;
use mongodb::options::{AuthMechanism, ClientOptions, Credential};
use serde_json::json;

const SERVICE_PASSWORD: &str = "svc-Upstream-pw-31";
const ADMIN_PASSWORD: &str = "proxy-admin-pw-7";

/// An upstream with `--auth`, its root, and the proxy's service user `svc`.
async fn upstream() -> RunningServer {
    let server = start_server(&["--auth", "--authFailedDelayMs", "0"], None).await;
    let host = server.addrs[0].to_string();
    command(
        &host,
        "admin",
        doc! {"createUser": "root", "pwd": "upstream-root", "roles": ["root"]},
    )
    .await;
    let mut root = wire(&host).await;
    authenticate(
        &mut root,
        &Credentials::new("root", "admin", "upstream-root", ScramMechanism::Sha256),
    )
    .await
    .unwrap();
    let reply = root
        .run_command(
            "admin",
            doc! {
                "createUser": "svc",
                "pwd": SERVICE_PASSWORD,
                "roles": ["readWriteAnyDatabase", "clusterMonitor"],
            },
        )
        .await
        .unwrap();
    assert_eq!(reply.get_f64("ok").ok(), Some(1.0), "{reply}");
    server
}

/// The proxy's settings from `docwire proxy <flags>` (as the binary parses them), in front of `upstream`
/// with `password` in a file, its users under `dir`.
fn proxy_config(upstream: &RunningServer, dir: &tempfile::TempDir, password: &str) -> ProxyConfig {
    let file = dir.path().join("upstream-password");
    // A trailing newline, as editors leave it: it is not part of the password.
    std::fs::write(&file, format!("{password}\n")).unwrap();
    let users = dir.path().join("users");
    let upstream = upstream.addrs[0].to_string();
    let argv = [
        "docwire",
        "proxy",
        "--upstream",
        upstream.as_str(),
        "--port",
        "0",
        "--nounixsocket",
        "--auth",
        "--dbpath",
        users.to_str().unwrap(),
        "--authFailedDelayMs",
        "0",
        "--upstreamUser",
        "svc",
        "--upstreamPasswordFile",
        file.to_str().unwrap(),
    ];
    let Some(Command::Proxy(args)) = Cli::try_parse_from(argv).unwrap().command else {
        panic!("not the proxy subcommand");
    };
    let mut config = docwire_server::proxy_config(&args).unwrap();
    config.monitor.heartbeat_interval = Duration::from_millis(500);
    config.monitor.min_heartbeat_interval = Duration::from_millis(50);
    config
}

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
    options.server_selection_timeout = Some(Duration::from_secs(10));
    Client::with_options(options).unwrap()
}

/// The server's error code and message somewhere in the driver's error chain.
fn server_error(error: &mongodb::error::Error) -> Option<(i32, String)> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        let driver = e
            .downcast_ref::<mongodb::error::Error>()
            .or_else(|| e.downcast_ref::<Box<mongodb::error::Error>>().map(AsRef::as_ref));
        if let Some(driver) = driver
            && let mongodb::error::ErrorKind::Command(command) = driver.kind.as_ref()
        {
            return Some((command.code, command.message.clone()));
        }
        current = e.source();
    }
    None
}

/// The proxy with its first user (`admin`, root, made through the localhost exception by an
/// unauthenticated client, which is refused everything else), a read-only and a read-write user.
async fn proxy_with_users(config: ProxyConfig) -> RunningProxy {
    let proxy = docwire_proxy::start_proxy(config).await.unwrap();
    let anonymous = Client::with_uri_str(proxy.uri()).await.unwrap();
    let app = anonymous.database("app");
    for refused in [
        app.run_command(doc! {"find": "items", "filter": {}}).await,
        app.run_command(doc! {"insert": "items", "documents": [{"_id": 0}]})
            .await,
        anonymous
            .database("admin")
            .run_command(doc! {"listDatabases": 1})
            .await,
    ] {
        let err = refused.expect_err("an unauthenticated client is refused");
        let (code, message) = server_error(&err).unwrap_or_else(|| panic!("{err}"));
        assert_eq!(code, 13, "{err}");
        assert!(message.contains("requires authentication"), "{message}");
    }
    anonymous
        .database("admin")
        .run_command(doc! {"createUser": "admin", "pwd": ADMIN_PASSWORD, "roles": ["root"]})
        .await
        .unwrap();
    let admin = client_as(&proxy.uri(), "admin", ADMIN_PASSWORD, AuthMechanism::ScramSha256).await;
    for (user, role) in [("reader", "read"), ("writer", "readWrite")] {
        admin
            .database("admin")
            .run_command(doc! {
                "createUser": user, "pwd": format!("{user}-pw"),
                "roles": [{"role": role, "db": "app"}],
            })
            .await
            .unwrap();
    }
    proxy
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_authenticate_to_the_proxy_which_authenticates_to_its_upstream() {
    let upstream = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let proxy = proxy_with_users(proxy_config(&upstream, &dir, SERVICE_PASSWORD)).await;
    let uri = proxy.uri();

    // The proxy's users are its own: the upstream does not know them, the proxy does not know svc.
    let mut direct = wire(&upstream.addrs[0].to_string()).await;
    let err = authenticate(
        &mut direct,
        &Credentials::new("writer", "admin", "writer-pw", ScramMechanism::Sha256),
    )
    .await
    .expect_err("proxy users are not upstream users");
    assert_eq!(err.code(), docwire_rpc::ErrorCode::AuthenticationFailed);

    for (n, mechanism) in [AuthMechanism::ScramSha256, AuthMechanism::ScramSha1]
        .into_iter()
        .enumerate()
    {
        let writer = client_as(&uri, "writer", "writer-pw", mechanism.clone()).await;
        let status = writer
            .database("admin")
            .run_command(doc! {"connectionStatus": 1})
            .await
            .unwrap();
        let users = status
            .get_document("authInfo")
            .unwrap()
            .get_array("authenticatedUsers")
            .unwrap();
        assert_eq!(
            users,
            &vec![bson::Bson::Document(doc! {"user": "writer", "db": "admin"})],
            "{mechanism:?}: {status}"
        );
        let items = writer.database("app").collection::<Document>("items");
        let id = i32::try_from(n).unwrap() + 1;
        items.insert_one(doc! {"_id": id, "n": 1}).await.unwrap();
        items
            .update_one(doc! {"_id": id}, doc! {"$inc": {"n": 1}})
            .await
            .unwrap();
        let found = items.find_one(doc! {"_id": id}).await.unwrap().unwrap();
        assert_eq!(found.get_i32("n").unwrap(), 2, "{found}");
        items.insert_one(doc! {"_id": 100 + id}).await.unwrap();
        assert_eq!(
            items
                .delete_one(doc! {"_id": 100 + id})
                .await
                .unwrap()
                .deleted_count,
            1
        );

        // read may find, and may not insert: the proxy refuses before anything reaches the upstream.
        let reader = client_as(&uri, "reader", "reader-pw", mechanism.clone()).await;
        let items = reader.database("app").collection::<Document>("items");
        assert!(items.find_one(doc! {"_id": id}).await.unwrap().is_some());
        let err = items
            .insert_one(doc! {"_id": 1000})
            .await
            .expect_err("read may not insert");
        let (code, message) = server_error(&err).unwrap_or_else(|| panic!("{err}"));
        assert_eq!(code, 13, "{err}");
        assert!(
            message.starts_with("not authorized on app to execute command { insert: \"items\""),
            "{message}"
        );

        // A wrong password is refused by the proxy itself.
        let wrong = client_as(&uri, "writer", "not-writer-pw", mechanism.clone()).await;
        let err = wrong
            .database("app")
            .run_command(doc! {"ping": 1})
            .await
            .expect_err("a wrong password fails");
        assert!(err.to_string().contains("Authentication failed"), "{err}");
    }
    assert_eq!(
        upstream_count(&upstream, "app", "items").await,
        2,
        "the writes reached the upstream"
    );
    proxy.shutdown(Duration::from_secs(5)).await;
}

/// How many documents `db.collection` has on the upstream, asked as its root.
async fn upstream_count(upstream: &RunningServer, db: &str, collection: &str) -> i64 {
    let mut root = wire(&upstream.addrs[0].to_string()).await;
    authenticate(
        &mut root,
        &Credentials::new("root", "admin", "upstream-root", ScramMechanism::Sha1),
    )
    .await
    .unwrap();
    let reply = root.run_command(db, doc! {"count": collection}).await.unwrap();
    docwire_tests::proxy::number(&reply, "n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pymongo_authenticates_to_the_proxy_with_both_mechanisms() {
    let upstream = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let proxy = proxy_with_users(proxy_config(&upstream, &dir, SERVICE_PASSWORD)).await;
    let host = proxy.addrs[0].to_string();
    let script = driver_script("pymongo_auth.py");
    let stdout = run_client(
        &python(),
        &[script.to_str().unwrap(), &host, "admin", ADMIN_PASSWORD],
        &[],
    )
    .await;
    let report = last_json(&stdout);
    let admin = json!([{"user": "admin", "db": "admin"}]);
    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-1", "default"] {
        assert_eq!(report["authenticated"][mechanism]["users"], admin, "{report}");
        assert_eq!(report["authenticated"][mechanism]["found"], json!(1), "{report}");
    }
    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-1"] {
        assert_eq!(
            report["wrongPassword"][mechanism],
            json!({"code": 18, "codeName": "AuthenticationFailed"}),
            "{report}"
        );
    }
    assert_eq!(upstream_count(&upstream, "pymongo_auth", "items").await, 3);
    proxy.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_upstream_password_fails_forwarded_requests_clearly() {
    let upstream = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let proxy = proxy_with_users(proxy_config(&upstream, &dir, "not-the-svc-password")).await;
    let admin = client_as(&proxy.uri(), "admin", ADMIN_PASSWORD, AuthMechanism::ScramSha256).await;
    for _ in 0..2 {
        let err = admin
            .database("app")
            .run_command(doc! {"find": "items", "filter": {}})
            .await
            .expect_err("the upstream refuses the proxy");
        let (code, message) = server_error(&err).unwrap_or_else(|| panic!("{err}"));
        assert_eq!(code, 18, "{err}");
        assert!(
            message.contains("the proxy cannot authenticate to its upstream")
                && message.contains("svc@admin")
                && !message.contains("not-the-svc-password"),
            "{message}"
        );
    }
    // The proxy itself still serves: its handshake and its own commands answer.
    let hello = admin
        .database("admin")
        .run_command(doc! {"hello": 1})
        .await
        .unwrap();
    assert_eq!(hello.get_str("msg").unwrap(), "isdbgrid", "{hello}");
    let status = admin
        .database("admin")
        .run_command(doc! {"connectionStatus": 1})
        .await
        .unwrap();
    assert!(status.to_string().contains("\"admin\""), "{status}");
    proxy.shutdown(Duration::from_secs(5)).await;
}

/// `docwire proxy <flags>` parsed and turned into the proxy's settings, or the error it reports.
fn parse_proxy(flags: &[&str]) -> ParsedProxy {
    let argv = ["docwire", "proxy", "--upstream", "127.0.0.1:1"]
        .into_iter()
        .chain(flags.iter().copied());
    let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    let Some(Command::Proxy(args)) = cli.command else {
        panic!("not the proxy subcommand");
    };
    docwire_server::proxy_config(&args).map_err(|e| format!("{e:#}"))
}

/// The error `docwire proxy <flags>` reports.
fn refused(flags: &[&str]) -> String {
    match parse_proxy(flags) {
        Ok(_) => panic!("{flags:?} were accepted"),
        Err(e) => e,
    }
}

/// The settings, or the error's text.
type ParsedProxy = Result<ProxyConfig, String>;

#[test]
fn the_proxy_auth_flags_and_their_checks() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users");
    let users = users.to_str().unwrap();
    let file = dir.path().join("pw");
    std::fs::write(&file, "s3cret-Flag-pw\r\n").unwrap();
    let file = file.to_str().unwrap();

    // Off by default: nothing gated, no upstream credentials.
    let config = parse_proxy(&[]).unwrap();
    assert!(!config.auth.enabled && config.upstream_credentials.is_none() && config.users.is_none());

    let err = refused(&["--auth"]);
    assert!(err.contains("--auth needs --dbpath"), "{err}");
    let err = refused(&["--upstreamPasswordFile", file]);
    assert!(err.contains("needs --upstreamUser"), "{err}");
    let err = refused(&["--upstreamUser", "svc", "--upstreamAuthMechanism", "PLAIN"]);
    assert!(err.contains("PLAIN"), "{err}");
    let err = refused(&["--upstreamUser", "svc"]);
    assert!(err.contains("DOCWIRE_UPSTREAM_PASSWORD"), "{err}");
    // There is no flag for the password itself.
    assert!(
        Cli::try_parse_from(["docwire", "proxy", "--upstream", "h:1", "--upstreamPassword", "x"]).is_err()
    );

    let config = parse_proxy(&[
        "--auth",
        "--dbpath",
        users,
        "--upstreamUser",
        "svc",
        "--upstreamAuthSource",
        "ops",
        "--upstreamAuthMechanism",
        "SCRAM-SHA-1",
        "--upstreamPasswordFile",
        file,
        "--enableLocalhostAuthBypass",
        "false",
    ])
    .unwrap();
    assert!(config.auth.enabled && !config.auth.enable_localhost_auth_bypass);
    assert!(config.users.is_some());
    let credentials = config.upstream_credentials.unwrap();
    assert_eq!(
        (credentials.user.as_str(), credentials.source.as_str()),
        ("svc", "ops")
    );
    assert_eq!(credentials.mechanism, ScramMechanism::Sha1);
    let shown = format!("{credentials:?}");
    assert!(!shown.contains("s3cret"), "Debug shows the password: {shown}");
}
