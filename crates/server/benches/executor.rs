//! The executor benchmark (`cargo xtask bench executor`): `TaskExecutor::schedule_work` throughput and
//! latency (schedule → callback start) against plain `tokio::spawn` doing the same trivial work, then
//! `{ping: 1}` round trips per second through `TaskExecutor::run_remote_command` over the real network
//! interface (`RealNetwork`: the pool's connections and the async client) against `AsyncDbClient`
//! used directly, at concurrency 1 (one connection) and 16 (sixteen clients). The docwire server runs
//! in this process (`--storageEngine inMemory --nounixsocket --port 0`) on the same tokio runtime.
//! Prints a markdown table and writes it to target/bench/executor.md.
//!
//! Environment: `EXECUTOR_BENCH_SECONDS` (per row, default 2.5), `EXECUTOR_BENCH_WINDOW` (callbacks
//! in flight for the schedule rows, default 64), `EXECUTOR_BENCH_WORKERS` (executor workers, default 4).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bson::doc;
use docwire_executor::network::real::{RealNetwork, RealNetworkOptions};
use docwire_executor::{ExecutorOptions, TaskExecutor};
use docwire_service::{Clock, SystemClock};
use docwire_transport::client::{AsyncDbClient, ClientOptions, RemoteCommandRequest};
use tokio::sync::Semaphore;

/// Concurrency of the second pair of remote rows.
const CONCURRENCY: usize = 16;
/// Warm-up before each remote row (connections opened, caches warm).
const WARM_UP: Duration = Duration::from_millis(200);

