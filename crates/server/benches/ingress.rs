//! The ingress benchmark (`cargo xtask bench ingress`): N connections doing ping round trips for a fixed
//! time against docwire (both service executors) and against a minimal tokio server that answers each
//! frame with a canned reply of the same size (this machine's physical limit), then the RSS each idle
//! connection costs docwire with 10,000 of them open. Servers run as separate processes; this process is
//! the load generator. Prints a markdown table and writes it to target/bench/ingress.md.
//!
//! Environment: `INGRESS_SECONDS` (per measurement, default 3), `INGRESS_IDLE` (idle connections, default
//! 10000), `INGRESS_CONNECTIONS` (comma-separated, default 1,16,64,256).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bson::doc;
use docwire_rpc::{Message, OpMsgBuilder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ECHO_FLAG: &str = "--ingress-echo-server";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == ECHO_FLAG) {
        return echo_server();
    }
    // `cargo bench` passes --bench; anything else (e.g. a filter) is ignored.
    let seconds: u64 = env_or("INGRESS_SECONDS", 3);
    let idle: usize = env_or("INGRESS_IDLE", 10_000);
    let connection_counts: Vec<usize> = std::env::var("INGRESS_CONNECTIONS")
        .unwrap_or_else(|_| "1,16,64,256".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let duration = Duration::from_secs(seconds);

    let mut rows = Vec::new();
    for target in [
        Target::Echo,
        Target::Docwire("async"),
        Target::Docwire("synchronous"),
    ] {
        let (mut child, port) = target.spawn();
        for &n in &connection_counts {
            let result = runtime.block_on(load(port, n, duration));
            eprintln!(
                "{} x{n}: {:.0} ops/s p50 {:?} p99 {:?}",
                target.name(),
                result.ops_per_sec,
                result.p50,
                result.p99
            );
            rows.push((target.name(), n, result));
        }
        stop(&mut child);
    }

    let mut idle_rows = Vec::new();
    for executor in ["async", "synchronous"] {
        let (mut child, port) = Target::Docwire(executor).spawn();
        let per_conn = runtime.block_on(idle_cost(child.id(), port, idle));
        eprintln!("idle {executor}: {per_conn:?}");
        idle_rows.push((executor, per_conn));
        stop(&mut child);
    }

    let table = render(&rows, &idle_rows, seconds, idle);
    println!("{table}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ingress.md"), &table).unwrap();
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Copy)]
enum Target {
    Echo,
    Docwire(&'static str),
}

impl Target {
    fn name(self) -> String {
        match self {
            Target::Echo => "echo (tokio, canned reply)".into(),
            Target::Docwire(executor) => format!("docwire --serviceExecutor {executor}"),
        }
    }

