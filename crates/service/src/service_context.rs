//! `ServiceContext`: the state of one server process — clocks, the live Clients and operations, client
//! observers, decorations and the periodic runner — passed around as a cheap handle.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use docwire_rpc::{ErrorCode, Status, StatusResult};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::client::{Client, TransportSession, UniqueClient};
use crate::client_observer::ClientObserver;
use crate::clock::{Clock, ClockTime, sleep_until};
use crate::decoration::{Decorable, Decoration, DecorationRegistry, Decorations};
use crate::monitor::{Monitor, Wakeable};
use crate::operation_context::{OperationContext, OperationHandle, OperationId};
use crate::periodic_runner::PeriodicRunner;
use crate::system_clock::SystemClock;

/// The state of one server process. Clone it freely: clones share everything. There is no hidden
/// global; code bound to a Client may use [`ServiceContext::current`].
#[derive(Clone)]
pub struct ServiceContext {
    shared: Arc<ServiceShared>,
}

/// A weak reference to a ServiceContext (what its decorations receive, and what background threads keep).
#[derive(Clone, Debug)]
pub struct WeakServiceContext {
    shared: Weak<ServiceShared>,
}

impl WeakServiceContext {
    /// The ServiceContext, if it still exists.
    pub fn upgrade(&self) -> Option<ServiceContext> {
        self.shared.upgrade().map(|shared| ServiceContext { shared })
    }
}

pub(crate) struct ServiceShared {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) registry: Arc<Monitor<Registry>>,
    /// Signalled whenever an operation leaves the registry, for async shutdown waits.
    pub(crate) operation_left: Notify,
    pub(crate) kill_all: AtomicBool,
    shutdown_token: CancellationToken,
    next_operation_id: AtomicU32,
    next_client_key: AtomicU64,
    pub(crate) observers: Vec<Arc<dyn ClientObserver>>,
    pub(crate) client_decorations: DecorationRegistry<Client>,
    pub(crate) operation_decorations: DecorationRegistry<OperationContext>,
    pub(crate) periodic_runner: PeriodicRunner,
    decorations: Decorations<ServiceContext>,
}

/// The live Clients and listed operations, for currentOp, killOp and shutdown.
#[derive(Default)]
pub(crate) struct Registry {
    pub(crate) clients: HashMap<u64, Weak<Client>>,
    pub(crate) operations: HashMap<OperationId, Arc<OperationHandle>>,
}

impl Decorable for ServiceContext {
    /// A decoration may keep a weak reference to its ServiceContext (it cannot be upgraded until built).
    type Link = WeakServiceContext;
}

/// Declares what a ServiceContext is built with: its clock, decorations and client observers.
pub struct ServiceContextBuilder {
    clock: Option<Arc<dyn Clock>>,
    service_decorations: DecorationRegistry<ServiceContext>,
    client_decorations: DecorationRegistry<Client>,
    operation_decorations: DecorationRegistry<OperationContext>,
    observers: Vec<Arc<dyn ClientObserver>>,
}

impl ServiceContextBuilder {
    /// Uses `clock` (a [`MockClock`](crate::MockClock) in tests) instead of a new [`SystemClock`].
    pub fn clock(&mut self, clock: Arc<dyn Clock>) -> &mut Self {
        self.clock = Some(clock);
        self
    }

    /// Declares a decoration built once, with the ServiceContext.
    pub fn decorate_service_context<T, F>(&mut self, construct: F) -> Decoration<ServiceContext, T>
    where
        T: std::any::Any + Send + Sync,
        F: Fn(&WeakServiceContext) -> StatusResult<T> + Send + Sync + 'static,
    {
        self.service_decorations.declare(construct)
    }

    /// Declares a decoration built with every Client.
    pub fn decorate_client<T, F>(&mut self, construct: F) -> Decoration<Client, T>
    where
        T: std::any::Any + Send + Sync,
        F: Fn(&Weak<Client>) -> StatusResult<T> + Send + Sync + 'static,
    {
        self.client_decorations.declare(construct)
    }

    /// Declares a decoration built with every OperationContext.
    pub fn decorate_operation_context<T, F>(&mut self, construct: F) -> Decoration<OperationContext, T>
    where
        T: std::any::Any + Send + Sync,
        F: Fn(&Arc<OperationHandle>) -> StatusResult<T> + Send + Sync + 'static,
    {
        self.operation_decorations.declare(construct)
    }

    /// Adds a client observer; observers run in the order added.
    pub fn add_client_observer(&mut self, observer: Arc<dyn ClientObserver>) -> &mut Self {
        self.observers.push(observer);
        self
    }

