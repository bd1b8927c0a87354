//! `PeriodicRunner`: named housekeeping jobs run every interval, each on its own thread with a Client
//! bound, controlled through handles (start, pause, resume, stop, set_period) and stopped at shutdown.
//!
//! As in mongod, a started job runs at once and then each `interval` after its previous start. Waits are
//! on the service's clock, so under a mock clock a job runs exactly when a test advances time.

use std::fmt;
use std::sync::{Arc, Mutex, Weak};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::client::UniqueClient;
use crate::client_binding::ThreadClient;
use crate::clock::{Clock, ClockTime};
use crate::monitor::{Monitor, Wakeable, lock};
use crate::service_context::{ServiceContext, WeakServiceContext};

/// The work a job does on each run, given the job's Client (bound to the thread while it runs).
pub type JobWork = Box<dyn FnMut(&mut UniqueClient) + Send>;

/// A job to register: a name (also its Client's description), an interval, and the work.
pub struct PeriodicJob {
    name: String,
    interval: Duration,
    work: JobWork,
}

impl PeriodicJob {
    /// A job named `name` that runs `work` every `interval`.
    pub fn new(
        name: impl Into<String>,
        interval: Duration,
        work: impl FnMut(&mut UniqueClient) + Send + 'static,
    ) -> PeriodicJob {
        PeriodicJob {
            name: name.into(),
            interval,
            work: Box::new(work),
        }
    }
}

impl fmt::Debug for PeriodicJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeriodicJob")
            .field("name", &self.name)
            .field("interval", &self.interval)
            .finish()
    }
}

/// Where a job is in its life; `Stopped` is final.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    /// Made, not yet started.
    NotStarted,
    /// Running on its interval.
    Running,
    /// Started, but skipping runs until resumed.
    Paused,
    /// Stopped by its handle or by shutdown; it never runs again.
    Stopped,
}

struct JobControl {
    state: JobState,
    period: Duration,
    last_start: Option<ClockTime>,
}

struct JobShared {
    name: String,
    control: Arc<Monitor<JobControl>>,
    work: Mutex<Option<JobWork>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    service: WeakServiceContext,
}

/// Makes periodic jobs and stops them all at shutdown. Owned by the ServiceContext.
///
/// A started job's thread owns a Client, which keeps the ServiceContext alive until the job is stopped
/// (by its handle, or by [`ServiceContext::shutdown`]).
pub struct PeriodicRunner {
    service: WeakServiceContext,
    jobs: Mutex<RunnerJobs>,
}

#[derive(Default)]
struct RunnerJobs {
    jobs: Vec<Weak<JobShared>>,
    shut_down: bool,
}

impl PeriodicRunner {
    pub(crate) fn new(service: WeakServiceContext) -> PeriodicRunner {
        PeriodicRunner {
            service,
            jobs: Mutex::new(RunnerJobs::default()),
        }
    }

    /// Registers `job`, not yet started. After shutdown the job is born stopped.
    pub fn make_job(&self, job: PeriodicJob) -> PeriodicJobHandle {
        let mut jobs = lock(&self.jobs);
        let state = if jobs.shut_down {
            JobState::Stopped
        } else {
            JobState::NotStarted
        };
        let shared = Arc::new(JobShared {
            name: job.name,
            control: Arc::new(Monitor::new(JobControl {
                state,
                period: job.interval,
                last_start: None,
            })),
            work: Mutex::new(Some(job.work)),
            thread: Mutex::new(None),
            service: self.service.clone(),
        });
        jobs.jobs.retain(|job| job.strong_count() > 0);
        jobs.jobs.push(Arc::downgrade(&shared));
        PeriodicJobHandle { shared }
    }

    /// Stops every job (without waiting for a run in progress); later jobs are born stopped.
    pub(crate) fn shut_down(&self) {
        let jobs: Vec<Arc<JobShared>> = {
            let mut jobs = lock(&self.jobs);
            jobs.shut_down = true;
            jobs.jobs.iter().filter_map(Weak::upgrade).collect()
        };
        for job in jobs {
            job.control.update(|control| control.state = JobState::Stopped);
        }
    }
}

impl fmt::Debug for PeriodicRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeriodicRunner").finish_non_exhaustive()
    }
}

/// Controls one job. Dropping the handle stops the job and waits for its thread.
pub struct PeriodicJobHandle {
    shared: Arc<JobShared>,
}

fn job_is_stopped(name: &str) -> Status {
    Status::new(
        ErrorCode::PeriodicJobIsStopped,
        format!("the periodic job '{name}' is stopped"),
    )
}

impl PeriodicJobHandle {
    /// The job's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Where the job is in its life.
    pub fn state(&self) -> JobState {
        self.shared.control.lock().state
    }