    /// Starts the server process and returns it with its port.
    fn spawn(self) -> (Child, u16) {
        let mut command = match self {
            Target::Echo => {
                let mut c = Command::new(std::env::current_exe().unwrap());
                c.arg(ECHO_FLAG);
                c
            }
            Target::Docwire(executor) => {
                let mut c = Command::new(env!("CARGO_BIN_EXE_docwire"));
                c.args(["--port", "0", "--nounixsocket", "--quiet", "--logFormat", "json"]);
                c.args(["--serviceExecutor", executor]);
                c.env("RUST_LOG", "info");
                c
            }
        };
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = loop {
            let line = lines.next().expect("server exited before listening").unwrap();
            if let Some(port) = port_in_line(&line) {
                break port;
            }
        };
        std::thread::spawn(move || for _ in lines {});
        (child, port)
    }
}

/// The port from docwire's "Waiting for connections" JSON line, or the echo server's "port=N" line.
fn port_in_line(line: &str) -> Option<u16> {
    if let Some(rest) = line.strip_prefix("port=") {
        return rest.trim().parse().ok();
    }
    if !line.contains("Waiting for connections") {
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
    // SIGTERM would be kinder; kill is enough for a benchmark's servers.
    let _ = child.kill();
    let _ = child.wait();
}

fn ping_request(id: i32) -> Vec<u8> {
    let mut m = OpMsgBuilder::default()
        .finish_with_body(&doc! {"ping": 1, "$db": "admin"})
        .unwrap();
    m.set_ids(id, 0);
    m.as_bytes().to_vec()
}

/// docwire's reply to ping, to size the echo server's canned reply.
fn canned_reply() -> Message {
    OpMsgBuilder::default()
        .finish_with_body(&doc! {"ok": 1.0})
        .unwrap()
}

async fn read_frame(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<()> {
    buf.resize(16, 0);
    stream.read_exact(&mut buf[..16]).await?;
    let len = i32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    buf.resize(len, 0);
    stream.read_exact(&mut buf[16..]).await?;
    Ok(())
}

struct LoadResult {
    ops_per_sec: f64,
    p50: Duration,
    p99: Duration,
}

/// `connections` clients doing ping round trips for `duration`.
async fn load(port: u16, connections: usize, duration: Duration) -> LoadResult {
    let addr = format!("127.0.0.1:{port}");
    let mut streams = Vec::new();
    for _ in 0..connections {
        let s = TcpStream::connect(&addr).await.unwrap();
        s.set_nodelay(true).unwrap();
        streams.push(s);
    }
    // Warm up each connection with one round trip.
    let request = ping_request(1);
    let mut buf = Vec::new();
    for s in &mut streams {
        s.write_all(&request).await.unwrap();
        read_frame(s, &mut buf).await.unwrap();
    }
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for mut s in streams {
        let request = request.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(100_000);
            let mut buf = Vec::with_capacity(64);
            while Instant::now() < deadline {
                let t = Instant::now();
                s.write_all(&request).await.unwrap();
                read_frame(&mut s, &mut buf).await.unwrap();
                latencies.push(t.elapsed().as_nanos() as u64);
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

/// Server RSS growth per idle connection, with `count` connections open (each did one ping).
async fn idle_cost(pid: u32, port: u16, count: usize) -> Option<(usize, f64)> {
    let addr = format!("127.0.0.1:{port}");
    // Settle the server's baseline with one connection first.
    let mut first = TcpStream::connect(&addr).await.ok()?;
    let mut buf = Vec::new();
    first.write_all(&ping_request(1)).await.ok()?;
    read_frame(&mut first, &mut buf).await.ok()?;
    let before = rss_kib(pid)?;
    let mut streams = Vec::with_capacity(count);
    for i in 0..count {
        let mut s = match TcpStream::connect(&addr).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("stopped at {i} connections: {e}");
                break;
            }
        };
        // Past the server's limit (mongod's rule: min(maxConns, 0.8 * RLIMIT_NOFILE / 2)) the
        // connection is closed without a reply: stop there and measure what was opened.
        let answered =
            s.write_all(&ping_request(i as i32)).await.is_ok() && read_frame(&mut s, &mut buf).await.is_ok();
        if !answered {
            eprintln!("the server refused connection {i}: its connection limit");
            break;
        }
        streams.push(s);
    }
    let after = rss_kib(pid)?;
    let opened = streams.len().max(1);
    Some((
        opened,
        (after.saturating_sub(before)) as f64 * 1024.0 / opened as f64,
    ))
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The comparison server: accepts connections and answers every frame with a canned reply of docwire's
/// ping-reply size (responseTo set), doing no other work.
fn echo_server() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("port={}", listener.local_addr().unwrap().port());
        let reply = canned_reply().as_bytes().to_vec();
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            s.set_nodelay(true).unwrap();
            let mut reply = reply.clone();
            tokio::spawn(async move {
                let mut buf = Vec::with_capacity(64);
                while read_frame(&mut s, &mut buf).await.is_ok() {
                    reply[8..12].copy_from_slice(&buf[4..8]);
                    if s.write_all(&reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
}

fn render(
    rows: &[(String, usize, LoadResult)],
    idle: &[(&str, Option<(usize, f64)>)],
    seconds: u64,
    idle_count: usize,
) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "## ingress benchmarks\n");
    let _ = writeln!(
        t,
        "Ping round trips, {seconds} s per row; the ratio is against the echo server at the same connection count.\n"
    );
    let _ = writeln!(t, "| server | connections | ops/s | p50 | p99 | vs echo |");
    let _ = writeln!(t, "|---|---:|---:|---:|---:|---:|");
    for (name, n, r) in rows {
        let echo = rows
            .iter()
            .find(|(e, en, _)| e.starts_with("echo") && en == n)
            .map(|(_, _, e)| e.ops_per_sec);
        let ratio = echo.map_or(String::new(), |e| format!("{:.0}%", 100.0 * r.ops_per_sec / e));
        let _ = writeln!(
            t,
            "| {name} | {n} | {:.0} | {:.1} µs | {:.1} µs | {ratio} |",
            r.ops_per_sec,
            micros(r.p50),
            micros(r.p99)
        );
    }
    let _ = writeln!(
        t,
        "\n| idle connections (asked for {idle_count}) | opened | RSS per connection |"
    );
    let _ = writeln!(t, "|---|---:|---:|");
    for (executor, measured) in idle {
        let (opened, per) = measured.map_or(("n/a".to_owned(), "n/a".to_owned()), |(n, b)| {
            (n.to_string(), format!("{:.2} KiB", b / 1024.0))
        });
        let _ = writeln!(t, "| docwire --serviceExecutor {executor} | {opened} | {per} |");
    }
    t
}

fn micros(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1000.0
}
