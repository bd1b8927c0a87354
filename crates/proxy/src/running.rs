//! `start_proxy`: composes a ServiceContext, the egress pool, the handshake commands and a transport
//! layer serving a [`ProxyEntryPoint`] in front of one upstream.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use docwire_pool::{ClientConnectionFactory, ConnectionPool, Options};
use docwire_rpc::{ErrorCode, Status, StatusResult};
use docwire_service::ServiceContext;
use docwire_transport::client::ClientOptions;
use docwire_transport::commands::{AdminDeps, register_admin_commands};
use docwire_transport::{
    CommandEntryPoint, CommandRegistry, DEFAULT_MAX_CONNS, SessionManager, TransportConfig, TransportHandle,
    TransportLayer,
};

use crate::entry_point::ProxyEntryPoint;

/// A started proxy: its addresses and the handles to stop it.
pub struct RunningProxy {
    /// The TCP addresses bound.
    pub addrs: Vec<SocketAddr>,
    /// The Unix socket, if any.
    pub unix_socket: Option<PathBuf>,
    /// The proxy's ServiceContext.
    pub service: ServiceContext,
    handle: TransportHandle,
    serving: tokio::task::JoinHandle<()>,
}

impl RunningProxy {
    /// A `mongodb://` URI for the first TCP address, with directConnection.
    pub fn uri(&self) -> String {
        let addr = self.addrs.first().map_or_else(String::new, ToString::to_string);
        format!("mongodb://{addr}/?directConnection=true")
    }

    /// Graceful shutdown; returns whether every session ended within `grace`.
    pub async fn shutdown(self, grace: Duration) -> bool {
        let drained = self.handle.shutdown(grace).await;
        let _ = tokio::time::timeout(Duration::from_secs(1), self.serving).await;
        drained
    }
}

/// Starts a proxy (inside a tokio runtime) forwarding to `upstream` (host:port), listening as
/// `transport` says, and returns once it listens.
pub async fn start_proxy(upstream: &str, transport: TransportConfig) -> StatusResult<RunningProxy> {
    let mut builder = ServiceContext::builder();
    let sessions_key = SessionManager::declare(&mut builder, DEFAULT_MAX_CONNS);
    let service = builder.build()?;
    let sessions = service.decoration(sessions_key).cloned().ok_or_else(|| {
        Status::new(
            ErrorCode::InternalError,
            "the session manager decoration is missing",
        )
    })?;

    let deps = AdminDeps::new(service.clone(), sessions.clone());
    let mut registry = CommandRegistry::new();
    register_admin_commands(&mut registry, deps.clone());
    let registry = Arc::new(registry);
    deps.catalog.publish(&registry);
    let local = CommandEntryPoint::new(registry).with_op_counters(deps.op_counters.clone());

    let factory = ClientConnectionFactory::new(ClientOptions {
        app_name: Some("docwire proxy".to_owned()),
        ..ClientOptions::default()
    });
    let pool = ConnectionPool::new("proxy", factory, service.clock().clone(), Options::default())?;
    let entry_point = Arc::new(ProxyEntryPoint::new(upstream, Arc::new(pool), local));

    let layer = TransportLayer::bind(transport, service.clone(), sessions, entry_point).await?;
    let addrs = layer.local_addrs();
    let unix_socket = layer.unix_socket_path().map(Path::to_path_buf);
    let handle = layer.handle();
    tracing::info!(
        upstream,
        port = addrs.first().map(SocketAddr::port),
        "Proxy waiting for connections"
    );
    let serving = tokio::spawn(layer.serve());
    Ok(RunningProxy {
        addrs,
        unix_socket,
        service,
        handle,
        serving,
    })
}
