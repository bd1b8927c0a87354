//! Composes the server: a ServiceContext with the session manager and the egress tag closer manager, the
//! command registry with the admin and pool commands (connPoolStats, dropConnections), the transport
//! layer; serves until SIGINT or SIGTERM, then shuts down gracefully.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bson::doc;
use docwire_executor::repl::ReplicationCoordinator;
use docwire_pool::{EgressTagCloserManager, register_pool_commands};
use docwire_service::ServiceContext;
use docwire_transport::auth::AuthorizationManager;
use docwire_transport::commands::{
    AdminDeps, CmdLineOpts, TopologyState, register_admin_commands, register_auth_commands,
};
use docwire_transport::{
    CommandEntryPoint, CommandRegistry, SessionManager, TransitionObserver, TransportConfig, TransportHandle,
    TransportLayer,
};

use crate::cli::ProxyArgs;
use crate::config::Settings;

/// How long shutdown waits for sessions to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A started server: its addresses and the handles to stop it.
pub struct RunningServer {
    /// The TCP addresses bound.
    pub addrs: Vec<SocketAddr>,
    /// The Unix socket, if any.
    pub unix_socket: Option<PathBuf>,
    /// The process's ServiceContext.
    pub service: ServiceContext,
    /// The hello topology (bump it to wake awaitable hellos).
    pub topology: Arc<TopologyState>,
    /// The process's egress pools register here; connPoolStats and dropConnections reach them through it.
    pub egress: EgressTagCloserManager,
    /// The replica-set member, with `--replSet` (role simulation, no data replication).
    pub replication: Option<ReplicationCoordinator>,
    handle: TransportHandle,
    serving: tokio::task::JoinHandle<()>,
    // Reaps idle cursors while the server runs; dropping it stops the job.
    _cursor_reaper: docwire_service::PeriodicJobHandle,
    // Ends connections that do not authenticate in time (with --auth).
    _auth_sweep: Option<docwire_service::PeriodicJobHandle>,
}

impl RunningServer {
    /// The session manager.
    pub fn sessions(&self) -> &Arc<SessionManager> {
        self.handle.sessions()
    }

    /// A `mongodb://` URI for the first TCP address, with directConnection.
    pub fn uri(&self) -> String {
        let addr = self.addrs.first().map_or_else(String::new, ToString::to_string);
        format!("mongodb://{addr}/?directConnection=true")
    }

    /// Graceful shutdown; returns whether every session ended within the grace period.
    pub async fn shutdown(self, grace: Duration) -> bool {
        if let Some(member) = &self.replication {
            // Stops the heartbeats and the replication network first.
            member.executor().shutdown();
            member.executor().join().await;
        }
        let drained = self.handle.shutdown(grace).await;
        // The accept loops stop once shutdown began; don't hang on them regardless.
        let _ = tokio::time::timeout(Duration::from_secs(1), self.serving).await;
        drained
    }
}

