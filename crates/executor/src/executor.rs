//! `TaskExecutor`: the lifecycle (startup, shutdown, join), the worker tasks and the scheduling core
//! every kind of work (immediate, timed, on an event, remote) is built on.
//!
//! Every callback is counted from the moment it is scheduled until it has run, and it runs exactly once:
//! normally, or with CallbackCanceled when it was cancelled or the executor shut down first. A callback
//! waiting for a trigger (a time, an event, a reply) is a future raced against its cancel token and the
//! shutdown token; when the race ends, the callback becomes a [`Job`] on the ready queue, which the
//! workers drain. Idle workers sleep on the network interface's work signal.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use docwire_rpc::{ErrorCode, Status, StatusResult};
use docwire_service::{Clock, ClockTime};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::baton::Baton;
use crate::callback::{CallbackHandle, callback_canceled, shutdown_in_progress};
use crate::job::{Completion, Job, Pending};
use crate::network::NetworkInterface;

/// How an executor is set up.
#[derive(Clone, Debug)]
pub struct ExecutorOptions {
    /// A name for logs.
    pub name: String,
    /// How many worker tasks run callbacks (at least one).
    pub workers: usize,
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        ExecutorOptions {
            name: "executor".into(),
            workers: 4,
        }
    }
}

/// A task executor (mongod's ThreadPoolTaskExecutor) over a [`NetworkInterface`]. Clones share it.
#[derive(Clone)]
pub struct TaskExecutor {
    pub(crate) shared: Arc<Shared>,
}

/// Where the executor is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Made; work may be scheduled but no worker runs yet.
    PreStart,
    /// Workers running.
    Running,
    /// Shut down: nothing new is accepted; what is pending runs cancelled.
    ShuttingDown,
}

#[derive(Debug)]
struct Lifecycle {
    phase: Phase,
    started: bool,
    /// Callbacks scheduled and not yet run.
    outstanding: usize,
    workers: Vec<JoinHandle<()>>,
}

pub(crate) struct Shared {
    name: String,
    worker_count: usize,
    pub(crate) network: Arc<dyn NetworkInterface>,
    runtime: tokio::runtime::Handle,
    /// Fired by the first shutdown.
    pub(crate) shutdown: CancellationToken,
    /// Fired once shut down with no callback outstanding: workers exit, join returns.
    drained: CancellationToken,
    lifecycle: Mutex<Lifecycle>,
    ready: Mutex<VecDeque<Job>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves its state consistent before anything that can panic.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for TaskExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskExecutor")
            .field("name", &self.shared.name)
            .field("lifecycle", &*lock(&self.shared.lifecycle))
            .finish()
    }
}

impl TaskExecutor {
    /// An executor over `network`; must be made inside a tokio runtime, which runs its tasks.
    pub fn new(network: Arc<dyn NetworkInterface>, options: ExecutorOptions) -> StatusResult<TaskExecutor> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|e| {
            Status::new(
                ErrorCode::InternalError,
                format!("a TaskExecutor must be made inside a tokio runtime: {e}"),
            )
        })?;
        Ok(TaskExecutor {
            shared: Arc::new(Shared {
                name: options.name,
                worker_count: options.workers.max(1),
                network,
                runtime,
                shutdown: CancellationToken::new(),
                drained: CancellationToken::new(),
                lifecycle: Mutex::new(Lifecycle {
                    phase: Phase::PreStart,
                    started: false,
                    outstanding: 0,
                    workers: Vec::new(),
                }),
                ready: Mutex::new(VecDeque::new()),
            }),
        })
    }

    /// Starts the network interface and the workers; once only (IllegalOperation the second time).
    pub fn startup(&self) -> StatusResult<()> {
        {
            let mut lifecycle = lock(&self.shared.lifecycle);
            if lifecycle.started {
                return Err(Status::new(
                    ErrorCode::IllegalOperation,
                    "executor already started",
                ));
            }
            if lifecycle.phase == Phase::PreStart {
                lifecycle.phase = Phase::Running;
            }
        }
        self.shared.network.startup()?;
        self.shared.start_workers();
        Ok(())
    }

    /// Shuts down without blocking: nothing new is accepted (ShutdownInProgress) and every pending
    /// callback runs with CallbackCanceled. Repeatable, and callable from a callback.
    pub fn shutdown(&self) {
        let drained = {
            let mut lifecycle = lock(&self.shared.lifecycle);
            if lifecycle.phase == Phase::ShuttingDown {
                return;
            }
            lifecycle.phase = Phase::ShuttingDown;
            lifecycle.outstanding == 0
        };
        tracing::debug!(executor = %self.shared.name, "executor shutting down");
        self.shared.shutdown.cancel();
        if drained {
            self.shared.drained.cancel();
        }
    }

    /// Waits until the executor was shut down and every callback has run, then shuts the network down.
    /// Starts the workers if `startup` never ran, so pending callbacks still run (cancelled).
    pub async fn join(&self) {
        self.shared.start_workers();
        self.shared.drained.cancelled().await;
        let workers = std::mem::take(&mut lock(&self.shared.lifecycle).workers);
        for worker in workers {
            let _ = worker.await;
        }
        self.shared.network.shutdown();
    }

    /// Whether shutdown has been called.
    pub fn is_shutting_down(&self) -> bool {
        self.shared.shutdown.is_cancelled()
    }

    /// The network interface's clock, which every time here is measured on.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        self.shared.network.clock()
    }

    /// The current time on [`clock`](Self::clock).
    pub fn now(&self) -> ClockTime {
        self.clock().now()
    }

    /// The network interface.
    pub fn network(&self) -> &Arc<dyn NetworkInterface> {
        &self.shared.network
    }

    /// Cancels `handle`'s callback: it still runs, with CallbackCanceled (no effect once it has run).
    pub fn cancel(&self, handle: &CallbackHandle) {
        handle.cancel();
    }

    /// Waits until `handle`'s callback has run.
    pub async fn wait(&self, handle: &CallbackHandle) {
        handle.wait().await;
    }

    /// Schedules `completion` to run once `trigger` completes (or with CallbackCanceled on cancel or
    /// shutdown). With a baton, the trigger and the callback run on the baton's task instead.
    pub(crate) fn schedule_with<T, F>(
        &self,
        trigger: F,
        completion: Completion<T>,
        baton: Option<&Baton>,
    ) -> StatusResult<CallbackHandle>
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        let handle = self.shared.begin()?;
        let pending = Pending::new(Arc::clone(&self.shared), handle.clone(), completion);
        let cancel = handle.cancel_token().clone();
        let shutdown = self.shared.shutdown.clone();
        let drive = async move {
            let outcome = tokio::select! {
                biased;
                _ = cancel.cancelled() => Err(callback_canceled()),
                _ = shutdown.cancelled() => Err(callback_canceled()),
                value = trigger => Ok(value),
            };
            // Dropping the trigger above (on cancel or shutdown) is what cancels its network operation.
            pending.into_job(outcome)
        };
        let shared = Arc::clone(&self.shared);
        match baton {
            None => {
                self.shared.runtime.spawn(async move {
                    if let Some(job) = drive.await {
                        shared.enqueue(job);
                    }
                });
            }
            Some(baton) => baton.submit(Box::pin(async move {
                if let Some(job) = drive.await {
                    shared.run_job(job);
                }
            })),
        }
        Ok(handle)
    }

    /// Schedules `completion` to run as soon as a worker is free, with `outcome`.
    pub(crate) fn schedule_ready<T: Send + 'static>(
        &self,
        outcome: T,
        completion: Completion<T>,
    ) -> StatusResult<CallbackHandle> {
        let handle = self.shared.begin()?;
        self.shared
            .enqueue(Job::finishing(handle.clone(), Ok(outcome), completion));
        Ok(handle)
    }
}

