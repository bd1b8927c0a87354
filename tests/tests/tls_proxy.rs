//! `docwire proxy` with TLS on both sides: its clients connect over TLS (the server's flags) and it
//! reaches a TLS-only upstream that demands client certificates, for its pooled connections and its
//! replica-set monitor alike, configured either by `--upstreamTLS*` flags or by `tls=true` /
//! `tlsCAFile=` / `tlsCertificateKeyFile=` in the upstream URI. The Rust driver talks to the proxy
//! over TLS; a plain client is refused. Certificates are generated per test (rcgen).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bson::{Document, doc};
use clap::Parser;
use docwire_proxy::{ProxyConfig, RunningProxy};
use docwire_server::RunningServer;
use docwire_server::cli::{Cli, Command};
use docwire_tests::tls::{TestPki, as_strs, path};
use docwire_tests::{PATIENCE, start_server};
use docwire_transport::client::{AsyncDbClient, ClientOptions};
use docwire_transport::tls::{TlsMode, TlsOptions};

/// A docwire server that takes TLS clients only, with certificates from the test CA.
async fn tls_only_upstream(pki: &TestPki) -> RunningServer {
    start_server(&as_strs(&pki.server_flags("requireTLS", true)), None).await
}

/// The proxy's settings from `docwire proxy <flags>`.
fn proxy_flags(flags: &[String]) -> ProxyConfig {
    let argv = ["docwire", "proxy"]
        .into_iter()
        .chain(flags.iter().map(String::as_str));
    let cli = Cli::try_parse_from(argv).unwrap();
    let Some(Command::Proxy(args)) = cli.command else {
        panic!("not the proxy subcommand");
    };
    docwire_server::proxy_config(&args).unwrap()
}

async fn start(mut config: ProxyConfig) -> RunningProxy {
    config.monitor.heartbeat_interval = Duration::from_millis(500);
    config.monitor.min_heartbeat_interval = Duration::from_millis(50);
    docwire_proxy::start_proxy(config).await.unwrap()
}

/// Inserts through the proxy with the Rust driver over TLS, reads the document back there, and
/// checks it landed upstream (read over a direct TLS connection).
async fn round_trip(pki: &TestPki, proxy: &RunningProxy, upstream: &RunningServer, tag: &str) {
    let mut options = mongodb::options::ClientOptions::parse(pki.driver_uri(proxy.addrs[0], None))
        .await
        .unwrap();
    options.server_selection_timeout = Some(PATIENCE);
    let client = mongodb::Client::with_options(options).unwrap();
    let coll = client.database("tls").collection::<Document>("proxied");
    coll.insert_one(doc! {"_id": tag}).await.unwrap();
    assert!(coll.find_one(doc! {"_id": tag}).await.unwrap().is_some());

    let direct = ClientOptions {
        tls: Some(pki.client_tls(Some(&pki.client))),
        ..ClientOptions::default()
    };
    let mut direct = AsyncDbClient::connect(&upstream.addrs[0].to_string(), PATIENCE, &direct)
        .await
        .unwrap();
    let reply = direct
        .run_command("tls", doc! {"count": "proxied", "query": {"_id": tag}})
        .await
        .unwrap();
    assert_eq!(docwire_tests::proxy::number(&reply, "n"), 1, "{reply}");

    // A plain client is refused by the proxy, as by a requireTLS mongod.
    let plain =
        AsyncDbClient::connect(&proxy.addrs[0].to_string(), PATIENCE, &ClientOptions::default()).await;
    assert!(plain.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn proxy_flags_give_tls_on_both_sides() {
    let pki = TestPki::generate();
    let upstream = tls_only_upstream(&pki).await;
    let mut flags: Vec<String> = [
        "--upstream",
        &upstream.addrs[0].to_string(),
        "--port",
        "0",
        "--nounixsocket",
    ]
    .iter()
    .map(|f| (*f).to_owned())
    .collect();
    flags.extend(pki.server_flags("requireTLS", false));
    flags.extend([
        "--upstreamTLSCAFile".to_owned(),
        path(&pki.ca),
        "--upstreamTLSCertificateKeyFile".to_owned(),
        path(&pki.client),
    ]);
    let proxy = start(proxy_flags(&flags)).await;
    round_trip(&pki, &proxy, &upstream, "flags").await;
    proxy.shutdown(Duration::from_secs(5)).await;
    upstream.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_upstream_uri_asks_for_tls() {
    let pki = TestPki::generate();
    let upstream = tls_only_upstream(&pki).await;
    let uri = format!(
        "mongodb://{}/?tls=true&tlsCAFile={}&tlsCertificateKeyFile={}",
        upstream.addrs[0],
        path(&pki.ca),
        path(&pki.client)
    );
    let mut config = docwire_tests::proxy::proxy_config(&uri);
    config.transport.tls = TlsOptions {
        mode: TlsMode::RequireTls,
        certificate_key_file: Some(pki.server.clone()),
        ..TlsOptions::default()
    };
    let proxy = start(config).await;
    round_trip(&pki, &proxy, &upstream, "uri").await;
    proxy.shutdown(Duration::from_secs(5)).await;
    upstream.shutdown(Duration::from_secs(5)).await;
}
