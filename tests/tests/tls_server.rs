//! TLS on the server's port (`--tlsMode`, `--tlsCertificateKeyFile`, `--tlsCAFile`,
//! `--tlsAllowConnectionsWithoutCertificates`), seen from clients: the Rust driver and docwire's own wire
//! client over TLS (on both service executors); requireTLS closes plain clients while the Unix socket stays
//! plain; allowTLS and preferTLS serve both on one port; disabled never speaks TLS; with a CA, clients
//! without a certificate (or with one from another CA) are refused unless certificates are optional; replies
//! on TLS sessions carry no checksum even when the request had one; a silent client neither blocks others nor
//! outlives the handshake timeout; serverStatus reports transportSecurity. Certificates are generated per
//! test (rcgen).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bson::{Document, doc};
use docwire_rpc::{OpMsg, OpMsgBuilder, OpMsgFlags, StatusResult, append_checksum};
use docwire_server::RunningServer;
use docwire_tests::tls::{TestPki, as_strs};
use docwire_tests::{EXECUTORS, PATIENCE, start_server};
use docwire_transport::client::{AsyncDbClient, ClientOptions};
use docwire_transport::tls::ClientTls;
use docwire_transport::{Received, connect_tls};
use tokio::io::AsyncReadExt;

async fn tls_server(pki: &TestPki, mode: &str, with_ca: bool, extra: &[&str]) -> RunningServer {
    let mut flags = pki.server_flags(mode, with_ca);
    flags.extend(extra.iter().map(|f| (*f).to_owned()));
    start_server(&as_strs(&flags), None).await
}

/// `ping` over a fresh docwire wire-client connection to `host`, over TLS when `tls` is given.
async fn ping(host: &str, tls: Option<ClientTls>) -> StatusResult<Document> {
    ping_within(host, tls, PATIENCE).await
}

/// [`ping`], connecting and handshaking within `timeout`.
async fn ping_within(host: &str, tls: Option<ClientTls>, timeout: Duration) -> StatusResult<Document> {
    let options = ClientOptions {
        tls,
        ..ClientOptions::default()
    };
    let mut client = AsyncDbClient::connect(host, timeout, &options).await?;
    client.run_command("admin", doc! {"ping": 1}).await
}