/// Starts the server (inside a tokio runtime) and returns once it listens. `observer`, when given, is
/// told of every state-machine transition (tests record them).
pub async fn start(
    settings: &Settings,
    observer: Option<TransitionObserver>,
) -> anyhow::Result<RunningServer> {
    let mut builder = ServiceContext::builder();
    let clock: Arc<dyn docwire_service::Clock> =
        Arc::new(docwire_service::SystemClock::new().context("cannot start the clock")?);
    let engine =
        docwire_db::database::open_engine(&settings.storage_engine, &settings.dbpath).with_context(|| {
            format!(
                "cannot open the {} storage engine at {}",
                settings.storage_engine,
                settings.dbpath.display()
            )
        })?;
    let db = docwire_db::database::install(&mut builder, engine, Arc::clone(&clock));
    let users = Arc::new(docwire_db::users::EngineUserStore::new(db.engine.clone()));
    let auth = AuthorizationManager::declare(&mut builder, users, settings.auth.clone(), Arc::clone(&clock));
    let sessions_key = SessionManager::declare(&mut builder, settings.max_conns);
    let egress_key = EgressTagCloserManager::declare(&mut builder);
    let service = builder.build().context("cannot build the service context")?;
    let sessions = service
        .decoration(sessions_key)
        .cloned()
        .context("the session manager decoration is missing")?;
    let egress = EgressTagCloserManager::get(&service, egress_key)
        .context("the egress tag closer manager decoration is missing")?;

    let mut deps = AdminDeps::new(service.clone(), sessions.clone());
    deps.cmd_line = CmdLineOpts {
        argv: std::env::args().collect(),
        parsed: settings.parsed_document(),
    };
    deps.parameters = doc! {"logLevel": i32::from(settings.verbosity), "quiet": settings.quiet};
    let topology = deps.topology.clone();
    let mut registry = CommandRegistry::new();
    register_admin_commands(&mut registry, deps.clone());
    // Before the registry is published, so listCommands shows them.
    register_pool_commands(&mut registry, &egress);
    docwire_db::commands::register_db_commands(&mut registry, &db);
    // After the db commands: it wraps their listDatabases.
    register_auth_commands(&mut registry);
    docwire_transport::tls::register_tls_server_status(&mut registry, &sessions);
    let replication = match &settings.replication {
        Some(repl) => Some(crate::replication::install(
            repl,
            settings.port,
            &topology,
            clock,
            &egress,
            &mut registry,
            cluster_tls(settings)?,
        )?),
        None => None,
    };
    let cursor_reaper =
        docwire_db::database::start_cursor_reaper(&service, &db).context("cannot start the cursor reaper")?;
    let auth_sweep = auth
        .start_authentication_sweep(&service, sessions.clone())
        .context("cannot start the authentication sweep")?;
    let registry = Arc::new(registry);
    deps.catalog.publish(&registry);
    let entry_point = Arc::new(
        CommandEntryPoint::new(registry)
            .with_op_counters(deps.op_counters.clone())
            .with_auth(auth),
    );

    let mut transport = settings.transport();
    transport.state_machine.observer = observer;
    let layer = TransportLayer::bind(transport, service.clone(), sessions, entry_point)
        .await
        .context("cannot listen")?;
    let addrs = layer.local_addrs();
    let unix_socket = layer.unix_socket_path().map(Path::to_path_buf);
    let handle = layer.handle();
    tracing::info!(
        port = addrs.first().map_or(settings.port, SocketAddr::port),
        max_conns = handle.sessions().max_conns(),
        executor = ?settings.service_executor,
        dbpath = %settings.dbpath.display(),
        auth = settings.auth.enabled,
        tls_mode = settings.tls.mode.name(),
        "Waiting for connections"
    );
    let serving = tokio::spawn(layer.serve());
    if let Some(member) = &replication {
        member.start();
    }
    Ok(RunningServer {
        addrs,
        unix_socket,
        service,
        topology,
        egress,
        replication,
        handle,
        serving,
        _cursor_reaper: cursor_reaper,
        _auth_sweep: auth_sweep,
    })
}

/// TLS for the server's own outgoing connections (replica-set heartbeats): on under preferTLS and
/// requireTLS, as in mongod, presenting the server's certificate and trusting `--tlsCAFile` (the Mozilla
/// roots without one).
fn cluster_tls(settings: &Settings) -> anyhow::Result<Option<docwire_transport::tls::ClientTls>> {
    use docwire_transport::tls::{ClientTls, TlsMode};
    if !matches!(settings.tls.mode, TlsMode::PreferTls | TlsMode::RequireTls) {
        return Ok(None);
    }
    let tls = ClientTls::from_files(
        settings.tls.ca_file.as_deref(),
        settings.tls.certificate_key_file.as_deref(),
    )
    .map_err(|s| anyhow::anyhow!("{s}"))?;
    Ok(Some(tls))
}

/// Runs the server until SIGINT or SIGTERM, then shuts down gracefully.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let server = start(&settings, None).await?;
    let signal = shutdown_signal().await?;
    tracing::info!(signal, "Received a signal, shutting down");
    if !server.shutdown(SHUTDOWN_GRACE).await {
        tracing::warn!(grace = ?SHUTDOWN_GRACE, "some sessions did not end within the grace period");
    }
    tracing::info!("Shutdown complete");
    Ok(())
}

/// The proxy's configuration from its flags.
pub fn proxy_config(args: &ProxyArgs) -> anyhow::Result<docwire_proxy::ProxyConfig> {
    let upstream = docwire_proxy::UpstreamSpec::parse(&args.upstream).map_err(|s| anyhow::anyhow!("{s}"))?;
    let mut config = docwire_proxy::ProxyConfig::new(upstream);
    config.mode = docwire_proxy::ProxyMode::parse(&args.mode).map_err(|s| anyhow::anyhow!("{s}"))?;
    if config.mode == docwire_proxy::ProxyMode::Shadow && args.shadow.is_none() {
        anyhow::bail!("--mode shadow needs --shadow HOST:PORT");
    }
    config.shadow = args.shadow.clone();
    config.transport = TransportConfig {
        bind_ips: args.bind_ip.split(',').map(|ip| ip.trim().to_owned()).collect(),
        port: args.port,
        no_unix_socket: args.no_unix_socket,
        tls: args.tls.options()?,
        ..TransportConfig::default()
    };
    // The flags' files win over the URI's; either (or --upstreamTLS, or tls=true) turns TLS on.
    let upstream = &config.upstream;
    if args.upstream_tls
        || args.upstream_tls_ca_file.is_some()
        || args.upstream_tls_certificate_key_file.is_some()
        || upstream.tls
    {
        let ca =
            (args.upstream_tls_ca_file.clone()).or_else(|| upstream.tls_ca_file.as_ref().map(PathBuf::from));
        let cert = (args.upstream_tls_certificate_key_file.clone())
            .or_else(|| upstream.tls_certificate_key_file.as_ref().map(PathBuf::from));
        let tls = docwire_transport::tls::ClientTls::from_files(ca.as_deref(), cert.as_deref())
            .map_err(|s| anyhow::anyhow!("{s}"))?;
        config.upstream_tls = Some(tls);
    }
    config.max_conns = args.max_conns;
    config.pool.max_connections = args.max_pool_size.max(1);
    config.pool.min_connections = args.min_pool_size.min(config.pool.max_connections);
    config.request_log.slow_ms = args.slowms;
    config.request_log.sample_rate = args.log_sample_rate.clamp(0.0, 1.0);
    config.request_log.file = args.request_log.clone();
    config.request_log.max_file_bytes = args.request_log_size_mb.max(1) * 1024 * 1024;
    proxy_auth(args, &mut config)?;
    Ok(config)
}

