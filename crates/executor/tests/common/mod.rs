//! Shared fixtures: an executor over the mock network on a mock clock, and result recorders.
#![allow(dead_code)] // each test file uses a different part of the fixture

use std::sync::{Arc, Mutex};
use std::time::Duration;

use docwire_executor::network::mock::MockNetwork;
use docwire_executor::{CallbackArgs, ExecutorOptions, RemoteCommandCallbackArgs, TaskExecutor};
use docwire_rpc::{ErrorCode, StatusResult};
use docwire_service::{ClockTime, MockClock};
use docwire_transport::client::RemoteCommandOnAnyResponse;

/// An executor, its mock network and the clock both run on.
pub struct Fixture {
    pub clock: MockClock,
    pub net: MockNetwork,
    pub executor: TaskExecutor,
}

pub fn fixture_with_workers(workers: usize) -> Fixture {
    let clock = MockClock::new();
    let net = MockNetwork::new(clock.clone());
    let executor = TaskExecutor::new(
        Arc::new(net.clone()),
        ExecutorOptions {
            name: "test".into(),
            workers,
        },
    )
    .unwrap();
    Fixture { clock, net, executor }
}

pub fn started() -> Fixture {
    let f = fixture_with_workers(2);
    f.executor.startup().unwrap();
    f
}

pub fn at_ms(ms: u64) -> ClockTime {
    ClockTime::from_micros(ms * 1000)
}

pub fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

pub fn code<T>(result: &StatusResult<T>) -> ErrorCode {
    match result {
        Ok(_) => ErrorCode::OK,
        Err(status) => status.code(),
    }
}

/// Records what callbacks saw, in the order they ran.
#[derive(Clone)]
pub struct Recorder<T> {
    seen: Arc<Mutex<Vec<T>>>,
}

impl<T> Default for Recorder<T> {
    fn default() -> Self {
        Recorder {
            seen: Arc::new(Mutex::new(Vec::new())),
        }
    }
}

impl<T: Clone + Send + 'static> Recorder<T> {
    pub fn push(&self, value: T) {
        self.seen.lock().unwrap().push(value);
    }

    pub fn seen(&self) -> Vec<T> {
        self.seen.lock().unwrap().clone()
    }
}

impl Recorder<ErrorCode> {
    /// A work callback recording the status code it ran with.
    pub fn work(&self) -> impl FnOnce(CallbackArgs) + Send + 'static {
        let me = self.clone();
        move |args| me.push(code(&args.status))
    }
}

impl Recorder<RemoteCommandOnAnyResponse> {
    /// A remote-command callback recording the response.
    pub fn remote(&self) -> impl FnMut(RemoteCommandCallbackArgs) + Send + 'static {
        let me = self.clone();
        move |args| me.push(args.response)
    }
}
