//! `MockNetwork`: a network interface on a virtual clock. Tests enter the network, take the requests the
//! executor started, schedule replies at virtual times (or black-hole requests) and run the clock
//! forward, so executor tests are instant and deterministic (mongod's NetworkInterfaceMock).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bson::Document;
use docwire_rpc::{ErrorCode, Status, StatusResult};
use docwire_service::{Clock, ClockTime, MockClock};
use docwire_transport::client::{
    RemoteCommandOnAnyResponse, RemoteCommandRequestOnAny, RemoteCommandResponse,
};
use tokio::sync::{Notify, oneshot};

use super::counters::{Counters, NetworkCounters};
use super::exhaust::ExhaustReplies;
use super::mock_state::{MockState, OpPhase, ReplyTo};
use super::on_drop::OnDrop;
use super::work_signal::WorkSignal;
use super::{CommandFuture, NetworkInterface};

/// A network whose only traffic is what the test scripts. Clones share the same network.
#[derive(Clone, Debug)]
pub struct MockNetwork {
    shared: Arc<MockShared>,
}

#[derive(Debug)]
struct MockShared {
    clock: MockClock,
    clock_dyn: Arc<dyn Clock>,
    state: Mutex<MockState>,
    /// Raised whenever a request arrives, for tests waiting for one.
    arrived: Notify,
    counters: NetworkCounters,
    work: WorkSignal,
}

/// A request the executor started, as the test sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkOperation {
    /// The mock's id for this operation.
    pub id: u64,
    /// The request as started.
    pub request: RemoteCommandRequestOnAny,
    /// When it was started.
    pub started: ClockTime,
}

fn lock(mutex: &Mutex<MockState>) -> MutexGuard<'_, MockState> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MockNetwork {
    /// A mock network on `clock` (which the tests also hold, to read the time).
    pub fn new(clock: MockClock) -> MockNetwork {
        let clock_dyn: Arc<dyn Clock> = Arc::new(clock.clone());
        MockNetwork {
            shared: Arc::new(MockShared {
                clock,
                clock_dyn,
                state: Mutex::new(MockState::default()),
                arrived: Notify::new(),
                counters: NetworkCounters::default(),
                work: WorkSignal::new(),
            }),
        }
    }

    /// Enters the network: the returned guard is the only way to see requests, reply and move time.
    pub fn enter_network(&self) -> InNetwork<'_> {
        InNetwork { net: self }
    }

    /// Waits until a request is ready for the test to take (for requests started by callbacks).
    pub async fn wait_for_ready_request(&self) {
        loop {
            let arrived = self.shared.arrived.notified();
            if self.enter_network().has_ready_requests() {
                return;
            }
            arrived.await;
        }
    }

    fn register(&self, request: RemoteCommandRequestOnAny, reply_to: ReplyTo) -> StatusResult<u64> {
        let mut state = lock(&self.shared.state);
        if state.shut_down {
            return Err(Status::new(
                ErrorCode::ShutdownInProgress,
                "NetworkInterfaceMock shut down",
            ));
        }
        self.shared.counters.record_sent();
        let id = state.add(request, self.shared.clock.now(), reply_to);
        drop(state);
        self.shared.arrived.notify_waiters();
        Ok(id)
    }

    fn canceler(&self, id: u64) -> OnDrop {
        let shared = Arc::clone(&self.shared);
        OnDrop::new(move || lock(&shared.state).cancel(id, &shared.counters))
    }
}

fn failed(status: Status) -> RemoteCommandOnAnyResponse {
    RemoteCommandOnAnyResponse {
        response: RemoteCommandResponse::failed(status, Duration::ZERO),
        target: None,
    }
}

impl NetworkInterface for MockNetwork {
    fn startup(&self) -> StatusResult<()> {
        Ok(())
    }

    fn shutdown(&self) {
        let mut state = lock(&self.shared.state);
        state.shut_down = true;
        let ids: Vec<u64> = state.ops.keys().copied().collect();
        for id in ids {
            let status = Status::new(ErrorCode::ShutdownInProgress, "NetworkInterfaceMock shut down");
            state.deliver(
                id,
                RemoteCommandResponse::failed(status, Duration::ZERO),
                &self.shared.counters,
            );
        }
    }

    fn clock(&self) -> &Arc<dyn Clock> {
        &self.shared.clock_dyn
    }

    fn start_command(&self, request: RemoteCommandRequestOnAny) -> CommandFuture {
        let (sender, receiver) = oneshot::channel();
        let id = match self.register(request, ReplyTo::Single(sender)) {
            Ok(id) => id,
            Err(status) => return Box::pin(std::future::ready(failed(status))),
        };
        let guard = self.canceler(id);
        Box::pin(async move {
            let reply = receiver.await.unwrap_or_else(|_| {
                failed(Status::new(
                    ErrorCode::ShutdownInProgress,
                    "NetworkInterfaceMock dropped",
                ))
            });
            guard.disarm();
            reply
        })
    }

