//! `OperationContext`: one operation from start to finish — its id, deadline, kill state, interruptible
//! waits and decorations — and `OperationHandle`, the part other tasks see to report and kill it.
//!
//! Interruption follows mongod's `checkForInterrupt` order: the Client was killed (ClientMarkedKilled),
//! the process is shutting down (InterruptedAtShutdown), the deadline passed (the deadline's code, e.g.
//! MaxTimeMSExpired), a kill code was set (that code), and, for operations marked kill-on-disconnect, the
//! peer hung up (ClientDisconnect).

use std::fmt;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use docwire_rpc::{ErrorCode, Status, StatusResult};
use tokio_util::sync::CancellationToken;

use crate::client::Client;
use crate::clock::{ClockTime, sleep_until_if_any};
use crate::current_op::LogicalOp;
use crate::decoration::{Decorable, Decoration, Decorations};
use crate::interrupt::KillSwitch;
use crate::monitor::{Monitor, Wakeable, lock};
use crate::recorded_command::RecordedCommand;
use crate::service_context::ServiceContext;

/// An operation's id (mongod's `opid`): unique among live operations and increasing, never 0.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct OperationId(u32);

impl OperationId {
    /// The number reported as `opid`.
    pub fn as_u32(self) -> u32 {
        self.0
    }
}

impl From<u32> for OperationId {
    fn from(id: u32) -> Self {
        OperationId(id)
    }
}

impl fmt::Display for OperationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What an operation is running, as currentOp reports it.
#[derive(Clone, Debug, Default)]
pub(crate) struct OperationDescription {
    pub(crate) logical_op: LogicalOp,
    pub(crate) namespace: String,
    /// The request's raw bytes, decoded only when reported.
    pub(crate) command: Option<RecordedCommand>,
}

/// The shared part of a live operation: what currentOp reads and what killOp flips. Other tasks reach it
/// through the Client lock ([`LockedClient::operation`](crate::LockedClient::operation)) or by id.
pub struct OperationHandle {
    id: OperationId,
    start: ClockTime,
    client: Weak<Client>,
    kill: KillSwitch,
    description: Mutex<OperationDescription>,
}

impl OperationHandle {
    /// The operation id.
    pub fn id(&self) -> OperationId {
        self.id
    }

    /// When the operation was made, on the service's clock.
    pub fn start_time(&self) -> ClockTime {
        self.start
    }

    /// The Client running the operation, while it exists.
    pub fn client(&self) -> Option<Arc<Client>> {
        self.client.upgrade()
    }

    /// Kills the operation with `code`; the first code wins, later ones are ignored. Wakes its waits.
    pub fn mark_killed(&self, code: ErrorCode) {
        if self.kill.kill(code) {
            tracing::debug!(opid = %self.id, %code, "operation killed");
        }
    }

    /// The kill code, if the operation was killed.
    pub fn kill_code(&self) -> Option<ErrorCode> {
        self.kill.code()
    }

    /// A token cancelled when the operation is killed, for other crates to select on.
    pub fn cancellation_token(&self) -> CancellationToken {
        self.kill.token().clone()
    }

    /// The command being run, still raw (cheap to clone); decode it with
    /// [`RecordedCommand::to_document`].
    pub fn command(&self) -> Option<RecordedCommand> {
        self.description().command.clone()
    }

    pub(crate) fn description(&self) -> MutexGuard<'_, OperationDescription> {
        lock(&self.description)
    }
}

impl fmt::Debug for OperationHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperationHandle")
            .field("id", &self.id)
            .field("killed", &self.kill_code())
            .finish()
    }
}

/// One operation on a Client, owned by the task running it. Dropping it ends the operation: it leaves its
/// Client and the registry, and its decorations drop.
pub struct OperationContext {
    handle: Arc<OperationHandle>,
    client: Arc<Client>,
    service: ServiceContext,
    deadline: Option<ClockTime>,
    timeout_code: ErrorCode,
    kill_on_client_disconnect: bool,
    executing_shutdown: bool,
    decorations: Decorations<OperationContext>,
}