    /// Builds the ServiceContext and its decorations; a failing decoration fails the build.
    pub fn build(self) -> StatusResult<ServiceContext> {
        let clock = match self.clock {
            Some(clock) => clock,
            None => Arc::new(SystemClock::new()?),
        };
        let mut failure = None;
        let shared = Arc::new_cyclic(|weak| {
            let link = WeakServiceContext { shared: weak.clone() };
            let decorations = self.service_decorations.build(&link).unwrap_or_else(|status| {
                failure = Some(status);
                Decorations::empty(0)
            });
            ServiceShared {
                clock,
                registry: Arc::new(Monitor::new(Registry::default())),
                operation_left: Notify::new(),
                kill_all: AtomicBool::new(false),
                shutdown_token: CancellationToken::new(),
                next_operation_id: AtomicU32::new(1),
                next_client_key: AtomicU64::new(1),
                observers: self.observers,
                client_decorations: self.client_decorations,
                operation_decorations: self.operation_decorations,
                periodic_runner: PeriodicRunner::new(link),
                decorations,
            }
        });
        match failure {
            Some(status) => Err(status),
            None => Ok(ServiceContext { shared }),
        }
    }
}

impl ServiceContext {
    /// A builder with a real clock, no decorations and no observers.
    pub fn builder() -> ServiceContextBuilder {
        ServiceContextBuilder {
            clock: None,
            service_decorations: DecorationRegistry::new(),
            client_decorations: DecorationRegistry::new(),
            operation_decorations: DecorationRegistry::new(),
            observers: Vec::new(),
        }
    }

