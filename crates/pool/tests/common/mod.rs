//! Fake connections for the pool tests: a setup or refresh finishes when the test pushes its result.
//!
//! Like mongod's connection_pool_test_fixture: `push_setup` / `push_refresh` answer the oldest waiting
//! connection, or are kept for the next one; `setup_queue_depth` / `refresh_queue_depth` count waiters.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use docwire_pool::{
    ConnectionFactory, ConnectionFuture, ConnectionHandle, ConnectionInterface, ConnectionPool, Options,
};
use docwire_rpc::{ErrorCode, Status, StatusResult};
use docwire_service::{Clock, ClockTime, MockClock};
use futures::FutureExt;
use tokio::sync::oneshot;

/// Results and waiters for one kind of work (setup or refresh).
#[derive(Default)]
struct Queue {
    results: VecDeque<StatusResult<()>>,
    waiters: VecDeque<oneshot::Sender<StatusResult<()>>>,
    started: usize,
}

impl Queue {
    fn push(&mut self, result: StatusResult<()>) {
        while let Some(waiter) = self.waiters.pop_front() {
            if !waiter.is_closed() {
                let _ = waiter.send(result);
                return;
            }
        }
        self.results.push_back(result);
    }

    fn depth(&mut self) -> usize {
        self.waiters.retain(|w| !w.is_closed());
        self.waiters.len()
    }

    /// The result at once, or a receiver to wait on.
    fn start(&mut self, auto: bool) -> Result<StatusResult<()>, oneshot::Receiver<StatusResult<()>>> {
        self.started += 1;
        if auto {
            return Ok(Ok(()));
        }
        if let Some(result) = self.results.pop_front() {
            return Ok(result);
        }
        let (tx, rx) = oneshot::channel();
        self.waiters.push_back(tx);
        Err(rx)
    }
}

#[derive(Default)]
struct Script {
    setup: Queue,
    refresh: Queue,
    auto: bool,
    next_id: u64,
    live: usize,
}

/// The factory and remote control for fake connections.
#[derive(Clone, Default)]
pub struct Fake {
    script: Arc<Mutex<Script>>,
}

impl Fake {
    /// Setups and refreshes wait for pushed results.
    pub fn scripted() -> Fake {
        Fake::default()
    }

    /// Setups and refreshes succeed at once.
    pub fn auto() -> Fake {
        let fake = Fake::default();
        fake.script.lock().unwrap().auto = true;
        fake
    }

    pub fn push_setup(&self, result: StatusResult<()>) {
        self.script.lock().unwrap().setup.push(result);
    }

    pub fn push_refresh(&self, result: StatusResult<()>) {
        self.script.lock().unwrap().refresh.push(result);
    }

    pub fn setup_queue_depth(&self) -> usize {
        self.script.lock().unwrap().setup.depth()
    }

    pub fn refresh_queue_depth(&self) -> usize {
        self.script.lock().unwrap().refresh.depth()
    }

    pub fn setups_started(&self) -> usize {
        self.script.lock().unwrap().setup.started
    }

    pub fn refreshes_started(&self) -> usize {
        self.script.lock().unwrap().refresh.started
    }

    /// Fake connections alive now (made and not yet dropped).
    pub fn live(&self) -> usize {
        self.script.lock().unwrap().live
    }
}

/// A fake connection: an id, and setup/refresh answered by the script.
pub struct FakeConnection {
    id: u64,
    host: String,
    generation: u64,
    last_used: ClockTime,
    healthy: Arc<AtomicBool>,
    script: Arc<Mutex<Script>>,
}

impl FakeConnection {
    pub fn id(&self) -> u64 {
        self.id
    }

    /// A switch the test can flip to make this connection report itself unhealthy.
    pub fn health_switch(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.healthy)
    }

    async fn work(&self, refresh: bool) -> StatusResult<()> {
        let start = {
            let mut script = self.script.lock().unwrap();
            let auto = script.auto;
            if refresh {
                script.refresh.start(auto)
            } else {
                script.setup.start(auto)
            }
        };
        match start {
            Ok(result) => result,
            Err(rx) => rx
                .await
                .unwrap_or_else(|_| Err(Status::new(ErrorCode::InternalError, "script dropped"))),
        }
    }
}

