//! Composes the server: a ServiceContext with the session manager, the command registry with the admin
//! commands, the transport layer; serves until SIGINT or SIGTERM, then shuts down gracefully.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bson::doc;
use docwire_service::ServiceContext;
use docwire_transport::commands::{AdminDeps, CmdLineOpts, register_admin_commands};
use docwire_transport::{CommandEntryPoint, CommandRegistry, SessionManager, TransportLayer};

use crate::config::Settings;

/// How long shutdown waits for sessions to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Runs the server until a shutdown signal.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let mut builder = ServiceContext::builder();
    let sessions_key = SessionManager::declare(&mut builder, settings.max_conns);
    let service = builder.build().context("cannot build the service context")?;
    let sessions = service
        .decoration(sessions_key)
        .cloned()
        .context("the session manager decoration is missing")?;

    let mut deps = AdminDeps::new(service.clone(), sessions.clone());
    deps.cmd_line = CmdLineOpts {
        argv: std::env::args().collect(),
        parsed: settings.parsed_document(),
    };
    deps.parameters = doc! {"logLevel": i32::from(settings.verbosity), "quiet": settings.quiet};
    let mut registry = CommandRegistry::new();
    register_admin_commands(&mut registry, deps.clone());
    let registry = Arc::new(registry);
    deps.catalog.publish(&registry);
    let entry_point = Arc::new(CommandEntryPoint::new(registry));

    let layer = TransportLayer::bind(settings.transport(), service, sessions, entry_point)
        .await
        .context("cannot listen")?;
    let port = layer.local_addrs().first().map_or(settings.port, |a| a.port());
    let handle = layer.handle();
    tracing::info!(
        port,
        max_conns = handle.sessions().max_conns(),
        executor = ?settings.service_executor,
        dbpath = %settings.dbpath.display(),
        "Waiting for connections"
    );
    let serving = tokio::spawn(layer.serve());

    let signal = shutdown_signal().await?;
    tracing::info!(signal, "Received a signal, shutting down");
    if !handle.shutdown(SHUTDOWN_GRACE).await {
        tracing::warn!(grace = ?SHUTDOWN_GRACE, "some sessions did not end within the grace period");
    }
    // The accept loops stop once shutdown began; don't hang on them regardless.
    let _ = tokio::time::timeout(Duration::from_secs(1), serving).await;
    tracing::info!("Shutdown complete");
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