    /// A ServiceContext with nothing declared, on `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> StatusResult<ServiceContext> {
        let mut builder = ServiceContext::builder();
        builder.clock(clock);
        builder.build()
    }

    /// The ServiceContext of the Client bound to the current task or thread.
    pub fn current() -> Option<ServiceContext> {
        Client::current().map(|client| client.service_context().clone())
    }

    pub(crate) fn shared(&self) -> &ServiceShared {
        &self.shared
    }

    /// A weak reference to this ServiceContext.
    pub fn downgrade(&self) -> WeakServiceContext {
        WeakServiceContext {
            shared: Arc::downgrade(&self.shared),
        }
    }

    /// Whether two handles are the same ServiceContext.
    pub fn ptr_eq(&self, other: &ServiceContext) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// The clock every deadline and wait uses.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.shared.clock
    }

    /// The clock's current time.
    pub fn now(&self) -> ClockTime {
        self.shared.clock.now()
    }

    /// The decoration for `key`.
    pub fn decoration<T: 'static>(&self, key: Decoration<ServiceContext, T>) -> Option<&T> {
        self.shared.decorations.get(key)
    }

    /// The runner for this process's periodic housekeeping jobs.
    pub fn periodic_runner(&self) -> &PeriodicRunner {
        &self.shared.periodic_runner
    }

    /// A token cancelled when shutdown begins; connection loops select on it.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shared.shutdown_token.clone()
    }

    /// Makes a Client: over `session`, or local (connection id 0) without one. Builds its decorations and
    /// tells the client observers.
    pub fn make_client(
        &self,
        description: impl Into<String>,
        session: Option<Arc<dyn TransportSession>>,
    ) -> StatusResult<UniqueClient> {
        let key = self.shared.next_client_key.fetch_add(1, Ordering::Relaxed);
        let description = description.into();
        let mut failure = None;
        let client = Arc::new_cyclic(|weak| {
            let decorations = self
                .shared
                .client_decorations
                .build(weak)
                .unwrap_or_else(|status| {
                    failure = Some(status);
                    Decorations::empty(0)
                });
            Client::new(key, description, session, self.clone(), decorations)
        });
        if let Some(status) = failure {
            return Err(status);
        }
        self.shared
            .registry
            .lock()
            .clients
            .insert(key, Arc::downgrade(&client));
        for observer in &self.shared.observers {
            observer.on_create_client(&client);
        }
        Ok(UniqueClient::new(client))
    }

    /// Called when a UniqueClient drops: observers hear of it, then it leaves the registry.
    pub(crate) fn forget_client(&self, client: &Client) {
        for observer in self.shared.observers.iter().rev() {
            observer.on_destroy_client(client);
        }
        self.shared
            .registry
            .update(|registry| registry.clients.remove(&client.registry_key));
    }

    pub(crate) fn next_operation_id(&self) -> OperationId {
        // Zero is never an id: killOp and currentOp treat it as "none".
        loop {
            let id = self.shared.next_operation_id.fetch_add(1, Ordering::Relaxed);
            if id != 0 {
                return OperationId::from(id);
            }
        }
    }

    /// Every live Client.
    pub fn clients(&self) -> Vec<Arc<Client>> {
        let registry = self.shared.registry.lock();
        let mut clients: Vec<(u64, Arc<Client>)> = registry
            .clients
            .iter()
            .filter_map(|(key, weak)| Some((*key, weak.upgrade()?)))
            .collect();
        drop(registry);
        clients.sort_by_key(|(key, _)| *key);
        clients.into_iter().map(|(_, client)| client).collect()
    }

    /// The listed operation with `id`.
    pub fn operation(&self, id: OperationId) -> Option<Arc<OperationHandle>> {
        self.shared.registry.lock().operations.get(&id).cloned()
    }

    /// How many operations are listed.
    pub fn operation_count(&self) -> usize {
        self.shared.registry.lock().operations.len()
    }

    /// Kills `operation` with `code` (mongod's default is Interrupted); the first kill code wins.
    pub fn kill_operation(&self, operation: &OperationHandle, code: ErrorCode) {
        operation.mark_killed(code);
    }

    /// Kills the listed operation `id` with `code`; returns whether there was one.
    pub fn kill_operation_by_id(&self, id: OperationId, code: ErrorCode) -> bool {
        match self.operation(id) {
            Some(operation) => {
                operation.mark_killed(code);
                true
            }
            None => false,
        }
    }

    /// Kills `client`: its current and later operations fail with ClientMarkedKilled.
    pub fn kill_client(&self, client: &Client) {
        let operation = {
            let locked = client.lock();
            client.set_killed();
            locked.operation().cloned()
        };
        // Marked outside the Client lock: marking wakes waiters, which take their own locks.
        if let Some(operation) = operation {
            operation.mark_killed(ErrorCode::ClientMarkedKilled);
        }
    }

    /// Removes `operation` from its Client and the registry without killing it: it can no longer be found
    /// by currentOp or killOp, and its Client may make another.
    pub fn delist_operation(&self, operation: &OperationContext) {
        operation.delist();
    }

    /// Kills `operation` with `code` (usually OperationIsKilledAndDelisted) and delists it.
    pub fn kill_and_delist_operation(&self, operation: &OperationContext, code: ErrorCode) {
        operation.mark_killed(code);
        operation.delist();
    }

    /// Kills every operation with InterruptedAtShutdown; operations made afterwards start killed.
    pub fn kill_all_operations(&self) {
        let operations: Vec<Arc<OperationHandle>> = {
            let registry = self.shared.registry.lock();
            // Set under the registry lock, so an operation being listed either is in this snapshot or
            // sees the flag as it is listed.
            self.shared.kill_all.store(true, Ordering::SeqCst);
            registry.operations.values().cloned().collect()
        };
        for operation in operations {
            operation.mark_killed(ErrorCode::InterruptedAtShutdown);
        }
    }

    /// Whether [`kill_all_operations`](Self::kill_all_operations) has been called.
    pub fn is_killing_all_operations(&self) -> bool {
        self.shared.kill_all.load(Ordering::Acquire)
    }

    /// Begins shutdown: cancels the shutdown token, kills every operation with InterruptedAtShutdown and
    /// stops every periodic job (PeriodicJobIsStopped afterwards). Idempotent.
    fn begin_shutdown(&self) {
        self.shared.shutdown_token.cancel();
        self.kill_all_operations();
        self.shared.periodic_runner.shut_down();
    }

    /// Shuts down and waits, on this thread, until every listed operation has finished or `grace` has
    /// passed on the clock (then ExceededTimeLimit naming how many remain).
    pub fn shutdown(&self, grace: Duration) -> StatusResult<()> {
        self.shutdown_until(self.now().saturating_add(grace))
    }

    /// [`shutdown`](Self::shutdown) with the wait bounded by a clock time rather than a duration.
    pub fn shutdown_until(&self, deadline: ClockTime) -> StatusResult<()> {
        self.begin_shutdown();
        let registry = &self.shared.registry;
        let waker = Arc::clone(registry);
        let _alarm = self
            .shared
            .clock
            .set_alarm(deadline, Box::new(move || waker.wake()));
        let mut guard = registry.lock();
        loop {
            if guard.operations.is_empty() {
                return Ok(());
            }
            if self.now() >= deadline {
                return Err(shutdown_timed_out(guard.operations.len()));
            }
            guard = registry.wait(guard);
        }
    }

    /// Shuts down and waits, without blocking the thread, as [`shutdown`](Self::shutdown) does.
    pub async fn shutdown_async(&self, grace: Duration) -> StatusResult<()> {
        self.shutdown_until_async(self.now().saturating_add(grace)).await
    }

    /// [`shutdown_async`](Self::shutdown_async) bounded by a clock time.
    pub async fn shutdown_until_async(&self, deadline: ClockTime) -> StatusResult<()> {
        self.begin_shutdown();
        let timeout = sleep_until(self.shared.clock.as_ref(), deadline);
        tokio::pin!(timeout);
        loop {
            let left = self.shared.operation_left.notified();
            tokio::pin!(left);
            // Register interest before looking, so a departure between the look and the await is seen.
            left.as_mut().enable();
            let remaining = self.operation_count();
            if remaining == 0 {
                return Ok(());
            }
            tokio::select! {
                _ = &mut left => {}
                _ = &mut timeout => return Err(shutdown_timed_out(self.operation_count())),
            }
        }
    }
}

fn shutdown_timed_out(remaining: usize) -> Status {
    Status::new(
        ErrorCode::ExceededTimeLimit,
        format!("shutdown timed out with {remaining} operations still running"),
    )
}

impl fmt::Debug for ServiceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceContext")
            .field("clock", &self.shared.clock)
            .finish_non_exhaustive()
    }
}
