//! `Router`: picks the upstream host for a request — by its read preference in normal mode, always the
//! primary in primary mode — through a replica-set monitor that follows the upstream deployment, and tells
//! the monitor about failures so the next selection avoids a dead or demoted host.

use std::sync::{Arc, Mutex, PoisonError};

use bson::Document;
use docwire_executor::sdam::{Operation, ReadPreference, ReplicaSetMonitor, ServerType, TopologyDescription};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::request::RequestInfo;

/// How reads are routed (Springtail's modes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProxyMode {
    /// Reads by their read preference, writes to the primary.
    #[default]
    Normal,
    /// Everything to the primary.
    Primary,
    /// As normal, and reads are also sent to a shadow upstream whose replies are compared and logged.
    Shadow,
}

impl ProxyMode {
    /// Parses `normal`, `primary` or `shadow`.
    pub fn parse(name: &str) -> StatusResult<ProxyMode> {
        match name.to_ascii_lowercase().as_str() {
            "normal" => Ok(ProxyMode::Normal),
            "primary" => Ok(ProxyMode::Primary),
            "shadow" => Ok(ProxyMode::Shadow),
            other => Err(Status::new(
                ErrorCode::BadValue,
                format!("unknown proxy mode {other:?}: expected normal, primary or shadow"),
            )),
        }
    }

    /// The mode's name.
    pub fn name(self) -> &'static str {
        match self {
            ProxyMode::Normal => "normal",
            ProxyMode::Primary => "primary",
            ProxyMode::Shadow => "shadow",
        }
    }
}

/// Chooses upstream hosts.
#[derive(Clone, Debug)]
pub struct Router {
    monitor: ReplicaSetMonitor,
    mode: ProxyMode,
    /// The primary as last selected, with the monitor's generation then: valid until it changes, so the
    /// common case costs an atomic load instead of a selection.
    primary: Arc<Mutex<Option<(u64, String)>>>,
}

impl Router {
    /// A router selecting through `monitor` in `mode`.
    pub fn new(monitor: ReplicaSetMonitor, mode: ProxyMode) -> Router {
        Router {
            monitor,
            mode,
            primary: Arc::default(),
        }
    }

    /// The mode.
    pub fn mode(&self) -> ProxyMode {
        self.mode
    }

    /// The upstream topology as last seen.
    pub fn topology(&self) -> TopologyDescription {
        self.monitor.topology()
    }

    /// The host for `request`.
    pub async fn select(&self, request: &RequestInfo) -> StatusResult<String> {
        if self.mode == ProxyMode::Primary || request.operation() == Operation::Write {
            return self.select_primary().await;
        }
        self.monitor
            .select(request.operation(), &request.selection_preference())
            .await
    }

    /// The primary (or the single server, or a mongos).
    pub async fn select_primary(&self) -> StatusResult<String> {
        let generation = self.monitor.generation();
        if let Some((seen, host)) = self
            .primary
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            && *seen == generation
        {
            return Ok(host.clone());
        }
        let host = self
            .monitor
            .select(Operation::Write, &ReadPreference::primary())
            .await?;
        *self.primary.lock().unwrap_or_else(PoisonError::into_inner) = Some((generation, host.clone()));
        Ok(host)
    }

    /// Whether `host` is a standalone mongod (no replica set, not a mongos).
    pub fn is_standalone(&self, host: &str) -> bool {
        self.monitor
            .topology()
            .server(host)
            .is_some_and(|sd| sd.server_type == ServerType::Standalone)
    }

    /// Tells the monitor what `host` did with a request: a transport failure or a reply.
    pub fn report(&self, host: &str, outcome: &Result<Document, Status>) {
        self.monitor.report(host, outcome);
    }
}
