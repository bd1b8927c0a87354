//! Service executors: where a session's state machine runs. `Async` (the default) runs every session as
//! a tokio task; `Synchronous` gives each session a dedicated OS thread (mongod's classic model) that
//! drives the same state machine with `Handle::block_on`, so both pass the same tests.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use docwire_rpc::{ErrorCode, Status, StatusResult};

/// Which executor runs sessions (`--serviceExecutor`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ServiceExecutorKind {
    /// A tokio task per session.
    #[default]
    Async,
    /// A dedicated thread per session.
    Synchronous,
}

impl std::str::FromStr for ServiceExecutorKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "async" => Ok(ServiceExecutorKind::Async),
            "synchronous" => Ok(ServiceExecutorKind::Synchronous),
            other => Err(format!(
                "unknown service executor '{other}' (expected synchronous or async)"
            )),
        }
    }
}

/// Starts session work on the chosen executor; refuses new work once shut down.
#[derive(Debug)]
pub struct ServiceExecutor {
    kind: ServiceExecutorKind,
    runtime: tokio::runtime::Handle,
    shut_down: AtomicBool,
}

impl ServiceExecutor {
    /// An executor of `kind` that uses the current tokio runtime for I/O and timers.
    pub fn new(kind: ServiceExecutorKind) -> StatusResult<ServiceExecutor> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| Status::new(ErrorCode::InternalError, format!("no tokio runtime: {e}")))?;
        Ok(ServiceExecutor {
            kind,
            runtime,
            shut_down: AtomicBool::new(false),
        })
    }

    /// The kind.
    pub fn kind(&self) -> ServiceExecutorKind {
        self.kind
    }

    /// Runs `work` (one session) to completion on this executor.
    pub fn schedule(
        &self,
        name: String,
        work: impl Future<Output = ()> + Send + 'static,
    ) -> StatusResult<()> {
        if self.shut_down.load(Ordering::Acquire) {
            return Err(Status::new(
                ErrorCode::ServiceExecutorInShutdown,
                "the service executor is shutting down",
            ));
        }
        match self.kind {
            ServiceExecutorKind::Async => {
                self.runtime.spawn(work);
                Ok(())
            }
            ServiceExecutorKind::Synchronous => {
                let runtime = self.runtime.clone();
                std::thread::Builder::new()
                    .name(name)
                    // mongod gives connection threads 1 MiB; only the pages touched count toward RSS.
                    .stack_size(1024 * 1024)
                    .spawn(move || runtime.block_on(work))
                    .map(|_| ())
                    .map_err(|e| {
                        Status::new(
                            ErrorCode::InternalError,
                            format!("cannot start a session thread: {e}"),
                        )
                    })
            }
        }
    }

    /// Refuses new sessions from now on (ServiceExecutorInShutdown 333).
    pub fn shutdown(&self) {
        self.shut_down.store(true, Ordering::Release);
    }
}
