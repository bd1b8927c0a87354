//! `RealNetwork`: the network interface over the egress connection pool and the transport's async
//! client (mongod's NetworkInterfaceTL).
//!
//! A command's networking runs inside its [`CommandFuture`], on whichever task polls it: an executor
//! task, or an operation's [`Baton`](crate::Baton). The request's timeout covers the connection
//! checkout and the exchange, measured on the interface's clock. A connection goes back to the pool
//! marked good only after its exchange completed; a command dropped midway (cancelled, timed out, shut
//! down) leaves its connection unmarked, so the pool drops it instead of reusing it mid-reply.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bson::Document;
use docwire_pool::{ClientConnection, ClientConnectionFactory, ConnectionHandle, ConnectionPool};
use docwire_rpc::{ErrorCode, Status, StatusResult};
use docwire_service::{Clock, ClockTime, sleep_until};
use docwire_transport::client::{
    ClientOptions, RemoteCommandOnAnyResponse, RemoteCommandRequestOnAny, RemoteCommandResponse,
};
use tokio_util::sync::CancellationToken;

use super::counters::{Counters, NetworkCounters};
use super::exhaust::ExhaustReplies;
use super::on_drop::OnDrop;
use super::work_signal::WorkSignal;
use super::{CommandFuture, NetworkInterface};

/// How a [`RealNetwork`] is set up.
#[derive(Clone, Debug)]
pub struct RealNetworkOptions {
    /// The name of its pool in connPoolStats.
    pub name: String,
    /// The pool's limits and timeouts (and the tag closer manager it registers with).
    pub pool: docwire_pool::Options,
    /// How its connections connect and talk.
    pub client: ClientOptions,
}

impl Default for RealNetworkOptions {
    fn default() -> Self {
        RealNetworkOptions {
            name: "NetworkInterfaceTL".into(),
            pool: docwire_pool::Options::default(),
            client: ClientOptions::default(),
        }
    }
}

/// Where the interface is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Made; commands are refused until startup.
    PreStart,
    /// Accepting commands.
    Running,
    /// Shut down: commands in flight end with ShutdownInProgress, new ones fail at once.
    ShutDown,
}

/// The real network interface. Clones share it.
#[derive(Clone, Debug)]
pub struct RealNetwork {
    shared: Arc<RealShared>,
}

#[derive(Debug)]
pub(super) struct RealShared {
    clock: Arc<dyn Clock>,
    pool: ConnectionPool<ClientConnection>,
    pub(super) counters: NetworkCounters,
    work: WorkSignal,
    phase: Mutex<Phase>,
    pub(super) shutdown: CancellationToken,
}

fn lock(phase: &Mutex<Phase>) -> MutexGuard<'_, Phase> {
    phase.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A response without a reply, for a command that never reached (or never heard back from) a host.
pub(super) fn failed(status: Status, elapsed: Duration) -> RemoteCommandOnAnyResponse {
    RemoteCommandOnAnyResponse {
        response: RemoteCommandResponse::failed(status, elapsed),
        target: None,
    }
}

pub(super) fn shut_down() -> Status {
    Status::new(
        ErrorCode::ShutdownInProgress,
        "NetworkInterface shutdown in progress",
    )
}

pub(super) fn timed_out(request: &RemoteCommandRequestOnAny) -> Status {
    Status::new(
        ErrorCode::NetworkInterfaceExceededTimeLimit,
        format!(
            "Request {} timed out after {:?} (targets {:?})",
            request.id,
            request.timeout.unwrap_or_default(),
            request.targets
        ),
    )
}

/// Completes at `at`, or never without one.
pub(super) async fn sleep_until_if_any(clock: &dyn Clock, at: Option<ClockTime>) {
    match at {
        Some(at) => sleep_until(clock, at).await,
        None => std::future::pending().await,
    }
}

impl RealNetwork {
    /// An interface whose connections come from a new pool; must be made inside a tokio runtime.
    pub fn new(options: RealNetworkOptions, clock: Arc<dyn Clock>) -> StatusResult<RealNetwork> {
        let factory = ClientConnectionFactory::new(options.client);
        let pool = ConnectionPool::new(options.name, factory, Arc::clone(&clock), options.pool)?;
        Ok(RealNetwork {
            shared: Arc::new(RealShared {
                clock,
                pool,
                counters: NetworkCounters::default(),
                work: WorkSignal::new(),
                phase: Mutex::new(Phase::PreStart),
                shutdown: CancellationToken::new(),
            }),
        })
    }

    /// The connection pool the interface draws from.
    pub fn pool(&self) -> &ConnectionPool<ClientConnection> {
        &self.shared.pool
    }

    pub(super) fn shared(&self) -> &Arc<RealShared> {
        &self.shared
    }

    pub(super) fn check_running(&self) -> StatusResult<()> {
        match *lock(&self.shared.phase) {
            Phase::Running => Ok(()),
            Phase::PreStart => Err(Status::new(
                ErrorCode::NotYetInitialized,
                "NetworkInterface not started",
            )),
            Phase::ShutDown => Err(shut_down()),
        }
    }
}

impl RealShared {
    pub(super) fn now(&self) -> ClockTime {
        self.clock.now()
    }

