//! The proxy benchmark (`cargo xtask bench proxy`): the same ping and find-by-_id loads straight at a
//! docwire server and through `docwire proxy` in front of it, at 1, 64 and 1,000 client connections, in
//! one run; reports throughput, the ratio, and the latency the proxy adds at p50 and p99. The server and
//! the proxy run as separate processes (release builds of the `docwire` binary); this process is the load
//! generator, speaking OP_MSG over raw TCP so the client's own cost stays small.
//!
//! Then it opens `PROXY_BENCH_IDLE` idle client connections to the proxy (each sends one ping) and reports
//! the proxy's RSS growth per connection and how many upstream connections the server sees meanwhile.
//!
//! Environment: `PROXY_BENCH_SECONDS` (per measurement, default 3), `PROXY_BENCH_CONNECTIONS`
//! (comma-separated, default 1,64,1000), `PROXY_BENCH_POOL` (the proxy's maxPoolSize, default 100),
//! `PROXY_BENCH_IDLE` (default 10000).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bson::{Document, doc};
use docwire_rpc::OpMsgBuilder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Documents preloaded for the find-by-_id load.
const DOCUMENTS: i32 = 1000;

fn main() {
    let seconds: u64 = env_or("PROXY_BENCH_SECONDS", 3);
    let pool: usize = env_or("PROXY_BENCH_POOL", 100);
    let connection_counts: Vec<usize> = std::env::var("PROXY_BENCH_CONNECTIONS")
        .unwrap_or_else(|_| "1,64,1000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let duration = Duration::from_secs(seconds);

    let (mut server, server_port) = spawn(&[
        "--port",
        "0",
        "--storageEngine",
        "inMemory",
        "--logFormat",
        "json",
        "--quiet",
    ]);
    let upstream = format!("127.0.0.1:{server_port}");
    let pool_flag = pool.to_string();
    let (mut proxy, proxy_port) = spawn(&[
        "proxy",
        "--upstream",
        &upstream,
        "--port",
        "0",
        "--nounixsocket",
        "--logFormat",
        "json",
        "--maxPoolSize",
        &pool_flag,
    ]);
    // A proxy beside its server can reach it over the server's Unix socket, as PgBouncer usually does.
    let socket = format!("/tmp/mongodb-{server_port}.sock");
    let (mut unix_proxy, unix_proxy_port) = spawn(&[
        "proxy",
        "--upstream",
        &socket,
        "--port",
        "0",
        "--nounixsocket",
        "--logFormat",
        "json",
        "--maxPoolSize",
        &pool_flag,
    ]);
    runtime.block_on(preload(server_port));
    // Idle clients first, while the pools hold only what the idle clients' one ping each needed.
    let idle: usize = env_or("PROXY_BENCH_IDLE", 10_000);
    let idle_result = runtime.block_on(idle_cost(proxy.id(), proxy_port, server_port, idle));
    eprintln!("idle: {idle_result:?}");

    let mut rows = Vec::new();
    for workload in [Workload::Ping, Workload::FindById] {
        for &n in &connection_counts {
            let direct = runtime.block_on(load(server_port, n, duration, workload));
            for (upstream, port) in [("TCP", proxy_port), ("Unix socket", unix_proxy_port)] {
                let proxied = runtime.block_on(load(port, n, duration, workload));
                eprintln!(
                    "{} x{n}: direct {:.0} ops/s (p50 {:?}), proxy over {upstream} {:.0} ops/s (p50 {:?})",
                    workload.name(),
                    direct.ops_per_sec,
                    direct.p50,
                    proxied.ops_per_sec,
                    proxied.p50
                );
                rows.push((workload, n, upstream, direct.clone(), proxied));
            }
        }
    }
    stop(&mut proxy);
    stop(&mut unix_proxy);
    stop(&mut server);

    let mut table = render(&rows, seconds, pool);
    let _ = writeln!(
        table,
        "\n| idle clients (asked for {idle}) | opened | proxy RSS per client | server connections (current, both proxies' and the probe's) |"
    );
    let _ = writeln!(table, "|---|---:|---:|---:|");
    match idle_result {
        Some((opened, per, upstream)) => {
            let _ = writeln!(
                table,
                "| docwire proxy | {opened} | {:.2} KiB | {upstream} |",
                per / 1024.0
            );
        }
        None => {
            let _ = writeln!(table, "| docwire proxy | n/a | n/a | n/a |");
        }
    }
    println!("{table}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("proxy.md"), &table).unwrap();
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Starts the docwire binary with `args` and returns it with the port it logged.
fn spawn(args: &[&str]) -> (Child, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_docwire"))
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let port = loop {
        let line = lines.next().expect("exited before listening").unwrap();
        if let Some(port) = port_in_line(&line) {
            break port;
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, port)
}

/// The port from a "Waiting for connections" / "Proxy waiting for connections" JSON line.
fn port_in_line(line: &str) -> Option<u16> {
    if !line.contains("aiting for connections") {
        return None;
    }
    let at = line.find("\"port\":")? + "\"port\":".len();
    line[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Workload {
    Ping,
    FindById,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Ping => "ping",
            Workload::FindById => "find by _id",
        }
    }

    /// The requests one connection cycles through.
    fn requests(self, connection: usize) -> Vec<Vec<u8>> {
        match self {
            Workload::Ping => vec![message(&doc! {"ping": 1, "$db": "admin"})],
            Workload::FindById => (0..16)
                .map(|i| {
                    let id = ((connection * 16 + i) % DOCUMENTS as usize) as i32;
                    message(&doc! {
                        "find": "items", "filter": {"_id": id}, "limit": 1, "singleBatch": true,
                        "$db": "bench",
                    })
                })
                .collect(),
        }
    }
}

fn message(body: &Document) -> Vec<u8> {
    let mut m = OpMsgBuilder::default().finish_with_body(body).unwrap();
    m.set_ids(1, 0);
    m.as_bytes().to_vec()
}

async fn read_frame(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<()> {
    buf.resize(16, 0);
    stream.read_exact(&mut buf[..16]).await?;
    let len = i32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    buf.resize(len, 0);
    stream.read_exact(&mut buf[16..]).await?;
    Ok(())
}

async fn preload(port: u16) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let documents: Vec<Document> = (0..DOCUMENTS)
        .map(|i| doc! {"_id": i, "v": "value", "n": i})
        .collect();
    let insert = message(&doc! {"insert": "items", "documents": documents, "$db": "bench"});
    s.write_all(&insert).await.unwrap();
    let mut buf = Vec::new();
    read_frame(&mut s, &mut buf).await.unwrap();
}

#[derive(Clone)]
struct LoadResult {
    ops_per_sec: f64,
    p50: Duration,
    p99: Duration,
}

/// `connections` clients doing round trips of `workload` for `duration`.
async fn load(port: u16, connections: usize, duration: Duration, workload: Workload) -> LoadResult {
    let mut streams = Vec::with_capacity(connections);
    for _ in 0..connections {
        let s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.set_nodelay(true).unwrap();
        streams.push(s);
    }
    // One round trip on every connection first (the proxy opens its upstream connections here).
    let mut buf = Vec::new();
    for (i, s) in streams.iter_mut().enumerate() {
        s.write_all(&workload.requests(i)[0]).await.unwrap();
        read_frame(s, &mut buf).await.unwrap();
    }
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for (i, mut s) in streams.into_iter().enumerate() {
        let requests = workload.requests(i);
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(16_384);
            let mut buf = Vec::with_capacity(256);
            let mut next = 0;
            while Instant::now() < deadline {
                let t = Instant::now();
                s.write_all(&requests[next % requests.len()]).await.unwrap();
                read_frame(&mut s, &mut buf).await.unwrap();
                latencies.push(t.elapsed().as_nanos() as u64);
                next += 1;
            }
            latencies
        });
    }
    let mut all = Vec::new();
    while let Some(l) = tasks.join_next().await {
        all.extend(l.unwrap());
    }
    let elapsed = start.elapsed();
    all.sort_unstable();
    let pct = |p: f64| Duration::from_nanos(all[((all.len() as f64 - 1.0) * p) as usize]);
    LoadResult {
        ops_per_sec: all.len() as f64 / elapsed.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
    }
}

fn ping() -> Vec<u8> {
    message(&doc! {"ping": 1, "$db": "admin"})
}

/// The server's `connections.current` (this query's own connection included).
async fn server_connections(port: u16) -> i64 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(&message(&doc! {"serverStatus": 1, "$db": "admin"}))
        .await
        .unwrap();
    let mut buf = Vec::new();
    read_frame(&mut s, &mut buf).await.unwrap();
    // header (16) + flags (4) + section kind (1), then the body.
    let body = bson::RawDocument::from_bytes(&buf[21..]).unwrap();
    body.get_document("connections")
        .unwrap()
        .get_i32("current")
        .unwrap()
        .into()
}

/// Proxy RSS growth per idle client with `count` clients open (each did one ping), and the server's
/// current connections while they are open.
async fn idle_cost(pid: u32, port: u16, server_port: u16, count: usize) -> Option<(usize, f64, i64)> {
    let mut first = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let mut buf = Vec::new();
    first.write_all(&ping()).await.ok()?;
    read_frame(&mut first, &mut buf).await.ok()?;
    let before = rss_kib(pid)?;
    let mut streams = Vec::with_capacity(count);
    for i in 0..count {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)).await else {
            eprintln!("stopped at {i} connections");
            break;
        };
        let answered = s.write_all(&ping()).await.is_ok() && read_frame(&mut s, &mut buf).await.is_ok();
        if !answered {
            eprintln!("the proxy refused connection {i}: its connection limit");
            break;
        }
        streams.push(s);
    }
    let after = rss_kib(pid)?;
    let upstream = server_connections(server_port).await;
    let opened = streams.len().max(1);
    Some((
        opened,
        after.saturating_sub(before) as f64 * 1024.0 / opened as f64,
        upstream,
    ))
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn micros(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1000.0
}

