//! `start_proxy`: composes a ServiceContext (session manager, egress tag closers, the client-session
//! decoration), the upstream pool, a replica-set monitor over its own executor, the local commands and a
//! transport layer serving a [`ProxyEntryPoint`]. TLS for clients comes with the transport settings;
//! TLS to the upstreams (the pool's and the monitor's connections) from [`ProxyConfig::upstream_tls`] or
//! the upstream URI. Authentication: the proxy's own users ([`ProxyConfig::users`]) and `--auth`
//! options ([`ProxyConfig::auth`]) for its clients; [`ProxyConfig::upstream_credentials`] for the pool's
//! upstream connections (the monitor's need none: hello is open to everyone).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use docwire_executor::network::real::{RealNetwork, RealNetworkOptions};
use docwire_executor::sdam::{MonitorOptions, ReplicaSetMonitor};
use docwire_executor::{ExecutorOptions, TaskExecutor};
use docwire_pool::{ClientConnectionFactory, ConnectionPool, EgressTagCloserManager, register_pool_commands};
use docwire_rpc::{ErrorCode, Status, StatusResult};
use docwire_service::{Clock, PeriodicJobHandle, ServiceContext, SystemClock};
use docwire_transport::auth::{AuthOptions, AuthorizationManager, MemoryUserStore, UserStore};
use docwire_transport::client::{ClientOptions, Credentials};
use docwire_transport::commands::register_auth_commands;
use docwire_transport::commands::{AdminDeps, register_admin_commands};
use docwire_transport::tls::ClientTls;
use docwire_transport::{
    CommandEntryPoint, CommandRegistry, DEFAULT_MAX_CONNS, PROXY_FD_SHARE, SessionManager,
    TransitionObserver, TransportConfig, TransportHandle, TransportLayer,
};

use crate::client_session::ClientSession;
use crate::commands::{ProxyReport, register_proxy_commands};
use crate::entry_point::{ProxyEntryPoint, ProxyParts};
use crate::handshake::{UpstreamLimits, register_proxy_hello};
use crate::pins::{PinOptions, Pins};
use crate::request_log::{RequestLog, RequestLogConfig};
use crate::router::{ProxyMode, Router};
use crate::stats::ProxyStats;
use crate::upstream::UpstreamSpec;

/// Everything a proxy is started with.
#[derive(Clone)]
pub struct ProxyConfig {
    /// The deployment in front of which the proxy runs.
    pub upstream: UpstreamSpec,
    /// How reads are routed.
    pub mode: ProxyMode,
    /// The shadow upstream (`host:port`), for shadow mode.
    pub shadow: Option<String>,
    /// Where and how it listens.
    pub transport: TransportConfig,
    /// The most client connections (mongod's maxConns rule applies on top).
    pub max_conns: usize,
    /// The upstream pool (per host): min and max connections and the rest of mongod's pool options.
    pub pool: docwire_pool::Options,
    /// How long a request waits for an upstream connection.
    pub checkout_timeout: Duration,
    /// Client authentication on the proxy: `--auth` and its limits (off by default: nothing is gated).
    pub auth: AuthOptions,
    /// The proxy's own users (the server composes the db crate's admin.system.users store over
    /// `--dbpath`); in memory when `None`.
    pub users: Option<Arc<dyn UserStore>>,
    /// The service user the pool's upstream connections authenticate as; `None`: they do not.
    pub upstream_credentials: Option<Credentials>,
    /// Cursor and transaction pin limits.
    pub pins: PinOptions,
    /// The request log.
    pub request_log: RequestLogConfig,
    /// The replica-set monitor's timings.
    pub monitor: MonitorOptions,
    /// Told of every state-machine transition (tests).
    pub observer: Option<TransitionObserver>,
    /// TLS to the upstreams; when `None`, the upstream URI's `tls=true` / `tlsCAFile=` decide.
    pub upstream_tls: Option<ClientTls>,
}

