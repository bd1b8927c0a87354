//! Helpers for the proxy tests (tests/tests/proxy_*.rs): a proxy started in-process in front of
//! in-process servers, a role-simulated three-member replica set, docwire's own wire client, and
//! numbers read out of the proxy's and the servers' status replies.

use std::time::Duration;

use bson::{Bson, Document, doc};
use docwire_proxy::{ProxyConfig, RunningProxy, UpstreamSpec, start_proxy};
use docwire_server::RunningServer;
use docwire_transport::TransportConfig;
use docwire_transport::client::{AsyncDbClient, ClientOptions};
use tokio::time::Instant;

use crate::PATIENCE;

/// The replica set's name.
pub const SET: &str = "rs0";

/// A proxy configuration in front of `upstream` (a `host:port` or a `mongodb://` URI): a free port, no
/// Unix socket, and a monitor that checks the members every half second (as the replica-set tests do).
pub fn proxy_config(upstream: &str) -> ProxyConfig {
    let spec = UpstreamSpec::parse(upstream).unwrap_or_else(|e| panic!("bad upstream {upstream}: {e}"));
    let mut config = ProxyConfig::new(spec);
    config.transport = TransportConfig {
        port: 0,
        no_unix_socket: true,
        ..TransportConfig::default()
    };
    config.monitor.heartbeat_interval = Duration::from_millis(500);
    config.monitor.min_heartbeat_interval = Duration::from_millis(50);
    config
}

/// Starts a proxy as `config` says.
pub async fn start(config: ProxyConfig) -> RunningProxy {
    start_proxy(config).await.expect("the proxy starts")
}

/// The proxy's first TCP address as `host:port`.
pub fn address(proxy: &RunningProxy) -> String {
    proxy.addrs[0].to_string()
}

/// docwire's own client connected (and handshaken) to `host`.
pub async fn wire(host: &str) -> AsyncDbClient {
    let options = ClientOptions {
        app_name: Some("docwire proxy tests".into()),
        ..ClientOptions::default()
    };
    AsyncDbClient::connect(host, PATIENCE, &options)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {host}: {e}"))
}

/// Runs `command` on `db` at `host` over a fresh connection and returns its reply (which must be ok).
pub async fn command(host: &str, db: &str, command: Document) -> Document {
    let mut client = wire(host).await;
    let reply = client
        .run_command(db, command.clone())
        .await
        .unwrap_or_else(|e| panic!("{command} on {host}: {e}"));
    assert_eq!(number(&reply, "ok"), 1, "{command} on {host}: {reply}");
    reply
}

/// The number at the dotted `path` of `doc` (int32, int64 or integral double), or -1 when absent.
pub fn number(doc: &Document, path: &str) -> i64 {
    let mut value: Option<&Bson> = None;
    let mut current = Some(doc);
    for part in path.split('.') {
        value = current.and_then(|d| d.get(part));
        current = match value {
            Some(Bson::Document(inner)) => Some(inner),
            _ => None,
        };
    }
    match value {
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(Bson::Int64(n)) => *n,
        Some(Bson::Double(d)) => *d as i64,
        _ => -1,
    }
}

/// `n` ports free right now (bound together, then released).
pub fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<_> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("its address").port())
        .collect()
}

/// Waits until `host` answers hello with `isWritablePrimary: true`, through awaitable hellos (each
/// returns when the member's topology changes) rather than polling.
pub async fn wait_until_primary(host: &str) {
    let mut client = wire(host).await;
    let deadline = Instant::now() + PATIENCE;
    let mut reply = client
        .run_command("admin", doc! {"hello": 1})
        .await
        .expect("hello");
    while reply.get_bool("isWritablePrimary").ok() != Some(true) {
        assert!(
            Instant::now() < deadline,
            "{host} did not become primary: {reply}"
        );
        let version = reply
            .get_document("topologyVersion")
            .unwrap_or_else(|_| panic!("a topologyVersion in {reply}"))
            .clone();
        reply = client
            .run_command(
                "admin",
                doc! {"hello": 1, "topologyVersion": version, "maxAwaitTimeMS": 10_000_i64},
            )
            .await
            .expect("an awaitable hello");
    }
}

/// Three in-process docwire servers forming a role-simulated replica set (`--replSet rs0
/// --replSetMembers`): roles only, no data replication.
pub struct ReplicaSet {
    /// `127.0.0.1:port` of each member, in `--replSetMembers` order (the first is preferred as primary).
    pub hosts: Vec<String>,
    /// The running members, in the same order.
    pub members: Vec<RunningServer>,
}

impl ReplicaSet {
    /// Starts the three members and waits until the first is primary.
    pub async fn start() -> ReplicaSet {
        let ports = free_ports(3);
        let hosts: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let list = hosts.join(",");
        let mut members = Vec::new();
        for port in &ports {
            let port = port.to_string();
            let flags = [
                "--port",
                port.as_str(),
                "--nounixsocket",
                "--storageEngine",
                "inMemory",
                "--replSet",
                SET,
                "--replSetMembers",
                list.as_str(),
            ];
            let settings = docwire_server::Settings::from_flags(flags).expect("member flags");
            let member = docwire_server::start(&settings, None)
                .await
                .unwrap_or_else(|e| panic!("cannot start a member on port {port}: {e:#}"));
            members.push(member);
        }
        wait_until_primary(&hosts[0]).await;
        ReplicaSet { hosts, members }
    }

    /// The seed list URI the proxy is given: `mongodb://h1,h2,h3/?replicaSet=rs0`.
    pub fn uri(&self) -> String {
        format!("mongodb://{}/?replicaSet={SET}", self.hosts.join(","))
    }

    /// Stops every member.
    pub async fn shutdown(self) {
        for member in self.members {
            member.shutdown(Duration::from_secs(5)).await;
        }
    }
}
