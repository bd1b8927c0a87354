//! `Database`: the embedded database composed for a server — the storage engine chosen by
//! `--storageEngine` under `--dbpath`, the cursor manager (cleaned up when a connection ends, idle
//! cursors reaped every few seconds), and the retryable-write record — installed on a ServiceContext.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use docwire_rpc::{ErrorCode, Status, StatusResult};
use docwire_service::{
    Client, ClientObserver, Clock, PeriodicJob, PeriodicJobHandle, ServiceContext, ServiceContextBuilder,
};

use crate::commands::{DbDeps, RetryableWrites};
use crate::cursor::{CursorManager, DEFAULT_CURSOR_TIMEOUT};
use crate::storage::{MemoryEngine, RedbEngine, StorageEngine};

/// How often idle cursors are looked for (mongod's clientCursorMonitorFrequencySecs).
pub const CURSOR_MONITOR_INTERVAL: Duration = Duration::from_secs(4);

/// Opens the engine `--storageEngine` names (`redb`, the default, or `inMemory`).
pub fn open_engine(name: &str, dbpath: &Path) -> StatusResult<Arc<dyn StorageEngine>> {
    match name {
        "redb" => Ok(Arc::new(RedbEngine::open(dbpath)?)),
        "inMemory" => Ok(Arc::new(MemoryEngine::new())),
        other => Err(Status::new(
            ErrorCode::BadValue,
            format!("unknown storage engine '{other}' (expected redb or inMemory)"),
        )),
    }
}

/// Kills a connection's session-less cursors when its Client goes away.
struct CursorCleanup(Arc<CursorManager>);

impl ClientObserver for CursorCleanup {
    fn on_destroy_client(&self, client: &Client) {
        if !client.is_local() {
            self.0.kill_for_connection(client.connection_id());
        }
    }
}

/// Declares the database's pieces on a ServiceContext being built with `clock`; returns the commands'
/// dependencies.
pub fn install(
    builder: &mut ServiceContextBuilder,
    engine: Arc<dyn StorageEngine>,
    clock: Arc<dyn Clock>,
) -> DbDeps {
    let cursors = Arc::new(CursorManager::new(clock.clone(), DEFAULT_CURSOR_TIMEOUT));
    builder.clock(clock);
    builder.add_client_observer(Arc::new(CursorCleanup(cursors.clone())));
    crate::storage::declare(builder, engine.clone());
    DbDeps {
        engine,
        cursors,
        retryable: Arc::new(RetryableWrites::default()),
    }
}

/// Starts the job that reaps idle cursors; it stops with the ServiceContext.
pub fn start_cursor_reaper(service: &ServiceContext, deps: &DbDeps) -> StatusResult<PeriodicJobHandle> {
    let cursors = deps.cursors.clone();
    let job = service.periodic_runner().make_job(PeriodicJob::new(
        "clientcursormon",
        CURSOR_MONITOR_INTERVAL,
        move |_| {
            let reaped = cursors.reap_idle();
            if reaped > 0 {
                tracing::info!(reaped, "killed idle cursors");
            }
        },
    ));
    job.start()?;
    Ok(job)
}