fn render(rows: &[(Workload, usize, &str, LoadResult, LoadResult)], seconds: u64, pool: usize) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "## proxy benchmarks\n");
    let _ = writeln!(
        t,
        "Round trips over raw OP_MSG connections, {seconds} s per cell, straight at a docwire server \
         (`--storageEngine inMemory`) and through `docwire proxy --maxPoolSize {pool}` in front of it, \
         reaching it over TCP or over its Unix socket (clients always use TCP).\n"
    );
    let _ = writeln!(
        t,
        "| workload | connections | proxy upstream | direct ops/s | proxy ops/s | proxy / direct | direct p50 | \
         proxy p50 | added p50 | direct p99 | proxy p99 | added p99 |"
    );
    let _ = writeln!(t, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (workload, n, upstream, direct, proxied) in rows {
        let _ = writeln!(
            t,
            "| {} | {n} | {upstream} | {:.0} | {:.0} | {:.0}% | {:.1} µs | {:.1} µs | {:+.1} µs | {:.1} µs | {:.1} µs | {:+.1} µs |",
            workload.name(),
            direct.ops_per_sec,
            proxied.ops_per_sec,
            100.0 * proxied.ops_per_sec / direct.ops_per_sec,
            micros(direct.p50),
            micros(proxied.p50),
            micros(proxied.p50) - micros(direct.p50),
            micros(direct.p99),
            micros(proxied.p99),
            micros(proxied.p99) - micros(direct.p99),
        );
    }
    t
}
