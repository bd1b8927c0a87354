//! Checkout + return throughput over a pool of 8 fake connections at 1, 8 and 64 concurrent tasks:
//! docwire's ConnectionPool against deadpool and bb8, with the same fake connection, in the same run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use docwire_pool::{ConnectionFactory, ConnectionInterface, ConnectionPool, Options};
use docwire_rpc::StatusResult;
use docwire_service::{Clock, ClockTime, SystemClock};
use tokio::runtime::Runtime;

const POOL_SIZE: usize = 8;
const HOST: &str = "bench:27017";

/// The fake connection every pool hands out: no I/O, just an id and what the pool interface needs.
struct FakeConn {
    id: u64,
    generation: u64,
    last_used: ClockTime,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn fake(generation: u64, now: ClockTime) -> FakeConn {
    FakeConn {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        generation,
        last_used: now,
    }
}

impl ConnectionInterface for FakeConn {
    fn host(&self) -> &str {
        HOST
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
        true
    }
    async fn setup(&mut self, _timeout: Duration) -> StatusResult<()> {
        Ok(())
    }
    async fn refresh(&mut self, _timeout: Duration) -> StatusResult<()> {
        Ok(())
    }
}

struct Factory;

impl ConnectionFactory for Factory {
    type Connection = FakeConn;
    fn make_connection(&self, _host: &str, generation: u64, now: ClockTime) -> FakeConn {
        fake(generation, now)
    }
}

struct DeadpoolManager;

impl deadpool::managed::Manager for DeadpoolManager {
    type Type = FakeConn;
    type Error = Infallible;
    async fn create(&self) -> Result<FakeConn, Infallible> {
        Ok(fake(0, ClockTime::ZERO))
    }
    async fn recycle(
        &self,
        _conn: &mut FakeConn,
        _: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<Infallible> {
        Ok(())
    }
}

struct Bb8Manager;

impl bb8::ManageConnection for Bb8Manager {
    type Connection = FakeConn;
    type Error = Infallible;
    async fn connect(&self) -> Result<FakeConn, Infallible> {
        Ok(fake(0, ClockTime::ZERO))
    }
    async fn is_valid(&self, _conn: &mut FakeConn) -> Result<(), Infallible> {
        Ok(())
    }
    fn has_broken(&self, _conn: &mut FakeConn) -> bool {
        false
    }
}

/// Runs `iters` checkout+return cycles split over `tasks` tasks and returns the wall time.
fn run<F, Fut>(rt: &Runtime, tasks: usize, iters: u64, op: F) -> Duration
where
    F: Fn() -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = u64> + Send,
{
    let per_task = (iters / tasks as u64).max(1);
    rt.block_on(async move {
        let start = Instant::now();
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let op = op.clone();
                tokio::spawn(async move {
                    let mut sum = 0;
                    for _ in 0..per_task {
                        sum += op().await;
                    }
                    sum
                })
            })
            .collect();
        for handle in handles {
            std::hint::black_box(handle.await.unwrap());
        }
        start.elapsed()
    })
}

fn checkout_return(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let docwire = rt.block_on(async {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock::new().unwrap());
        let options = Options {
            min_connections: POOL_SIZE,
            max_connections: POOL_SIZE,
            max_connecting: POOL_SIZE,
            ..Options::default()
        };
        let pool = Arc::new(ConnectionPool::new("bench", Factory, clock, options).unwrap());
        let warm: Vec<_> = (0..POOL_SIZE).map(|_| pool.get(HOST, None)).collect();
        for get in warm {
            get.await.unwrap().indicate_success();
        }
        pool
    });
    let deadpool = rt.block_on(async {
        let pool: deadpool::managed::Pool<DeadpoolManager> =
            deadpool::managed::Pool::builder(DeadpoolManager)
                .max_size(POOL_SIZE)
                .build()
                .unwrap();
        let warm: Vec<_> = futures::future::join_all((0..POOL_SIZE).map(|_| pool.get())).await;
        drop(warm);
        pool
    });
    let bb8 = rt.block_on(async {
        bb8::Pool::builder()
            .max_size(POOL_SIZE as u32)
            .min_idle(Some(POOL_SIZE as u32))
            .test_on_check_out(false)
            .build(Bb8Manager)
            .await
            .unwrap()
    });

    let mut group = c.benchmark_group("pool_checkout_return");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for tasks in [1usize, 8, 64] {
        let pool = Arc::clone(&docwire);
        group.bench_function(BenchmarkId::new("docwire", tasks), |b| {
            b.iter_custom(|iters| {
                let pool = Arc::clone(&pool);
                run(&rt, tasks, iters, move || {
                    let pool = Arc::clone(&pool);
                    async move {
                        let mut handle = pool.get(HOST, None).await.unwrap();
                        let id = handle.id;
                        handle.indicate_success();
                        id
                    }
                })
            })
        });
        let pool = deadpool.clone();
        group.bench_function(BenchmarkId::new("deadpool", tasks), |b| {
            b.iter_custom(|iters| {
                let pool = pool.clone();
                run(&rt, tasks, iters, move || {
                    let pool = pool.clone();
                    async move { pool.get().await.unwrap().id }
                })
            })
        });
        let pool = bb8.clone();
        group.bench_function(BenchmarkId::new("bb8", tasks), |b| {
            b.iter_custom(|iters| {
                let pool = pool.clone();
                run(&rt, tasks, iters, move || {
                    let pool = pool.clone();
                    async move { pool.get().await.unwrap().id }
                })
            })
        });
    }
    group.finish();
}

criterion_group!(pool, checkout_return);
criterion_main!(pool);