fn main() {
    // `cargo bench` passes --bench; anything else (e.g. a filter) is ignored.
    let seconds: f64 = env_or("EXECUTOR_BENCH_SECONDS", 2.5);
    let window: usize = env_or("EXECUTOR_BENCH_WINDOW", 64);
    let workers: usize = env_or("EXECUTOR_BENCH_WORKERS", 4);
    let duration = Duration::from_secs_f64(seconds);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);

    let rows = runtime.block_on(async {
        let settings = docwire_server::Settings::from_flags([
            "--storageEngine",
            "inMemory",
            "--nounixsocket",
            "--port",
            "0",
        ])
        .unwrap();
        let server = docwire_server::start(&settings, None).await.unwrap();
        let host = server.addrs[0].to_string();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock::new().unwrap());
        let network = RealNetwork::new(
            RealNetworkOptions {
                name: "executor-bench".into(),
                ..RealNetworkOptions::default()
            },
            clock,
        )
        .unwrap();
        let executor = TaskExecutor::new(
            Arc::new(network),
            ExecutorOptions {
                name: "bench".into(),
                workers,
            },
        )
        .unwrap();
        executor.startup().unwrap();

        let mut rows = Vec::new();
        let mut row = |name: &str, concurrency: usize, result: Measured| {
            eprintln!(
                "{name} x{concurrency}: {:.0} ops/s p50 {:?} p99 {:?}",
                result.ops_per_sec, result.p50, result.p99
            );
            rows.push((name.to_owned(), concurrency, result));
        };

        row(
            "schedule_work",
            window,
            schedule_rate(window, duration, |work| {
                executor.schedule_work(move |_| work()).unwrap();
            })
            .await,
        );
        row(
            "tokio::spawn",
            window,
            schedule_rate(window, duration, |work| {
                tokio::spawn(async move { work() });
            })
            .await,
        );
        for concurrency in [1, CONCURRENCY] {
            row(
                "run_remote_command (RealNetwork)",
                concurrency,
                executor_pings(&executor, &host, concurrency, duration).await,
            );
            row(
                "AsyncDbClient",
                concurrency,
                client_pings(&host, concurrency, duration).await,
            );
        }

        executor.shutdown();
        executor.join().await;
        server.shutdown(Duration::from_secs(5)).await;
        rows
    });

    let table = render(&rows, seconds, workers, threads);
    println!("{table}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("executor.md"), &table).unwrap();
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Measured {
    ops_per_sec: f64,
    p50: Duration,
    p99: Duration,
}

/// A log-linear latency histogram (16 buckets per power of two, about 6% resolution) that any thread
/// can record into without a lock.
struct Histogram {
    buckets: Vec<AtomicU64>,
}

impl Histogram {
    fn new() -> Histogram {
        Histogram {
            buckets: (0..1024).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn bucket(nanos: u64) -> usize {
        if nanos < 16 {
            return nanos as usize;
        }
        let exp = 63 - nanos.leading_zeros() as usize;
        let sub = ((nanos >> (exp - 4)) & 15) as usize;
        (exp - 3) * 16 + sub
    }

    /// The smallest value in bucket `index`.
    fn lower_bound(index: usize) -> u64 {
        if index < 16 {
            return index as u64;
        }
        let exp = index / 16 + 3;
        (16 + (index % 16) as u64) << (exp - 4)
    }

    fn record(&self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.buckets[Self::bucket(nanos)].fetch_add(1, Ordering::Relaxed);
    }

    fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    fn percentile(&self, p: f64) -> Duration {
        let total = self.count();
        let rank = ((total as f64 - 1.0) * p) as u64;
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Ordering::Relaxed);
            if seen > rank {
                return Duration::from_nanos(Self::lower_bound(i));
            }
        }
        Duration::ZERO
    }

    fn measured(&self, elapsed: Duration) -> Measured {
        Measured {
            ops_per_sec: self.count() as f64 / elapsed.as_secs_f64(),
            p50: self.percentile(0.50),
            p99: self.percentile(0.99),
        }
    }
}

/// Schedules trivial work for `duration` through `schedule`, keeping `window` callbacks in flight;
/// each callback records the time from just before its scheduling to its start.
async fn schedule_rate(
    window: usize,
    duration: Duration,
    schedule: impl Fn(Box<dyn FnOnce() + Send>),
) -> Measured {
    let in_flight = Arc::new(Semaphore::new(window));
    let histogram = Arc::new(Histogram::new());
    let start = Instant::now();
    let deadline = start + duration;
    while Instant::now() < deadline {
        let permit = Arc::clone(&in_flight).acquire_owned().await.unwrap();
        let histogram = Arc::clone(&histogram);
        let scheduled = Instant::now();
        schedule(Box::new(move || {
            histogram.record(scheduled.elapsed());
            drop(permit);
        }));
    }
    // Every callback has run once all the permits are back.
    let all = u32::try_from(window).unwrap();
    drop(in_flight.acquire_many(all).await.unwrap());
    histogram.measured(start.elapsed())
}

fn ping(host: &str) -> RemoteCommandRequest {
    RemoteCommandRequest::new(host, "admin", doc! {"ping": 1})
}

/// `concurrency` tasks each running ping through the executor and the real network interface.
async fn executor_pings(
    executor: &TaskExecutor,
    host: &str,
    concurrency: usize,
    duration: Duration,
) -> Measured {
    let run = |histogram: Arc<Histogram>, until: Instant| {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..concurrency {
            let executor = executor.clone();
            let histogram = Arc::clone(&histogram);
            let host = host.to_owned();
            tasks.spawn(async move {
                while Instant::now() < until {
                    let t = Instant::now();
                    let reply = executor.run_remote_command(ping(&host), None).await;
                    reply.status.expect("ping reaches the server");
                    assert_eq!(reply.data.get_f64("ok").ok(), Some(1.0), "{:?}", reply.data);
                    histogram.record(t.elapsed());
                }
            });
        }
        tasks
    };
    run(Arc::new(Histogram::new()), Instant::now() + WARM_UP)
        .join_all()
        .await;
    let histogram = Arc::new(Histogram::new());
    let start = Instant::now();
    run(Arc::clone(&histogram), start + duration).join_all().await;
    histogram.measured(start.elapsed())
}

/// `concurrency` clients, one connection each, running ping directly.
async fn client_pings(host: &str, concurrency: usize, duration: Duration) -> Measured {
    let mut clients = Vec::new();
    for _ in 0..concurrency {
        let client = AsyncDbClient::connect(host, Duration::from_secs(10), &ClientOptions::default())
            .await
            .unwrap();
        clients.push(client);
    }
    let run = |clients: Vec<AsyncDbClient>, histogram: Arc<Histogram>, until: Instant| {
        let mut tasks = tokio::task::JoinSet::new();
        for mut client in clients {
            let histogram = Arc::clone(&histogram);
            tasks.spawn(async move {
                while Instant::now() < until {
                    let t = Instant::now();
                    let reply = client.run_command("admin", doc! {"ping": 1}).await.unwrap();
                    assert_eq!(reply.get_f64("ok").ok(), Some(1.0), "{reply:?}");
                    histogram.record(t.elapsed());
                }
                client
            });
        }
        tasks
    };
    let clients = run(clients, Arc::new(Histogram::new()), Instant::now() + WARM_UP)
        .join_all()
        .await;
    let histogram = Arc::new(Histogram::new());
    let start = Instant::now();
    run(clients, Arc::clone(&histogram), start + duration)
        .join_all()
        .await;
    histogram.measured(start.elapsed())
}

fn render(rows: &[(String, usize, Measured)], seconds: f64, workers: usize, threads: usize) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "## executor benchmarks\n");
    let _ = writeln!(
        t,
        "{seconds} s per row, one tokio multi-thread runtime ({threads} threads) shared by the executor \
         ({workers} workers), the load and the in-process docwire server (inMemory). Schedule rows: trivial \
         callbacks with the concurrency column's count in flight, latency from scheduling to callback \
         start (it includes queueing behind the other callbacks in flight); the ratio is against tokio::spawn. \
         Remote rows: `{{ping: 1}}` round trips by that many concurrent callers; AsyncDbClient uses one \
         connection per caller, RealNetwork's pool opens what it needs; the ratio is against AsyncDbClient \
         at the same concurrency. Percentiles are histogram bucket lower bounds (about 6% resolution).\n"
    );
    let _ = writeln!(t, "| path | concurrency | ops/s | p50 | p99 | vs baseline |");
    let _ = writeln!(t, "|---|---:|---:|---:|---:|---:|");
    for (name, n, r) in rows {
        let baseline = if name == "schedule_work" {
            rows.iter().find(|(b, _, _)| b == "tokio::spawn")
        } else if name.starts_with("run_remote_command") {
            rows.iter().find(|(b, bn, _)| b == "AsyncDbClient" && bn == n)
        } else {
            None
        };
        let ratio = baseline.map_or(String::new(), |(_, _, b)| {
            format!("{:.0}%", 100.0 * r.ops_per_sec / b.ops_per_sec)
        });
        let _ = writeln!(
            t,
            "| {name} | {n} | {:.0} | {:.1} µs | {:.1} µs | {ratio} |",
            r.ops_per_sec,
            micros(r.p50),
            micros(r.p99)
        );
    }
    t
}

fn micros(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1000.0
}