impl Shared {
    /// Counts a new callback, or refuses it once shut down.
    pub(crate) fn begin(&self) -> StatusResult<CallbackHandle> {
        let mut lifecycle = lock(&self.lifecycle);
        if lifecycle.phase == Phase::ShuttingDown {
            return Err(shutdown_in_progress());
        }
        lifecycle.outstanding += 1;
        Ok(CallbackHandle::new())
    }

    /// Puts a job on the ready queue and wakes a worker.
    pub(crate) fn enqueue(&self, job: Job) {
        lock(&self.ready).push_back(job);
        self.network.signal_work_available();
    }

    /// Runs `job` here: cancelled (if its handle was cancelled or the executor shut down) or normally.
    pub(crate) fn run_job(self: &Arc<Self>, job: Job) {
        let canceled = job.handle.is_canceled() || self.shutdown.is_cancelled();
        let handle = job.handle.clone();
        let finishes = job.finishes;
        if canceled && !finishes {
            // An exhaust command's intermediate reply after cancellation: the final job reports it.
            return;
        }
        if canceled {
            handle.cancel();
        }
        let executor = TaskExecutor {
            shared: Arc::clone(self),
        };
        job.run(executor, canceled.then(callback_canceled));
        if finishes {
            handle.mark_finished();
            self.callback_done();
        }
    }

    fn callback_done(&self) {
        let drained = {
            let mut lifecycle = lock(&self.lifecycle);
            lifecycle.outstanding = lifecycle.outstanding.saturating_sub(1);
            lifecycle.phase == Phase::ShuttingDown && lifecycle.outstanding == 0
        };
        if drained {
            self.drained.cancel();
        }
    }

    fn start_workers(self: &Arc<Self>) {
        let mut lifecycle = lock(&self.lifecycle);
        if lifecycle.started {
            return;
        }
        lifecycle.started = true;
        for _ in 0..self.worker_count {
            let shared = Arc::clone(self);
            lifecycle.workers.push(self.runtime.spawn(shared.work()));
        }
    }

    fn pop(&self) -> Option<Job> {
        lock(&self.ready).pop_front()
    }

    /// A worker: run ready jobs; when there are none, sleep on the network's work signal.
    async fn work(self: Arc<Self>) {
        loop {
            while let Some(job) = self.pop() {
                self.run_job(job);
                // Let other tasks (triggers, the network) run between callbacks.
                tokio::task::yield_now().await;
            }
            if self.drained.is_cancelled() {
                // Keep the chain of wake-ups going so every worker sees the end.
                self.network.signal_work_available();
                return;
            }
            tokio::select! {
                _ = self.drained.cancelled() => {}
                _ = self.network.wait_for_work() => {}
            }
        }
    }
}
