//! Periodic jobs on the mock clock: first run at start, runs every interval, pause/resume, set_period
//! taking effect at once, stop, and a Client bound during each run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should fail loudly

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use docwire_rpc::ErrorCode;
use docwire_service::{
    Client, Clock, ClockTime, JobState, MockClock, PeriodicJob, PeriodicJobHandle, ServiceContext,
};

/// A job that reports the clock time and its bound Client's description at each run.
fn reporting_job(
    service: &ServiceContext,
    clock: &MockClock,
    interval: Duration,
) -> (PeriodicJobHandle, Receiver<(ClockTime, Option<String>)>) {
    let (tx, rx) = mpsc::channel();
    let clock = clock.clone();
    let job = PeriodicJob::new("reporter", interval, move |client| {
        assert_eq!(client.description(), "reporter");
        let bound = Client::current().map(|c| c.description().to_owned());
        let _ = tx.send((clock.now(), bound));
    });
    (service.periodic_runner().make_job(job), rx)
}

fn setup() -> (ServiceContext, MockClock) {
    let clock = MockClock::new();
    (
        ServiceContext::with_clock(Arc::new(clock.clone())).unwrap(),
        clock,
    )
}

fn at_ms(ms: u64) -> ClockTime {
    ClockTime::from_micros(ms * 1_000)
}

#[test]
fn a_job_runs_at_start_then_every_interval_with_its_client_bound() {
    let (service, clock) = setup();
    let (job, runs) = reporting_job(&service, &clock, Duration::from_secs(1));
    assert_eq!(job.state(), JobState::NotStarted);
    job.start().unwrap();
    assert_eq!(runs.recv().unwrap(), (at_ms(0), Some("reporter".to_owned())));
    clock.advance(Duration::from_millis(999));
    clock.advance(Duration::from_millis(1));
    // Had it run at 999 ms, that run would be reported first.
    assert_eq!(runs.recv().unwrap().0, at_ms(1_000));
    clock.advance(Duration::from_secs(1));
    assert_eq!(runs.recv().unwrap().0, at_ms(2_000));
    assert_eq!(job.start().unwrap_err().code(), ErrorCode::IllegalOperation);
}

#[test]
fn a_paused_job_skips_runs_until_resumed() {
    let (service, clock) = setup();
    let (job, runs) = reporting_job(&service, &clock, Duration::from_secs(1));
    job.start().unwrap();
    runs.recv().unwrap();
    job.pause().unwrap();
    assert_eq!(job.state(), JobState::Paused);
    clock.advance(Duration::from_secs(5));
    job.resume().unwrap();
    // The run that came due while paused happens on resume, at 5 s, not at 1 s.
    assert_eq!(runs.recv().unwrap().0, at_ms(5_000));
    clock.advance(Duration::from_secs(1));
    assert_eq!(runs.recv().unwrap().0, at_ms(6_000));
}

#[test]
fn set_period_takes_effect_at_once() {
    let (service, clock) = setup();
    let (job, runs) = reporting_job(&service, &clock, Duration::from_secs(10));
    job.start().unwrap();
    runs.recv().unwrap();
    // The job is waiting for 10 s; shortening the period re-arms that wait.
    job.set_period(Duration::from_secs(1)).unwrap();
    assert_eq!(job.period(), Duration::from_secs(1));
    clock.advance(Duration::from_secs(1));
    assert_eq!(runs.recv().unwrap().0, at_ms(1_000));
    // Lengthening it delays the next run.
    job.set_period(Duration::from_secs(3)).unwrap();
    clock.advance(Duration::from_secs(2));
    clock.advance(Duration::from_secs(1));
    assert_eq!(runs.recv().unwrap().0, at_ms(4_000));
}

#[test]
fn a_stopped_job_never_runs_again() {
    let (service, clock) = setup();
    let (job, runs) = reporting_job(&service, &clock, Duration::from_secs(1));
    job.start().unwrap();
    runs.recv().unwrap();
    job.stop();
    assert_eq!(job.state(), JobState::Stopped);
    clock.advance(Duration::from_secs(10));
    // The job's thread has exited and dropped the work, closing the channel with no further runs.
    assert!(runs.recv().is_err());
    for result in [
        job.start(),
        job.pause(),
        job.resume(),
        job.set_period(Duration::from_secs(2)),
    ] {
        assert_eq!(result.unwrap_err().code(), ErrorCode::PeriodicJobIsStopped);
    }
    assert!(
        service.clients().is_empty(),
        "the job's Client went with its thread"
    );
}

#[test]
fn dropping_the_handle_stops_the_job() {
    let (service, clock) = setup();
    let (job, runs) = reporting_job(&service, &clock, Duration::from_secs(1));
    job.start().unwrap();
    runs.recv().unwrap();
    drop(job);
    clock.advance(Duration::from_secs(3));
    assert!(runs.recv().is_err());
}

#[test]
fn shutdown_stops_every_job_and_later_jobs_are_born_stopped() {
    let (service, clock) = setup();
    let (running, running_runs) = reporting_job(&service, &clock, Duration::from_secs(1));
    let (never_started, _) = reporting_job(&service, &clock, Duration::from_secs(1));
    running.start().unwrap();
    running_runs.recv().unwrap();
    service.shutdown(Duration::from_secs(1)).unwrap();
    assert_eq!(running.state(), JobState::Stopped);
    assert_eq!(
        never_started.start().unwrap_err().code(),
        ErrorCode::PeriodicJobIsStopped
    );
    clock.advance(Duration::from_secs(5));
    assert!(running_runs.recv().is_err());
    let (late, _) = reporting_job(&service, &clock, Duration::from_secs(1));
    assert_eq!(late.start().unwrap_err().code(), ErrorCode::PeriodicJobIsStopped);
}