impl Decorable for OperationContext {
    /// A decoration may keep the operation's shared handle.
    type Link = Arc<OperationHandle>;
}

impl OperationContext {
    /// Makes `client`'s operation; see [`UniqueClient::make_operation_context`](crate::UniqueClient).
    pub(crate) fn make(client: &Arc<Client>) -> StatusResult<OperationContext> {
        let service = client.service_context().clone();
        let shared = service.shared();
        let handle = Arc::new(OperationHandle {
            id: service.next_operation_id(),
            start: shared.clock.now(),
            client: Arc::downgrade(client),
            kill: KillSwitch::new(),
            description: Mutex::new(OperationDescription::default()),
        });
        {
            let mut state = client.state();
            if let Some(current) = &state.operation {
                return Err(Status::new(
                    ErrorCode::IllegalOperation,
                    format!(
                        "Client '{}' already has operation {} running",
                        client.description(),
                        current.id
                    ),
                ));
            }
            state.operation = Some(Arc::clone(&handle));
        }
        let decorations = match shared.operation_decorations.build(&handle) {
            Ok(decorations) => decorations,
            Err(status) => {
                client.state().operation = None;
                return Err(status);
            }
        };
        {
            let mut registry = shared.registry.lock();
            registry.operations.insert(handle.id, Arc::clone(&handle));
            if shared.kill_all.load(Ordering::SeqCst) {
                handle.kill.kill(ErrorCode::InterruptedAtShutdown);
            }
        }
        let operation = OperationContext {
            handle,
            client: Arc::clone(client),
            service,
            deadline: None,
            timeout_code: ErrorCode::ExceededTimeLimit,
            kill_on_client_disconnect: false,
            executing_shutdown: false,
            decorations,
        };
        for observer in &operation.service.shared().observers {
            observer.on_create_operation_context(&operation);
        }
        Ok(operation)
    }

    /// The operation id.
    pub fn id(&self) -> OperationId {
        self.handle.id
    }

    /// The shared handle other tasks use to report or kill this operation.
    pub fn handle(&self) -> &Arc<OperationHandle> {
        &self.handle
    }

    /// The Client running this operation.
    pub fn client(&self) -> &Arc<Client> {
        &self.client
    }

    /// The ServiceContext this operation belongs to.
    pub fn service_context(&self) -> &ServiceContext {
        &self.service
    }

    /// When the operation was made.
    pub fn start_time(&self) -> ClockTime {
        self.handle.start
    }