impl Drop for FakeConnection {
    fn drop(&mut self) {
        self.script.lock().unwrap().live -= 1;
    }
}

impl ConnectionInterface for FakeConnection {
    fn host(&self) -> &str {
        &self.host
    }

    fn generation(&self) -> u64 {
        self.generation
    }

    fn last_used(&self) -> ClockTime {
        self.last_used
    }

    fn indicate_used(&mut self, now: ClockTime) {
        self.last_used = now;
    }

    fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::SeqCst)
    }

    async fn setup(&mut self, _timeout: Duration) -> StatusResult<()> {
        self.work(false).await
    }

    async fn refresh(&mut self, _timeout: Duration) -> StatusResult<()> {
        self.work(true).await
    }
}

impl ConnectionFactory for Fake {
    type Connection = FakeConnection;

    fn make_connection(&self, host: &str, generation: u64, now: ClockTime) -> FakeConnection {
        let mut script = self.script.lock().unwrap();
        script.next_id += 1;
        script.live += 1;
        FakeConnection {
            id: script.next_id,
            host: host.to_owned(),
            generation,
            last_used: now,
            healthy: Arc::new(AtomicBool::new(true)),
            script: Arc::clone(&self.script),
        }
    }
}

pub type Pool = ConnectionPool<FakeConnection>;
pub type Handle = ConnectionHandle<FakeConnection>;
pub type Get = ConnectionFuture<FakeConnection>;

/// A pool named "test pool" over scripted fakes on a fresh mock clock.
pub fn make_pool(options: Options) -> (Pool, Fake, MockClock) {
    make_pool_with(options, Fake::scripted())
}

pub fn make_pool_with(options: Options, fake: Fake) -> (Pool, Fake, MockClock) {
    let clock = MockClock::new();
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let pool = ConnectionPool::new("test pool", fake.clone(), shared, options).unwrap();
    (pool, fake, clock)
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Lets spawned setup and refresh tasks run to their next wait (current-thread runtime).
pub async fn settle() {
    for _ in 0..64 {
        tokio::task::yield_now().await;
    }
}

/// Pushes a setup result and lets it take effect.
pub async fn push_setup(fake: &Fake, result: StatusResult<()>) {
    settle().await;
    fake.push_setup(result);
    settle().await;
}

/// Pushes a refresh result and lets it take effect.
pub async fn push_refresh(fake: &Fake, result: StatusResult<()>) {
    settle().await;
    fake.push_refresh(result);
    settle().await;
}

/// Moves the clock to `at` after the start, and lets woken tasks run.
pub async fn set_now(clock: &MockClock, at: Duration) {
    settle().await;
    let target = ClockTime::ZERO.saturating_add(at);
    clock.advance(target.saturating_duration_since(clock.now()));
    settle().await;
}

/// The answer, if there is one already.
pub fn poll_now(get: &mut Get) -> Option<StatusResult<Handle>> {
    get.now_or_never()
}

/// The connection from an answered request; panics if unanswered or failed.
pub fn conn(get: &mut Get) -> Handle {
    match poll_now(get) {
        Some(Ok(handle)) => handle,
        Some(Err(status)) => panic!("get failed: {status}"),
        None => panic!("get not answered yet"),
    }
}

/// The error from an answered request; panics if unanswered or successful.
pub fn error(get: &mut Get) -> Status {
    match poll_now(get) {
        Some(Err(status)) => status,
        Some(Ok(handle)) => panic!("get succeeded with connection {}", handle.id()),
        None => panic!("get not answered yet"),
    }
}

/// Marks the connection good and returns it (mongod's `doneWith`).
pub fn done_with(mut handle: Handle) -> u64 {
    let id = handle.id();
    handle.indicate_success();
    drop(handle);
    id
}

/// A small seeded generator (xorshift64*), so shuffles and stress runs repeat exactly.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}