impl ProxyConfig {
    /// Defaults in front of `upstream`: normal mode, mongod's pool options, only slow requests logged.
    pub fn new(upstream: UpstreamSpec) -> ProxyConfig {
        ProxyConfig {
            upstream,
            mode: ProxyMode::Normal,
            shadow: None,
            transport: TransportConfig::default(),
            max_conns: DEFAULT_MAX_CONNS,
            pool: docwire_pool::Options::default(),
            checkout_timeout: Duration::from_secs(10),
            auth: AuthOptions::default(),
            users: None,
            upstream_credentials: None,
            pins: PinOptions::default(),
            // Slow requests only, as the command line's default --logSampleRate 0.
            request_log: RequestLogConfig {
                sample_rate: 0.0,
                ..RequestLogConfig::default()
            },
            // mongos waits up to 20 s for a host (defaultFindReplicaSetHostTimeoutMS); a proxy whose
            // clients wait on it answers sooner.
            monitor: MonitorOptions {
                selection_timeout: Duration::from_secs(10),
                ..MonitorOptions::default()
            },
            observer: None,
            upstream_tls: None,
        }
    }
}

/// A started proxy: its addresses and the handles to stop it.
pub struct RunningProxy {
    /// The TCP addresses bound.
    pub addrs: Vec<SocketAddr>,
    /// The Unix socket, if any.
    pub unix_socket: Option<PathBuf>,
    /// The proxy's ServiceContext.
    pub service: ServiceContext,
    /// The upstream pool.
    pub pool: Arc<ConnectionPool<docwire_pool::ClientConnection>>,
    /// The request log (flush it to read the file).
    pub log: RequestLog,
    executor: TaskExecutor,
    handle: TransportHandle,
    serving: tokio::task::JoinHandle<()>,
    // Ends client connections that do not authenticate in time (with --auth).
    _auth_sweep: Option<PeriodicJobHandle>,
}

impl RunningProxy {
    /// A `mongodb://` URI for the first TCP address, with directConnection.
    pub fn uri(&self) -> String {
        let addr = self.addrs.first().map_or_else(String::new, ToString::to_string);
        format!("mongodb://{addr}/?directConnection=true")
    }

    /// The session manager (client connections).
    pub fn sessions(&self) -> &Arc<SessionManager> {
        self.handle.sessions()
    }

    /// Graceful shutdown; returns whether every session ended within `grace`.
    pub async fn shutdown(self, grace: Duration) -> bool {
        let drained = self.handle.shutdown(grace).await;
        let _ = tokio::time::timeout(Duration::from_secs(1), self.serving).await;
        self.executor.shutdown();
        self.pool.shutdown();
        self.log.flush();
        drained
    }
}

fn internal(what: &str) -> Status {
    Status::new(ErrorCode::InternalError, format!("{what} is missing"))
}

/// TLS to the upstreams: the configured one, else what the upstream URI asks for.
fn upstream_tls(config: &ProxyConfig) -> StatusResult<Option<ClientTls>> {
    if let Some(tls) = &config.upstream_tls {
        return Ok(Some(tls.clone()));
    }
    let spec = &config.upstream;
    if !spec.tls {
        return Ok(None);
    }
    ClientTls::from_files(
        spec.tls_ca_file.as_deref().map(Path::new),
        spec.tls_certificate_key_file.as_deref().map(Path::new),
    )
    .map(Some)
}