    /// The decoration for `key`.
    pub fn decoration<T: 'static>(&self, key: Decoration<OperationContext, T>) -> Option<&T> {
        self.decorations.get(key)
    }

    /// The decoration for `key`, mutably (the owning task may change its own operation's decorations).
    pub fn decoration_mut<T: 'static>(&mut self, key: Decoration<OperationContext, T>) -> Option<&mut T> {
        self.decorations.get_mut(key)
    }

    /// Records the command being run, for currentOp. Give it the request's bytes
    /// ([`RecordedCommand::new`] over `OpMsg::body_bytes`): they are decoded only if someone asks.
    pub fn set_command(
        &self,
        logical_op: LogicalOp,
        namespace: impl Into<String>,
        command: impl Into<RecordedCommand>,
    ) {
        let namespace = namespace.into();
        let command = command.into();
        let mut description = self.handle.description();
        description.logical_op = logical_op;
        description.namespace = namespace;
        description.command = Some(command);
    }

    /// The command recorded by [`set_command`](Self::set_command), still raw (cheap to clone).
    pub fn command(&self) -> Option<RecordedCommand> {
        self.handle.command()
    }

    /// The namespace recorded by [`set_command`](Self::set_command).
    pub fn namespace(&self) -> String {
        self.handle.description().namespace.clone()
    }

    /// Kills this operation with `code`; the first code wins.
    pub fn mark_killed(&self, code: ErrorCode) {
        self.handle.mark_killed(code);
    }

    /// The kill code, if killed.
    pub fn kill_code(&self) -> Option<ErrorCode> {
        self.handle.kill_code()
    }

    /// A token cancelled when this operation is killed (not at its deadline: deadlines are seen by
    /// [`check_for_interrupt`](Self::check_for_interrupt) and the waits).
    pub fn cancellation_token(&self) -> CancellationToken {
        self.handle.cancellation_token()
    }

    /// Makes the operation fail with ClientDisconnect once the peer hangs up (exhaust and similar).
    pub fn set_kill_on_client_disconnect(&mut self, enabled: bool) {
        self.kill_on_client_disconnect = enabled;
    }

    /// Marks this as the operation doing shutdown, so Client kills and shutdown do not interrupt it.
    pub fn set_executing_shutdown(&mut self) {
        self.executing_shutdown = true;
    }

    /// Sets the deadline to `at`, reported with `timeout_code` once passed.
    pub fn set_deadline_by_date(&mut self, at: ClockTime, timeout_code: ErrorCode) {
        self.deadline = Some(at);
        self.timeout_code = timeout_code;
    }

    /// Sets the deadline `max_time` from now (commands pass maxTimeMS with MaxTimeMSExpired; the default
    /// code is ExceededTimeLimit). Zero means already expired. One clock unit is added so the deadline
    /// never passes sooner than asked; a time too large to represent means no deadline.
    pub fn set_deadline_after_now_by(&mut self, max_time: Duration, timeout_code: ErrorCode) {
        let now = self.service.now();
        let deadline = if max_time.is_zero() {
            Some(now)
        } else {
            max_time
                .checked_add(Duration::from_micros(1))
                .and_then(|d| now.checked_add(d))
        };
        self.deadline = deadline;
        self.timeout_code = timeout_code;
    }

    /// Sets the deadline from a command's `maxTimeMS`: 0 means none (as mongod reads maxTimeMS), a
    /// negative value is BadValue, otherwise MaxTimeMSExpired after that many milliseconds.
    pub fn set_max_time_ms(&mut self, max_time_ms: i64) -> StatusResult<()> {
        match u64::try_from(max_time_ms) {
            Err(_) => Err(Status::new(ErrorCode::BadValue, "maxTimeMS must be non-negative")),
            Ok(0) => {
                self.deadline = None;
                Ok(())
            }
            Ok(ms) => {
                self.set_deadline_after_now_by(Duration::from_millis(ms), ErrorCode::MaxTimeMSExpired);
                Ok(())
            }
        }
    }

    /// Whether a deadline is set.
    pub fn has_deadline(&self) -> bool {
        self.deadline.is_some()
    }

    /// The deadline, if any.
    pub fn deadline(&self) -> Option<ClockTime> {
        self.deadline
    }

    /// The code reported when the deadline passes.
    pub fn timeout_code(&self) -> ErrorCode {
        self.timeout_code
    }

    /// Time left before the deadline (`None` without one; zero once passed).
    pub fn remaining_max_time(&self) -> Option<Duration> {
        self.deadline
            .map(|at| at.saturating_duration_since(self.service.now()))
    }

    /// Whether the deadline has passed.
    pub fn has_deadline_expired(&self) -> bool {
        self.deadline.is_some_and(|at| self.service.now() >= at)
    }

    /// Whether the operation must stop, and why — in mongod's order (see the module docs). A passed
    /// deadline or a hang-up also marks the operation killed with that code.
    pub fn check_for_interrupt(&self) -> StatusResult<()> {
        self.interruption()
            .map_err(|interruption| interruption.mark(&self.handle))
    }

    /// The interruption, if any, without marking the operation killed yet: a waiter holding its
    /// monitor's lock must release it first, because marking wakes that very monitor.
    fn interruption(&self) -> Result<(), Interruption> {
        if !self.executing_shutdown {
            if self.client.is_killed() {
                return Err(Interruption::reported(
                    ErrorCode::ClientMarkedKilled,
                    "client has been killed",
                ));
            }
            if self.service.shared().kill_all.load(Ordering::Acquire) {
                return Err(Interruption::reported(
                    ErrorCode::InterruptedAtShutdown,
                    "interrupted at shutdown",
                ));
            }
        }
        if self.has_deadline_expired() {
            return Err(Interruption::killing(
                self.timeout_code,
                "operation exceeded time limit",
            ));
        }
        if let Some(code) = self.handle.kill_code() {
            return Err(Interruption::reported(code, "operation was interrupted"));
        }
        if self.kill_on_client_disconnect && self.client.session().is_some_and(|s| !s.is_connected()) {
            return Err(Interruption::killing(
                ErrorCode::ClientDisconnect,
                "operation was interrupted because a client disconnected",
            ));
        }
        Ok(())
    }

    /// Waits on `monitor` until `condition` holds, returning the locked value. Ends early with the
    /// interruption if the operation is killed or its deadline passes.
    pub fn wait_for_condition_or_interrupt<'m, T: Send + 'static>(
        &self,
        monitor: &'m Arc<Monitor<T>>,
        condition: impl FnMut(&mut T) -> bool,
    ) -> StatusResult<MutexGuard<'m, T>> {
        match self.wait_for_condition_or_interrupt_until(monitor, None, condition)? {
            Some(guard) => Ok(guard),
            None => Err(Status::new(
                ErrorCode::InternalError,
                "a wait without an end timed out",
            )),
        }
    }

    /// As [`wait_for_condition_or_interrupt`](Self::wait_for_condition_or_interrupt), but also ends at
    /// `until`, returning `Ok(None)`. The wait ends at the earlier of `until` and the operation's
    /// deadline; when the operation's deadline comes first (or at the same time), that is an error.
    pub fn wait_for_condition_or_interrupt_until<'m, T: Send + 'static>(
        &self,
        monitor: &'m Arc<Monitor<T>>,
        until: Option<ClockTime>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> StatusResult<Option<MutexGuard<'m, T>>> {
        let clock = self.service.clock();
        let waker: Arc<dyn Wakeable> = Arc::clone(monitor) as Arc<dyn Wakeable>;
        // Registered before the first check, so a kill after the check must take the monitor's lock
        // (held until we wait) to wake us: no lost wake-up.
        let _registration = self.handle.kill.register_waiter(Arc::clone(&waker));
        let wake_at = earliest(until, self.deadline);
        let _alarm = wake_at.map(|at| {
            let waker = Arc::clone(&waker);
            clock.set_alarm(at, Box::new(move || waker.wake()))
        });
        let mut guard = monitor.lock();
        loop {
            if let Err(interruption) = self.interruption() {
                drop(guard);
                return Err(interruption.mark(&self.handle));
            }
            if condition(&mut guard) {
                return Ok(Some(guard));
            }
            if until.is_some_and(|until| clock.now() >= until) {
                return Ok(None);
            }
            guard = monitor.wait(guard);
        }
    }

    /// As [`wait_for_condition_or_interrupt_until`](Self::wait_for_condition_or_interrupt_until) with
    /// `until` `wait` from now.
    pub fn wait_for_condition_or_interrupt_for<'m, T: Send + 'static>(
        &self,
        monitor: &'m Arc<Monitor<T>>,
        wait: Duration,
        condition: impl FnMut(&mut T) -> bool,
    ) -> StatusResult<Option<MutexGuard<'m, T>>> {
        let until = self.service.now().saturating_add(wait);
        self.wait_for_condition_or_interrupt_until(monitor, Some(until), condition)
    }

    /// The async wait: runs `condition` until it completes (`Ok(Some(output))`), `until` passes
    /// (`Ok(None)`), or the operation is killed or reaches its deadline (the interruption). Woken by the
    /// kill token and clock alarms, never by polling.
    pub async fn wait_for_condition_or_interrupt_async<F: Future>(
        &self,
        until: Option<ClockTime>,
        condition: F,
    ) -> StatusResult<Option<F::Output>> {
        self.check_for_interrupt()?;
        let clock = self.service.clock().as_ref();
        let token = self.handle.kill.token();
        let wake_at = earliest(until, self.deadline);
        tokio::select! {
            biased;
            _ = token.cancelled() => {
                self.check_for_interrupt()?;
                Err(Status::new(ErrorCode::Interrupted, "operation was interrupted"))
            }
            _ = sleep_until_if_any(clock, wake_at) => {
                self.check_for_interrupt()?;
                Ok(None)
            }
            output = condition => Ok(Some(output)),
        }
    }

    /// Sleeps on this thread until `at`, or fails at once if interrupted (or if the deadline comes first).
    pub fn sleep_until(&self, at: ClockTime) -> StatusResult<()> {
        let nothing = Arc::new(Monitor::new(()));
        self.wait_for_condition_or_interrupt_until(&nothing, Some(at), |_| false)
            .map(drop)
    }

    /// Sleeps on this thread for `duration`; see [`sleep_until`](Self::sleep_until).
    pub fn sleep_for(&self, duration: Duration) -> StatusResult<()> {
        self.sleep_until(self.service.now().saturating_add(duration))
    }

    /// Sleeps in a task until `at`, or fails once interrupted.
    pub async fn sleep_until_async(&self, at: ClockTime) -> StatusResult<()> {
        self.wait_for_condition_or_interrupt_async(Some(at), std::future::pending::<()>())
            .await
            .map(drop)
    }

    /// Sleeps in a task for `duration`; see [`sleep_until_async`](Self::sleep_until_async).
    pub async fn sleep_for_async(&self, duration: Duration) -> StatusResult<()> {
        self.sleep_until_async(self.service.now().saturating_add(duration))
            .await
    }

    /// Takes this operation off its Client and out of the registry (it stays alive and killable
    /// through its handle).
    pub(crate) fn delist(&self) {
        let removed = {
            let mut registry = self.service.shared().registry.lock();
            registry.operations.remove(&self.handle.id).is_some()
        };
        // Only shutdown waits for operations to leave, and it sets `kill_all` before waiting; skipping
        // the wake-up otherwise saves a futex call on every operation.
        if removed && self.service.shared().kill_all.load(Ordering::SeqCst) {
            self.service.shared().registry.notify_all();
            self.service.shared().operation_left.notify_waiters();
        }
        let mut state = self.client.state();
        if state
            .operation
            .as_ref()
            .is_some_and(|current| current.id == self.handle.id)
        {
            state.operation = None;
        }
    }
}

/// An interruption found by a check, and whether reporting it also kills the operation.
struct Interruption {
    status: Status,
    kills: bool,
}

impl Interruption {
    fn reported(code: ErrorCode, reason: &str) -> Interruption {
        Interruption {
            status: Status::new(code, reason),
            kills: false,
        }
    }

    fn killing(code: ErrorCode, reason: &str) -> Interruption {
        Interruption {
            status: Status::new(code, reason),
            kills: true,
        }
    }

    /// Marks `handle` killed when this interruption requires it, and gives the status to report.
    fn mark(self, handle: &OperationHandle) -> Status {
        if self.kills {
            handle.mark_killed(self.status.code());
        }
        self.status
    }
}

fn earliest(a: Option<ClockTime>, b: Option<ClockTime>) -> Option<ClockTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Drop for OperationContext {
    fn drop(&mut self) {
        for observer in self.service.shared().observers.iter().rev() {
            observer.on_destroy_operation_context(self);
        }
        self.delist();
    }
}

impl fmt::Debug for OperationContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperationContext")
            .field("id", &self.handle.id)
            .field("client", &self.client.description())
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}
