//! `ReplicaSetMonitor`: keeps a topology current by sending hello to every known member through the
//! executor (on an interval and on demand), selects servers by read preference within a timeout
//! (FailedToSatisfyReadPreference 133), and runs commands with one safe retry after a failover.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bson::{Document, doc};
use docwire_rpc::{ErrorCode, Status, StatusResult};
use docwire_transport::client::RemoteCommandRequest;
use futures::future::join_all;
use tokio::sync::Notify;

use super::app_error::{ApplicationError, ErrorKind, ErrorPhase, is_state_change_error};
use super::selection::{
    DEFAULT_LOCAL_THRESHOLD, Operation, ReadPreference, SelectionRng, average_rtt, choose, in_latency_window,
    suitable_servers,
};
use super::server_description::ServerDescription;
use super::topology::{TopologyDescription, TopologySettings};
use crate::executor::TaskExecutor;

/// Timings of a monitor.
#[derive(Clone, Debug)]
pub struct MonitorOptions {
    /// How often every member is checked.
    pub heartbeat_interval: Duration,
    /// How long selection waits for a suitable server.
    pub selection_timeout: Duration,
    /// The least time between two checks while selection waits.
    pub min_heartbeat_interval: Duration,
    /// The timeout of each hello.
    pub hello_timeout: Duration,
}

impl Default for MonitorOptions {
    fn default() -> Self {
        MonitorOptions {
            heartbeat_interval: Duration::from_secs(10),
            selection_timeout: Duration::from_secs(15),
            min_heartbeat_interval: Duration::from_millis(500),
            hello_timeout: Duration::from_secs(10),
        }
    }
}

/// Follows one replica set (or standalone, or mongoses) for targeting. Clones share it.
#[derive(Clone, Debug)]
pub struct ReplicaSetMonitor {
    executor: TaskExecutor,
    options: MonitorOptions,
    shared: Arc<MonitorShared>,
}

#[derive(Debug)]
struct MonitorShared {
    state: Mutex<MonitorState>,
    /// Raised after every refresh, for selections waiting on a change.
    changed: Notify,
    /// Counts changes to the topology (each hello applied, each reported failure), so callers can cache a
    /// selection until it moves.
    generation: AtomicU64,
}

#[derive(Debug)]
struct MonitorState {
    topology: TopologyDescription,
    rng: SelectionRng,
}