/// The environment variable the proxy's upstream password may come from (when no
/// --upstreamPasswordFile is given).
pub const UPSTREAM_PASSWORD_ENV: &str = "DOCWIRE_UPSTREAM_PASSWORD";

/// The proxy's authentication from its flags: its users in admin.system.users of a storage engine under
/// --dbpath (the db crate's store, composed here: the proxy crate does not depend on the db crate),
/// the clients' auth options, and the upstream service user, whose password comes from a file or the
/// environment, never from a flag.
fn proxy_auth(args: &ProxyArgs, config: &mut docwire_proxy::ProxyConfig) -> anyhow::Result<()> {
    if args.auth && args.dbpath.is_none() {
        anyhow::bail!("--auth needs --dbpath DIR, where the proxy keeps its users");
    }
    if let Some(dbpath) = &args.dbpath {
        let engine = docwire_db::database::open_engine("redb", dbpath)
            .map_err(|s| anyhow::anyhow!("cannot open the proxy's users at {}: {s}", dbpath.display()))?;
        config.users = Some(Arc::new(docwire_db::users::EngineUserStore::new(engine)));
    }
    config.auth = docwire_transport::auth::AuthOptions {
        enabled: args.auth,
        enable_localhost_auth_bypass: args.enable_localhost_auth_bypass,
        auth_failed_delay: Duration::from_millis(args.auth_failed_delay_ms),
        ..docwire_transport::auth::AuthOptions::default()
    };
    let Some(user) = &args.upstream_user else {
        if args.upstream_password_file.is_some() {
            anyhow::bail!("--upstreamPasswordFile needs --upstreamUser");
        }
        return Ok(());
    };
    let mechanism = docwire_transport::auth::ScramMechanism::from_name(&args.upstream_auth_mechanism)
        .with_context(|| format!("unknown --upstreamAuthMechanism {}", args.upstream_auth_mechanism))?;
    config.upstream_credentials = Some(docwire_transport::client::Credentials::new(
        user.clone(),
        args.upstream_auth_source.clone(),
        upstream_password(args)?,
        mechanism,
    ));
    Ok(())
}

/// The upstream user's password: the --upstreamPasswordFile's content (trailing newlines trimmed), else
/// the environment variable. Errors name where it was looked for, never what was found.
fn upstream_password(args: &ProxyArgs) -> anyhow::Result<String> {
    let password = match &args.upstream_password_file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read --upstreamPasswordFile {}", path.display()))?
            .trim_end_matches(['\n', '\r'])
            .to_owned(),
        None => std::env::var(UPSTREAM_PASSWORD_ENV).map_err(|_| {
            anyhow::anyhow!(
                "--upstreamUser needs a password: --upstreamPasswordFile FILE or the \
                 {UPSTREAM_PASSWORD_ENV} environment variable"
            )
        })?,
    };
    if password.is_empty() {
        anyhow::bail!("the upstream password is empty");
    }
    Ok(password)
}

/// Runs `docwire proxy` until SIGINT or SIGTERM, then shuts down gracefully.
pub async fn run_proxy(args: ProxyArgs) -> anyhow::Result<()> {
    let config = proxy_config(&args)?;
    let proxy = docwire_proxy::start_proxy(config)
        .await
        .context("cannot start the proxy")?;
    let signal = shutdown_signal().await?;
    tracing::info!(signal, "Received a signal, shutting down");
    if !proxy.shutdown(SHUTDOWN_GRACE).await {
        tracing::warn!(grace = ?SHUTDOWN_GRACE, "some sessions did not end within the grace period");
    }
    Ok(())
}

/// Waits for SIGINT or SIGTERM; returns which.
async fn shutdown_signal() -> anyhow::Result<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}