    /// The current interval.
    pub fn period(&self) -> Duration {
        self.shared.control.lock().period
    }

    /// Starts the job on its own thread; its first run is immediate. PeriodicJobIsStopped once stopped,
    /// IllegalOperation if already started.
    pub fn start(&self) -> StatusResult<()> {
        let mut control = self.shared.control.lock();
        match control.state {
            JobState::NotStarted => {}
            JobState::Stopped => return Err(job_is_stopped(&self.shared.name)),
            JobState::Running | JobState::Paused => {
                return Err(Status::new(
                    ErrorCode::IllegalOperation,
                    "the periodic job was already started",
                ));
            }
        }
        let service = self
            .shared
            .service
            .upgrade()
            .ok_or_else(|| job_is_stopped(&self.shared.name))?;
        let work = lock(&self.shared.work)
            .take()
            .ok_or_else(|| job_is_stopped(&self.shared.name))?;
        let job = Arc::clone(&self.shared);
        let thread = thread::Builder::new()
            .name(format!("job-{}", self.shared.name))
            .spawn(move || job.run(service, work))
            .map_err(|e| Status::new(ErrorCode::InternalError, format!("cannot start job thread: {e}")))?;
        *lock(&self.shared.thread) = Some(thread);
        control.state = JobState::Running;
        drop(control);
        self.shared.control.notify_all();
        Ok(())
    }

    /// Skips runs until resumed. PeriodicJobIsStopped once stopped.
    pub fn pause(&self) -> StatusResult<()> {
        self.change(|control| {
            if control.state == JobState::Running {
                control.state = JobState::Paused;
            }
        })
    }

    /// Resumes a paused job; if a run came due while paused, it runs at once.
    pub fn resume(&self) -> StatusResult<()> {
        self.change(|control| {
            if control.state == JobState::Paused {
                control.state = JobState::Running;
            }
        })
    }

    /// Changes the interval, effective at once: the next run is due `period` after the previous start.
    pub fn set_period(&self, period: Duration) -> StatusResult<()> {
        self.change(|control| control.period = period)
    }

    /// Stops the job for good and waits for a run in progress to finish. Idempotent.
    pub fn stop(&self) {
        self.shared
            .control
            .update(|control| control.state = JobState::Stopped);
        let thread = lock(&self.shared.thread).take();
        if let Some(thread) = thread
            && thread.thread().id() != thread::current().id()
            && thread.join().is_err()
        {
            tracing::warn!(job = %self.shared.name, "periodic job panicked");
        }
    }

    fn change(&self, change: impl FnOnce(&mut JobControl)) -> StatusResult<()> {
        self.shared.control.update(|control| {
            if control.state == JobState::Stopped {
                return Err(job_is_stopped(&self.shared.name));
            }
            change(control);
            Ok(())
        })
    }
}

impl Drop for PeriodicJobHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

impl fmt::Debug for PeriodicJobHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeriodicJobHandle")
            .field("name", &self.shared.name)
            .field("state", &self.state())
            .finish()
    }
}

impl JobShared {
    /// The job thread: wait until running and due, run, repeat; return once stopped.
    fn run(&self, service: ServiceContext, mut work: JobWork) {
        let clock = Arc::clone(service.clock());
        let client = match service
            .make_client(self.name.clone(), None)
            .and_then(ThreadClient::new)
        {
            Ok(client) => client,
            Err(status) => {
                tracing::warn!(job = %self.name, %status, "periodic job could not make its client");
                self.control.update(|control| control.state = JobState::Stopped);
                return;
            }
        };
        // The Client keeps the ServiceContext alive while the job runs; no second reference is needed.
        drop(service);
        let mut client = client;
        while self.wait_until_due(clock.as_ref()) {
            work(&mut client);
        }
    }

    /// Waits until the job is running and due; records the run's start. False once stopped.
    fn wait_until_due(&self, clock: &dyn Clock) -> bool {
        let mut control = self.control.lock();
        loop {
            let mut _alarm = None;
            match control.state {
                JobState::Stopped => return false,
                JobState::NotStarted | JobState::Paused => {}
                JobState::Running => {
                    let due = control
                        .last_start
                        .map(|start| start.saturating_add(control.period));
                    match due {
                        Some(at) if clock.now() < at => {
                            let waker = Arc::clone(&self.control);
                            let alarm = clock.set_alarm(at, Box::new(move || waker.wake()));
                            if !alarm.is_due() {
                                _alarm = Some(alarm);
                            } else {
                                control.last_start = Some(clock.now());
                                return true;
                            }
                        }
                        _ => {
                            control.last_start = Some(clock.now());
                            return true;
                        }
                    }
                }
            }
            // Woken by the alarm, or by a handle changing state or period.
            control = self.control.wait(control);
        }
    }
}