/// Starts a proxy (inside a tokio runtime) as `config` says, and returns once it listens (the upstream
/// need not be up yet).
pub async fn start_proxy(config: ProxyConfig) -> StatusResult<RunningProxy> {
    let mut builder = ServiceContext::builder();
    let auth = declare_auth(&mut builder, &config)?;
    let sessions_key = SessionManager::declare_with_fd_share(&mut builder, config.max_conns, PROXY_FD_SHARE);
    let egress_key = EgressTagCloserManager::declare(&mut builder);
    let client_sessions = builder.decorate_client(|_| Ok(Mutex::new(ClientSession::default())));
    let service = builder.build()?;
    let sessions = service
        .decoration(sessions_key)
        .cloned()
        .ok_or_else(|| internal("the session manager decoration"))?;
    let egress = EgressTagCloserManager::get(&service, egress_key)
        .ok_or_else(|| internal("the egress tag closer manager decoration"))?;
    let clock: Arc<dyn Clock> = service.clock().clone();

    let upstream_tls = upstream_tls(&config)?;
    let factory = ClientConnectionFactory::new(ClientOptions {
        app_name: Some("docwire proxy".to_owned()),
        tls: upstream_tls.clone(),
        ..ClientOptions::default()
    })
    .with_credentials(config.upstream_credentials.clone());
    let pool_options = docwire_pool::Options {
        egress_tag_closer_manager: Some(egress.clone()),
        ..config.pool.clone()
    };
    let pool = Arc::new(ConnectionPool::new(
        "proxy",
        factory,
        Arc::clone(&clock),
        pool_options,
    )?);

    // The monitor checks the upstream members on its own connections, as drivers' monitors do.
    let network = RealNetwork::new(
        RealNetworkOptions {
            name: "ProxyMonitor".into(),
            pool: docwire_pool::Options::default(),
            client: ClientOptions {
                app_name: Some("docwire proxy monitor".into()),
                tls: upstream_tls.clone(),
                ..ClientOptions::default()
            },
        },
        Arc::clone(&clock),
    )?;
    let executor = TaskExecutor::new(
        Arc::new(network),
        ExecutorOptions {
            name: "proxy-monitor".into(),
            workers: 1,
        },
    )?;
    executor.startup()?;
    let monitor = ReplicaSetMonitor::new(
        executor.clone(),
        &config.upstream.topology_settings(),
        config.monitor.clone(),
    );
    monitor.start();
    let router = Router::new(monitor, config.mode);

    let log = RequestLog::new(config.request_log.clone())?;
    let stats = Arc::new(ProxyStats::new());
    let pins = Arc::new(Pins::new(config.pins.clone()));
    let limits = Arc::new(UpstreamLimits::new());

    let deps = AdminDeps::new(service.clone(), sessions.clone());
    let op_counters = deps.op_counters.clone();
    let mut registry = CommandRegistry::new();
    register_admin_commands(&mut registry, deps.clone());
    register_pool_commands(&mut registry, &egress);
    register_proxy_hello(&mut registry, &limits);
    // saslStart, saslContinue, user management, usersInfo, and serverStatus' security section.
    register_auth_commands(&mut registry);
    let report = ProxyReport {
        stats: Arc::clone(&stats),
        pins: Arc::clone(&pins),
        router: router.clone(),
        pool: Arc::clone(&pool),
        log: log.clone(),
    };
    register_proxy_commands(&mut registry, &report);
    docwire_transport::tls::register_tls_server_status(&mut registry, &sessions);
    let registry = Arc::new(registry);
    deps.catalog.publish(&registry);
    let local = CommandEntryPoint::new(registry)
        .with_op_counters(op_counters.clone())
        .with_auth(Arc::clone(&auth));
    let auth_sweep = auth.start_authentication_sweep(&service, sessions.clone())?;

    let entry_point = Arc::new(ProxyEntryPoint::new(ProxyParts {
        pool: Arc::clone(&pool),
        router,
        pins,
        local,
        limits,
        stats,
        log: log.clone(),
        shadow: config.shadow.clone(),
        clock,
        client_sessions,
        op_counters,
        checkout_timeout: config.checkout_timeout,
        auth,
    }));

    let mut transport = config.transport.clone();
    transport.state_machine.observer = config.observer.clone();
    let layer = TransportLayer::bind(transport, service.clone(), sessions, entry_point).await?;
    let addrs = layer.local_addrs();
    let unix_socket = layer.unix_socket_path().map(Path::to_path_buf);
    let handle = layer.handle();
    tracing::info!(
        upstream = ?config.upstream.hosts,
        replica_set = ?config.upstream.replica_set,
        mode = config.mode.name(),
        auth = config.auth.enabled,
        upstream_user = config.upstream_credentials.as_ref().map(|c| c.user.as_str()),
        client_tls = config.transport.tls.mode.name(),
        upstream_tls = upstream_tls.is_some(),
        port = addrs.first().map(SocketAddr::port),
        "Proxy waiting for connections"
    );
    let serving = tokio::spawn(layer.serve());
    Ok(RunningProxy {
        addrs,
        unix_socket,
        service,
        pool,
        log,
        executor,
        handle,
        serving,
        _auth_sweep: auth_sweep,
    })
}

/// The proxy's own authentication: its users (in memory unless a store is configured) and options.
/// Always installed, so authentication commands are answered here and never reach a shared upstream
/// connection; with `--auth` off nothing is gated.
fn declare_auth(
    builder: &mut docwire_service::ServiceContextBuilder,
    config: &ProxyConfig,
) -> StatusResult<Arc<AuthorizationManager>> {
    let users = config
        .users
        .clone()
        .unwrap_or_else(|| Arc::new(MemoryUserStore::new()));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new()?);
    Ok(AuthorizationManager::declare(
        builder,
        users,
        config.auth.clone(),
        clock,
    ))
}