    pub(super) fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// A connection to the first of the request's targets that yields one before `deadline`.
    pub(super) async fn connect_any(
        &self,
        request: &RemoteCommandRequestOnAny,
        deadline: Option<ClockTime>,
    ) -> StatusResult<(ConnectionHandle<ClientConnection>, String)> {
        let mut last = Status::new(ErrorCode::BadValue, "the request names no target");
        for target in &request.targets {
            let remaining = deadline.map(|d| d.saturating_duration_since(self.now()));
            match self.pool.get(target, remaining).await {
                Ok(conn) => return Ok((conn, target.clone())),
                Err(status) => last = status,
            }
        }
        Err(last)
    }

    /// Runs one command to completion (no timeout here: the caller races it).
    async fn exchange(&self, request: &RemoteCommandRequestOnAny, deadline: Option<ClockTime>) -> Exchange {
        let (mut conn, target) = match self.connect_any(request, deadline).await {
            Ok(found) => found,
            Err(status) => return Exchange::Failed(status),
        };
        let command = with_metadata(request);
        let result = if request.fire_and_forget {
            let sent = match conn.client() {
                Ok(client) => client.run_fire_and_forget(&request.db, command).await,
                Err(status) => Err(status),
            };
            match &sent {
                Ok(_) => conn.indicate_success(),
                Err(status) => conn.indicate_failure(status.clone()),
            }
            sent
        } else {
            conn.run_and_mark(&request.db, command).await
        };
        match result {
            Ok(reply) => Exchange::Replied(reply, target),
            Err(status) => Exchange::FailedOn(status, target),
        }
    }

    /// Runs `request` under its timeout and the interface's shutdown.
    async fn run(&self, request: RemoteCommandRequestOnAny) -> RemoteCommandOnAnyResponse {
        let started = self.now();
        let deadline = request.timeout.map(|t| started.saturating_add(t));
        let outcome = tokio::select! {
            biased;
            _ = self.shutdown.cancelled() => Exchange::Failed(shut_down()),
            exchange = self.exchange(&request, deadline) => exchange,
            _ = sleep_until_if_any(self.clock(), deadline) => Exchange::Failed(timed_out(&request)),
        };
        let elapsed = self.now().saturating_duration_since(started);
        outcome.into_response(elapsed)
    }
}

/// How one exchange ended.
enum Exchange {
    /// The host replied (whatever the reply's `ok`).
    Replied(Document, String),
    /// No host was reached.
    Failed(Status),
    /// A host was reached but the exchange failed in transport.
    FailedOn(Status, String),
}

impl Exchange {
    fn into_response(self, elapsed: Duration) -> RemoteCommandOnAnyResponse {
        match self {
            Exchange::Replied(data, target) => RemoteCommandOnAnyResponse {
                response: RemoteCommandResponse {
                    data,
                    elapsed,
                    status: Ok(()),
                    more_to_come: false,
                },
                target: Some(target),
            },
            Exchange::Failed(status) => failed(status, elapsed),
            Exchange::FailedOn(status, target) => RemoteCommandOnAnyResponse {
                response: RemoteCommandResponse::failed(status, elapsed),
                target: Some(target),
            },
        }
    }
}

/// The command with the request's metadata fields appended.
pub(super) fn with_metadata(request: &RemoteCommandRequestOnAny) -> Document {
    let mut command = request.command.clone();
    for (key, value) in &request.metadata {
        command.insert(key.clone(), value.clone());
    }
    command
}

impl NetworkInterface for RealNetwork {
    fn startup(&self) -> StatusResult<()> {
        let mut phase = lock(&self.shared.phase);
        match *phase {
            Phase::PreStart => {
                *phase = Phase::Running;
                Ok(())
            }
            Phase::Running => Err(Status::new(
                ErrorCode::IllegalOperation,
                "NetworkInterface already started",
            )),
            Phase::ShutDown => Err(shut_down()),
        }
    }

    fn shutdown(&self) {
        *lock(&self.shared.phase) = Phase::ShutDown;
        self.shared.shutdown.cancel();
        self.shared.pool.shutdown();
    }

    fn clock(&self) -> &Arc<dyn Clock> {
        &self.shared.clock
    }

    fn start_command(&self, request: RemoteCommandRequestOnAny) -> CommandFuture {
        if let Err(status) = self.check_running() {
            // Refused before it was sent: not counted.
            return Box::pin(std::future::ready(failed(status, Duration::ZERO)));
        }
        let shared = Arc::clone(&self.shared);
        shared.counters.record_sent();
        let canceler = {
            let shared = Arc::clone(&shared);
            OnDrop::new(move || shared.counters.record_canceled())
        };
        Box::pin(async move {
            let reply = shared.run(request).await;
            canceler.disarm();
            shared.counters.record_outcome(&reply.response);
            reply
        })
    }

    fn start_exhaust_command(&self, request: RemoteCommandRequestOnAny) -> ExhaustReplies {
        super::real_exhaust::start(self, request)
    }

    fn counters(&self) -> Counters {
        self.shared.counters.snapshot()
    }

    fn work_signal(&self) -> &WorkSignal {
        &self.shared.work
    }
}