impl ReplicaSetMonitor {
    /// A monitor of the deployment `settings` describes, checking through `executor`.
    pub fn new(
        executor: TaskExecutor,
        settings: &TopologySettings,
        options: MonitorOptions,
    ) -> ReplicaSetMonitor {
        ReplicaSetMonitor {
            executor,
            options,
            shared: Arc::new(MonitorShared {
                state: Mutex::new(MonitorState {
                    topology: TopologyDescription::new(settings),
                    rng: SelectionRng::new(0x5eed),
                }),
                changed: Notify::new(),
                generation: AtomicU64::new(0),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, MonitorState> {
        self.shared.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A number that changes whenever the topology may have: a selection made at one generation holds
    /// until it changes.
    pub fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::Acquire)
    }

    /// The topology as last seen.
    pub fn topology(&self) -> TopologyDescription {
        self.state().topology.clone()
    }

    /// Checks every known member once (in parallel), applying each reply as it comes.
    pub async fn refresh(&self) {
        let addresses: Vec<String> = self.state().topology.servers.keys().cloned().collect();
        join_all(addresses.into_iter().map(|address| self.check(address))).await;
        self.shared.changed.notify_waiters();
    }

    async fn check(&self, address: String) {
        let mut request = RemoteCommandRequest::new(&address, "admin", doc! {"hello": 1});
        request.timeout = Some(self.options.hello_timeout);
        let started = self.executor.now();
        let response = self.executor.run_remote_command(request, None).await;
        let rtt = self
            .executor
            .now()
            .saturating_duration_since(started)
            .max(response.elapsed);
        let mut state = self.state();
        self.shared.generation.fetch_add(1, Ordering::AcqRel);
        let previous = state.topology.server(&address).and_then(|sd| sd.round_trip_time);
        match response.status {
            Ok(()) => {
                let sd =
                    ServerDescription::from_hello(&address, &response.data, Some(average_rtt(previous, rtt)));
                state.topology.update(sd);
            }
            Err(status) => {
                state
                    .topology
                    .update(ServerDescription::with_error(&address, status.reason(), None));
                state.topology.clear_pool(&address);
            }
        }
    }

    /// Refreshes on the heartbeat interval until the executor shuts down.
    pub fn start(&self) {
        let monitor = self.clone();
        tokio::spawn(async move {
            loop {
                monitor.refresh().await;
                if monitor
                    .executor
                    .sleep_for(monitor.options.heartbeat_interval)
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
    }

    fn try_select(&self, operation: Operation, read_preference: &ReadPreference) -> Option<String> {
        let mut state = self.state();
        let servers: Vec<ServerDescription> = state
            .topology
            .servers
            .values()
            .map(|e| e.description.clone())
            .collect();
        let suitable = suitable_servers(
            state.topology.topology_type,
            &servers,
            operation,
            read_preference,
            &[],
        );
        let window = in_latency_window(&suitable, DEFAULT_LOCAL_THRESHOLD);
        choose(&window, |_| 0, &mut state.rng).map(|sd| sd.address.clone())
    }

    /// A server for `operation` under `read_preference`, checking the members again (at most every
    /// min_heartbeat_interval) until one qualifies; FailedToSatisfyReadPreference after the selection timeout.
    pub async fn select(
        &self,
        operation: Operation,
        read_preference: &ReadPreference,
    ) -> StatusResult<String> {
        let deadline = self.executor.now().saturating_add(self.options.selection_timeout);
        loop {
            if let Some(address) = self.try_select(operation, read_preference) {
                return Ok(address);
            }
            if self.executor.now() >= deadline {
                return Err(Status::new(
                    ErrorCode::FailedToSatisfyReadPreference,
                    format!(
                        "Could not find host matching read preference {:?}",
                        read_preference.mode
                    ),
                ));
            }
            self.refresh().await;
            if self.try_select(operation, read_preference).is_none() {
                let next = self
                    .executor
                    .now()
                    .saturating_add(self.options.min_heartbeat_interval)
                    .min(deadline);
                self.executor.sleep_until(next).await?;
            }
        }
    }

    /// Tells the monitor what a command on `address` returned (a transport failure or the reply), so a
    /// not-primary or a dead host is marked at once.
    pub fn report(&self, address: &str, outcome: &Result<Document, Status>) {
        let kind = match outcome {
            Err(status) if status.code().is_network_error() => ErrorKind::Network,
            Err(status) if status.code() == ErrorCode::NetworkInterfaceExceededTimeLimit => {
                ErrorKind::Network
            }
            Ok(reply) if is_state_change_error(reply) => ErrorKind::Command(reply.clone()),
            _ => return,
        };
        let mut state = self.state();
        self.shared.generation.fetch_add(1, Ordering::AcqRel);
        let max_wire_version = state.topology.server(address).map_or(0, |sd| sd.max_wire_version);
        state.topology.handle_application_error(&ApplicationError {
            address: address.to_owned(),
            generation: None,
            phase: ErrorPhase::AfterHandshake,
            max_wire_version,
            kind,
        });
    }

    /// Runs `command` on a server chosen for `operation`; after a failover error (not primary, network
    /// error, timeout) it marks the server and, if `retryable` (reads; writes with lsid and txnNumber),
    /// selects again and retries once. The reply is returned whatever its `ok`.
    pub async fn run_command(
        &self,
        operation: Operation,
        read_preference: &ReadPreference,
        db: &str,
        command: Document,
        retryable: bool,
    ) -> StatusResult<Document> {
        let attempts = if retryable { 2 } else { 1 };
        let mut last = Err(Status::new(ErrorCode::InternalError, "no attempt made"));
        for _ in 0..attempts {
            let address = self.select(operation, read_preference).await?;
            let mut request = RemoteCommandRequest::new(&address, db, command.clone());
            request.timeout = Some(self.options.hello_timeout);
            let response = self.executor.run_remote_command(request, None).await;
            let outcome = response.status.map(|()| response.data);
            self.report(&address, &outcome);
            let failover = match &outcome {
                Err(status) => {
                    status.code().is_network_error()
                        || status.code() == ErrorCode::NetworkInterfaceExceededTimeLimit
                }
                Ok(reply) => is_state_change_error(reply),
            };
            last = outcome;
            if !failover {
                break;
            }
        }
        last
    }
}