    fn start_exhaust_command(&self, request: RemoteCommandRequestOnAny) -> ExhaustReplies {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        match self.register(request, ReplyTo::Exhaust(sender)) {
            Ok(id) => ExhaustReplies::new(receiver, self.canceler(id)),
            Err(status) => {
                let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
                let _ = sender.send(failed(status));
                ExhaustReplies::new(receiver, OnDrop::new(|| {}))
            }
        }
    }

    fn counters(&self) -> Counters {
        self.shared.counters.snapshot()
    }

    fn work_signal(&self) -> &WorkSignal {
        &self.shared.work
    }
}

/// The test inside the network (mongod's InNetworkGuard). Dropping it exits the network.
#[derive(Debug)]
pub struct InNetwork<'n> {
    net: &'n MockNetwork,
}

impl InNetwork<'_> {
    fn state(&self) -> MutexGuard<'_, MockState> {
        lock(&self.net.shared.state)
    }

    /// Leaves the network (the same as dropping the guard).
    pub fn exit_network(self) {}

    /// The virtual time.
    pub fn now(&self) -> ClockTime {
        self.net.shared.clock.now()
    }

    /// Whether a request is waiting to be taken.
    pub fn has_ready_requests(&self) -> bool {
        self.state().ops.values().any(|op| op.phase == OpPhase::Ready)
    }

    /// Takes the oldest waiting request; the test then schedules its reply or black-holes it.
    pub fn next_ready_request(&self) -> Option<NetworkOperation> {
        let mut state = self.state();
        let (id, op) = state.ops.iter_mut().find(|(_, op)| op.phase == OpPhase::Ready)?;
        op.phase = OpPhase::Processing;
        Some(NetworkOperation {
            id: *id,
            request: op.request.clone(),
            started: op.started,
        })
    }

    /// Schedules `response` for `op` at `at` (delivered by [`run_until`](Self::run_until) or, when `at`
    /// is not in the future, by [`run_ready_network_operations`](Self::run_ready_network_operations)).
    pub fn schedule_response(&self, op: &NetworkOperation, at: ClockTime, response: RemoteCommandResponse) {
        let mut state = self.state();
        state.next_id += 1;
        let seq = state.next_id;
        state.scheduled.insert((at, seq), (op.id, response));
    }

    /// Schedules the reply `data` for now.
    pub fn schedule_successful_response(&self, op: &NetworkOperation, data: Document) {
        let response = RemoteCommandResponse {
            data,
            elapsed: Duration::ZERO,
            status: Ok(()),
            more_to_come: false,
        };
        self.schedule_response(op, self.now(), response);
    }

    /// Schedules a transport failure for now.
    pub fn schedule_error_response(&self, op: &NetworkOperation, status: Status) {
        self.schedule_response(
            op,
            self.now(),
            RemoteCommandResponse::failed(status, Duration::ZERO),
        );
    }

    /// Never replies to `op`: it ends only by its timeout or a cancellation.
    pub fn black_hole(&self, op: &NetworkOperation) {
        if let Some(entry) = self.state().ops.get_mut(&op.id) {
            entry.phase = OpPhase::BlackHoled;
        }
    }

    /// Whether `op` was cancelled by its caller.
    pub fn was_canceled(&self, op: &NetworkOperation) -> bool {
        self.state().canceled.contains(&op.id)
    }

    /// Whether `op` is still open (no final reply, timeout or cancellation yet).
    pub fn is_open(&self, op: &NetworkOperation) -> bool {
        self.state().ops.contains_key(&op.id)
    }

    /// Delivers every reply and timeout due now.
    pub fn run_ready_network_operations(&self) {
        let now = self.now();
        self.state().deliver_due(now, &self.net.shared.counters);
    }

    /// Moves the virtual clock to `until`, stopping at each reply and timeout on the way to deliver it
    /// (clock alarms, such as timed executor work, fire in the same order). Returns the new time.
    pub fn run_until(&self, until: ClockTime) -> ClockTime {
        loop {
            let next = self.state().next_event();
            match next {
                Some(at) if at <= until => {
                    self.advance_to(at);
                    self.run_ready_network_operations();
                }
                _ => break,
            }
        }
        self.advance_to(until);
        self.run_ready_network_operations();
        self.now()
    }

    /// Moves the virtual clock forward by `by`; see [`run_until`](Self::run_until).
    pub fn advance(&self, by: Duration) -> ClockTime {
        self.run_until(self.now().saturating_add(by))
    }

    fn advance_to(&self, at: ClockTime) {
        let now = self.now();
        if at > now {
            self.net.shared.clock.advance(at.saturating_duration_since(now));
        }
    }
}