/// The Rust driver at `uri`, giving up server selection after a few seconds.
async fn driver(uri: &str) -> mongodb::Client {
    let mut options = mongodb::options::ClientOptions::parse(uri).await.unwrap();
    options.server_selection_timeout = Some(Duration::from_secs(5));
    mongodb::Client::with_options(options).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_tls_serves_tls_clients_and_closes_plain_ones() {
    let pki = TestPki::generate();
    let sockets = tempfile::tempdir().unwrap();
    let prefix = sockets.path().to_str().unwrap();
    let server = tls_server(&pki, "requireTLS", false, &["--unixSocketPrefix", prefix]).await;
    let host = server.addrs[0].to_string();

    // The Rust driver over TLS: writes and reads.
    let client = driver(&pki.driver_uri(&host, None)).await;
    let coll = client.database("tls").collection::<Document>("c");
    coll.insert_one(doc! {"_id": 1, "over": "tls"}).await.unwrap();
    let found = coll.find_one(doc! {"_id": 1}).await.unwrap().unwrap();
    assert_eq!(found.get_str("over").unwrap(), "tls");
    // serverStatus counts the TLS connections by version, as mongod's transportSecurity.
    let status = client
        .database("admin")
        .run_command(doc! {"serverStatus": 1})
        .await
        .unwrap();
    let security = status.get_document("transportSecurity").unwrap();
    let keys: Vec<&str> = security.keys().map(String::as_str).collect();
    assert_eq!(keys, ["1.0", "1.1", "1.2", "1.3", "unknown"], "{security}");
    assert!(security.get_i64("1.3").unwrap() >= 1, "{security}");
    assert_eq!(security.get_i64("1.0").unwrap(), 0, "{security}");

    // A plain client on the TCP port is closed without a reply.
    let refused = ping(&host, None)
        .await
        .expect_err("requireTLS refuses plain clients");
    assert_eq!(
        refused.code(),
        docwire_rpc::ErrorCode::HostUnreachable,
        "{refused}"
    );
    // The Unix socket stays plain, as mongod's.
    let unix = server.unix_socket.clone().expect("a Unix socket");
    let reply = ping(unix.to_str().unwrap(), None).await.unwrap();
    assert_eq!(reply.get_f64("ok").unwrap(), 1.0);

    server.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_sessions_run_on_both_service_executors() {
    let pki = TestPki::generate();
    for executor in EXECUTORS {
        let server = tls_server(&pki, "requireTLS", false, &["--serviceExecutor", executor]).await;
        let host = server.addrs[0].to_string();
        let client = driver(&pki.driver_uri(&host, None)).await;
        let coll = client.database("tls").collection::<Document>(executor);
        coll.insert_one(doc! {"executor": executor}).await.unwrap();
        assert_eq!(coll.count_documents(doc! {}).await.unwrap(), 1, "{executor}");
        assert!(
            !reply_has_checksum(&host, Some(&pki.client_tls(None))).await,
            "{executor}"
        );
        server.shutdown(Duration::from_secs(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_and_prefer_tls_serve_tls_and_plain_clients_on_one_port() {
    let pki = TestPki::generate();
    for mode in ["allowTLS", "preferTLS"] {
        let server = tls_server(&pki, mode, false, &[]).await;
        let host = server.addrs[0].to_string();
        let over_tls = ping(&host, Some(pki.client_tls(None))).await.unwrap();
        assert_eq!(over_tls.get_f64("ok").unwrap(), 1.0, "{mode}");
        let plain = ping(&host, None).await.unwrap();
        assert_eq!(plain.get_f64("ok").unwrap(), 1.0, "{mode}");
        // The Rust driver, both ways, sees the same data.
        let secure = driver(&pki.driver_uri(&host, None)).await;
        secure
            .database("tls")
            .collection::<Document>("c")
            .insert_one(doc! {"mode": mode})
            .await
            .unwrap();
        let insecure = driver(&server.uri()).await;
        let count = insecure
            .database("tls")
            .collection::<Document>("c")
            .count_documents(doc! {"mode": mode})
            .await
            .unwrap();
        assert_eq!(count, 1, "{mode}");
        server.shutdown(Duration::from_secs(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_never_speaks_tls() {
    let pki = TestPki::generate();
    let server = start_server(&[], None).await;
    let host = server.addrs[0].to_string();
    // The ClientHello reads as the start of a huge message that never completes: no ServerHello comes.
    let tls = ping_within(&host, Some(pki.client_tls(None)), Duration::from_secs(2)).await;
    assert_eq!(tls.unwrap_err().code(), docwire_rpc::ErrorCode::NetworkTimeout);
    assert_eq!(ping(&host, None).await.unwrap().get_f64("ok").unwrap(), 1.0);
    server.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_file_requires_client_certificates_it_signed() {
    let pki = TestPki::generate();
    let server = tls_server(&pki, "requireTLS", true, &[]).await;
    let host = server.addrs[0].to_string();
    let with_cert = ping(&host, Some(pki.client_tls(Some(&pki.client)))).await;
    assert_eq!(with_cert.unwrap().get_f64("ok").unwrap(), 1.0);
    // TLS 1.3 clients learn of the refusal from the server's alert, on their first read.
    let no_cert = ping(&host, Some(pki.client_tls(None))).await.unwrap_err();
    assert!(no_cert.reason().contains("CertificateRequired"), "{no_cert}");
    let stranger = ping(&host, Some(pki.client_tls(Some(&pki.stranger))))
        .await
        .unwrap_err();
    assert!(stranger.reason().contains("UnknownCA"), "{stranger}");
    // The Rust driver with its certificate.
    let client = driver(&pki.driver_uri(&host, Some(&pki.client))).await;
    client
        .database("admin")
        .run_command(doc! {"ping": 1})
        .await
        .unwrap();
    server.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_are_optional_with_allow_connections_without_certificates() {
    let pki = TestPki::generate();
    let server = tls_server(
        &pki,
        "requireTLS",
        true,
        &["--tlsAllowConnectionsWithoutCertificates"],
    )
    .await;
    let host = server.addrs[0].to_string();
    assert!(
        ping(&host, Some(pki.client_tls(None))).await.is_ok(),
        "no certificate"
    );
    assert!(ping(&host, Some(pki.client_tls(Some(&pki.client)))).await.is_ok());
    // A certificate that is presented is still verified.
    let stranger = ping(&host, Some(pki.client_tls(Some(&pki.stranger))))
        .await
        .unwrap_err();
    assert!(stranger.reason().contains("UnknownCA"), "{stranger}");
    let client = driver(&pki.driver_uri(&host, None)).await;
    client
        .database("admin")
        .run_command(doc! {"ping": 1})
        .await
        .unwrap();
    server.shutdown(Duration::from_secs(5)).await;
}

/// Sends `ping` with checksumPresent over a raw session to `host` and returns whether the reply
/// carries a checksum.
async fn reply_has_checksum(host: &str, tls: Option<&ClientTls>) -> bool {
    let mut session = connect_tls(host, PATIENCE, tls).await.unwrap();
    let mut request = OpMsgBuilder::new(OpMsgFlags::NONE)
        .finish_with_body(&doc! {"ping": 1, "$db": "admin"})
        .unwrap();
    request.set_ids(41, 0);
    append_checksum(&mut request);
    session.sink_message(&request).await.unwrap();
    let Received::Message(reply) = session.source_message(PATIENCE).await.unwrap() else {
        panic!("the server closed the session");
    };
    assert_eq!(reply.response_to(), 41);
    let msg = OpMsg::parse(&reply).unwrap();
    let body = Document::try_from(msg.body()).unwrap();
    assert_eq!(body.get_f64("ok").unwrap(), 1.0, "{body}");
    msg.flags().checksum_present()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_replies_carry_no_checksum_even_when_the_request_had_one() {
    let pki = TestPki::generate();
    let server = tls_server(&pki, "allowTLS", false, &[]).await;
    let host = server.addrs[0].to_string();
    assert!(!reply_has_checksum(&host, Some(&pki.client_tls(None))).await);
    // The same request on a plain session of the same port gets its checksum, as before.
    assert!(reply_has_checksum(&host, None).await);
    server.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_client_blocks_nobody_and_is_closed_after_the_handshake_timeout() {
    let pki = TestPki::generate();
    let flags = pki.server_flags("requireTLS", false);
    let mut all = vec!["--port", "0", "--nounixsocket", "--storageEngine", "inMemory"];
    all.extend(as_strs(&flags));
    let mut settings = docwire_server::Settings::from_flags(all).unwrap();
    settings.tls.handshake_timeout = Duration::from_millis(300);
    let server = docwire_server::start(&settings, None).await.unwrap();
    let host = server.addrs[0].to_string();

    // Connects and says nothing.
    let mut silent = tokio::net::TcpStream::connect(&host).await.unwrap();
    // Others are served meanwhile: the handshake runs in the session's task, not the accept loop.
    assert!(ping(&host, Some(pki.client_tls(None))).await.is_ok());
    // The silent one is closed once the handshake timeout passes.
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(PATIENCE, silent.read(&mut byte))
        .await
        .expect("the server closes a silent client");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    server.shutdown(Duration::from_secs(5)).await;
}

#[test]
fn tls_flags_are_checked_as_mongod_checks_them() {
    let pki = TestPki::generate();
    let cert = docwire_tests::tls::path(&pki.server);
    let err = docwire_server::Settings::from_flags(["--tlsMode", "requireTLS"]).unwrap_err();
    assert!(err.to_string().contains("need tlsCertificateKeyFile"), "{err}");
    let err = docwire_server::Settings::from_flags(["--tlsCertificateKeyFile", cert.as_str()]).unwrap_err();
    assert!(err.to_string().contains("tlsMode"), "{err}");
    assert!(docwire_server::Settings::from_flags(["--tlsMode", "requireSSL"]).is_err());
    let settings =
        docwire_server::Settings::from_flags(["--tlsMode", "preferTLS", "--tlsCertificateKeyFile", &cert])
            .unwrap();
    let net = settings.parsed_document().get_document("net").unwrap().clone();
    assert_eq!(
        net.get_document("tls").unwrap(),
        &doc! {"mode": "preferTLS", "certificateKeyFile": cert.clone()}
    );
}
