//! The embedded-database benchmark (`cargo xtask bench db`): the same five workloads through the Rust
//! driver (`mongodb` 3.9) against a `docwire` process (redb on a temp dir), straight on the redb storage
//! engine in this process (no network, no command layer: the limit), and through the driver against a
//! PoloDB server when one is installed (`polodb` on PATH or `$POLODB`); `$DOCWIRE_BIN` runs another
//! docwire build instead of this one. Prints ops/s and the ratios as a markdown table and writes it to
//! target/bench/db.md.
//!
//! Workloads: insert_many of `DB_BENCH_DOCS` (100,000) small documents; `DB_BENCH_SINGLES` (10,000)
//! insert_one with w:1, one at a time; `DB_BENCH_LOOKUPS` (100,000) find-by-_id over 16 connections; a
//! filtered find that scans every document (no index on the field; counted in documents scanned per
//! second); the same find once the field is indexed (`DB_BENCH_INDEXED`, 200 queries of 1,000 documents
//! each, over 16 connections). Under the table, `{ping: 1}` round trips through the same driver: the floor
//! under a request per operation. The driver reads documents as `RawDocumentBuf` (no decoding into a
//! `Document`), as the engine rows do.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bson::{Bson, Document, RawDocumentBuf, doc};
use docwire_db::storage::{Direction, RedbEngine, StorageEngine};
use futures::TryStreamExt;
use mongodb::options::{ClientOptions, WriteConcern};
use mongodb::{Client, Collection, IndexModel};

/// Concurrent connections (or threads, in-process) for the lookup rows.
const CONNECTIONS: usize = 16;
/// Distinct values of the filtered field `x`; each value matches DOCS / X_VALUES documents.
const X_VALUES: i32 = 100;
const ROWS: [&str; 5] = [
    "insert_many (docs/s)",
    "insert_one w:1 (ops/s)",
    "find by _id, 16 connections (ops/s)",
    "filtered scan, no index (docs scanned/s)",
    "find on an indexed field, 16 connections (docs/s)",
];

#[derive(Clone)]
struct Sizes {
    docs: usize,
    singles: usize,
    lookups: usize,
    scans: usize,
    indexed: usize,
}

fn main() {
    let sizes = Sizes {
        docs: env_or("DB_BENCH_DOCS", 100_000),
        singles: env_or("DB_BENCH_SINGLES", 10_000),
        lookups: env_or("DB_BENCH_LOOKUPS", 100_000),
        scans: env_or("DB_BENCH_SCANS", 5),
        indexed: env_or("DB_BENCH_INDEXED", 200),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let scratch = scratch_dir();

    eprintln!("docwire (driver → docwire process, redb)");
    let docwire = {
        let dbpath = scratch.join("docwire");
        let (mut child, port) = spawn_docwire(&dbpath);
        let uri = format!("mongodb://127.0.0.1:{port}/?directConnection=true");
        let rows = runtime
            .block_on(driver_rows(&uri, &sizes))
            .expect("docwire runs every workload");
        stop(&mut child);
        rows
    };

    eprintln!("engine (redb, in-process)");
    let engine = engine_rows(&scratch.join("engine"), &sizes);

    eprintln!("PoloDB");
    // PoloDB answers a single-document request in tens of milliseconds: fewer of those keep the run short
    // (the rates are per second either way).
    let polodb_sizes = Sizes {
        singles: sizes.singles.min(env_or("DB_BENCH_POLODB_SINGLES", 500)),
        lookups: sizes.lookups.min(env_or("DB_BENCH_POLODB_LOOKUPS", 5_000)),
        ..sizes.clone()
    };
    let polodb = match spawn_polodb(&scratch.join("polodb")) {
        Ok((mut child, port)) => {
            let uri = format!("mongodb://127.0.0.1:{port}/?directConnection=true");
            let rows = runtime.block_on(async {
                tokio::time::timeout(Duration::from_secs(600), driver_rows(&uri, &polodb_sizes))
                    .await
                    .unwrap_or_else(|_| Err("timed out after 10 minutes".into()))
            });
            stop(&mut child);
            rows.map_err(|e| format!("PoloDB failed: {e}"))
        }
        Err(why) => Err(why),
    };
    if let Err(why) = &polodb {
        eprintln!("{why}");
    }
    let _ = std::fs::remove_dir_all(&scratch);

    let table = render(&sizes, &polodb_sizes, &docwire, &engine, &polodb);
    println!("{table}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("db.md"), &table).unwrap();
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("docwire-db-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn small_doc(i: usize) -> Document {
    let i = i32::try_from(i).unwrap();
    doc! {"_id": i, "x": i % X_VALUES, "k": i, "s": "some small text"}
}

/// One workload's result: operations (or documents) per second, and a note when it did not run.
type Row = Result<f64, String>;

fn rate(count: usize, since: Instant) -> f64 {
    count as f64 / since.elapsed().as_secs_f64()
}

// ---- through the driver ----------------------------------------------------------------------------

async fn driver_rows(uri: &str, sizes: &Sizes) -> Result<Vec<Row>, String> {
    let mut options = ClientOptions::parse(uri).await.map_err(|e| e.to_string())?;
    options.server_selection_timeout = Some(Duration::from_secs(20));
    options.max_pool_size = Some(CONNECTIONS as u32);
    options.min_pool_size = Some(CONNECTIONS as u32);
    options.write_concern = Some(WriteConcern::nodes(1));
    let client = Client::with_options(options).map_err(|e| e.to_string())?;
    let db = client.database("bench");
    let docs: Collection<Document> = db.collection("docs");
    let _ = docs.drop().await;
    let mut rows = Vec::new();

    let batch: Vec<Document> = (0..sizes.docs).map(small_doc).collect();
    let t = Instant::now();
    let row = docs.insert_many(batch).await.map(|_| rate(sizes.docs, t));
    rows.push(row.map_err(|e| e.to_string()));
    eprintln!("  insert_many: {:?}", rows.last().unwrap());

    let singles: Collection<Document> = db.collection("singles");
    let _ = singles.drop().await;
    let t = Instant::now();
    let mut row = Ok(());
    for i in 0..sizes.singles {
        if let Err(e) = singles.insert_one(small_doc(i)).await {
            row = Err(e.to_string());
            break;
        }
    }
    rows.push(row.map(|()| rate(sizes.singles, t)));
    eprintln!("  insert_one: {:?}", rows.last().unwrap());

    // Reads come back as raw documents, as the engine rows hand them out: decoding each reply into
    // a `Document` costs the client more CPU than the server spends answering, and the client
    // shares the machine's two cores with the server.
    let raw_docs: Collection<RawDocumentBuf> = docs.clone_with_type();
    let found = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    let (lookup_docs, counter, total) = (raw_docs.clone(), found.clone(), sizes.docs);
    let row = concurrently(sizes.lookups, move |i| {
        let docs = lookup_docs.clone();
        let found = counter.clone();
        async move {
            let id = i32::try_from((i * 7919) % total).unwrap();
            let doc = docs.find_one(doc! {"_id": id}).await?;
            found.fetch_add(usize::from(doc.is_some()), Ordering::Relaxed);
            Ok(())
        }
    })
    .await
    .map(|()| rate(sizes.lookups, t));
    rows.push(check_count(row, &found, sizes.lookups));
    eprintln!("  find by _id: {:?}", rows.last().unwrap());

    // The floor under every request-per-operation row: a `{ping: 1}` round trip through the same
    // driver and connections (no storage, no cursor), reported under the table.
    let admin = client.database("admin");
    let t = Instant::now();
    let pings = concurrently(sizes.lookups, move |_| {
        let admin = admin.clone();
        async move { admin.run_command(doc! {"ping": 1}).await.map(|_| ()) }
    })
    .await
    .map(|()| rate(sizes.lookups, t));
    eprintln!("  ping: {pings:?}");

    let expected = sizes.docs / X_VALUES as usize;
    let t = Instant::now();
    let mut row = Ok(());
    for i in 0..sizes.scans {
        let x = i32::try_from(i).unwrap() % X_VALUES;
        match matching(&raw_docs, x).await {
            Ok(n) if n == expected => {}
            Ok(n) => row = Err(format!("the scan found {n} documents, not {expected}")),
            Err(e) => row = Err(e.to_string()),
        }
    }
    rows.push(row.map(|()| rate(sizes.docs * sizes.scans, t)));
    eprintln!("  filtered scan: {:?}", rows.last().unwrap());

    let row = match docs
        .create_index(IndexModel::builder().keys(doc! {"x": 1}).build())
        .await
    {
        Err(e) => Err(format!("createIndexes: {e}")),
        Ok(_) => {
            let found = Arc::new(AtomicUsize::new(0));
            let t = Instant::now();
            let (indexed_docs, counter) = (raw_docs.clone(), found.clone());
            let row = concurrently(sizes.indexed, move |i| {
                let docs = indexed_docs.clone();
                let found = counter.clone();
                async move {
                    let n = matching(&docs, i32::try_from(i).unwrap() % X_VALUES).await?;
                    found.fetch_add(usize::from(n == expected), Ordering::Relaxed);
                    Ok(())
                }
            })
            .await
            .map(|()| rate(sizes.indexed * expected, t));
            check_count(row, &found, sizes.indexed)
        }
    };
    rows.push(row);
    eprintln!("  indexed find: {:?}", rows.last().unwrap());
    client.shutdown().await;
    // After the table's rows: the ping floor.
    rows.push(pings);
    Ok(rows)
}

/// The documents whose `x` is `x`, read to the end (the server's first batch and its getMores).
async fn matching(docs: &Collection<RawDocumentBuf>, x: i32) -> mongodb::error::Result<usize> {
    let all: Vec<RawDocumentBuf> = docs.find(doc! {"x": x}).await?.try_collect().await?;
    Ok(all.len())
}

fn check_count(row: Row, counted: &AtomicUsize, want: usize) -> Row {
    let got = counted.load(Ordering::Relaxed);
    match row {
        Ok(_) if got != want => Err(format!("only {got} of {want} found what they should")),
        other => other,
    }
}

/// Runs `op(0..count)` over [`CONNECTIONS`] tasks.
async fn concurrently<F, Fut>(count: usize, op: F) -> Result<(), String>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = mongodb::error::Result<()>> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS {
        let op = op.clone();
        let next = next.clone();
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok(());
                }
                op(i).await?;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| e.to_string())?
            .map_err(|e: mongodb::error::Error| e.to_string())?;
    }
    Ok(())
}

// ---- straight on the storage engine ------------------------------------------------------------------

fn engine_rows(dbpath: &Path, sizes: &Sizes) -> Vec<Row> {
    let engine: Arc<dyn StorageEngine> = Arc::new(RedbEngine::open(dbpath).unwrap());
    let ns = "bench.docs";
    let mut rows = Vec::new();

    let raw: Vec<RawDocumentBuf> = (0..sizes.docs)
        .map(|i| RawDocumentBuf::try_from(&small_doc(i)).unwrap())
        .collect();
    let t = Instant::now();
    let mut w = engine.begin_write().unwrap();
    w.ensure_collection(ns).unwrap();
    for d in &raw {
        w.insert(ns, d).unwrap();
    }
    w.commit().unwrap();
    rows.push(Ok(rate(sizes.docs, t)));
    eprintln!("  insert (one transaction): {:?}", rows.last().unwrap());

    let t = Instant::now();
    for i in 0..sizes.singles {
        let d = RawDocumentBuf::try_from(&small_doc(i)).unwrap();
        let mut w = engine.begin_write().unwrap();
        w.ensure_collection("bench.singles").unwrap();
        w.insert("bench.singles", &d).unwrap();
        w.commit().unwrap();
    }
    rows.push(Ok(rate(sizes.singles, t)));
    eprintln!("  insert, one commit each: {:?}", rows.last().unwrap());

    let next = AtomicUsize::new(0);
    let found = AtomicUsize::new(0);
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..CONNECTIONS {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= sizes.lookups {
                        return;
                    }
                    let id = Bson::Int32(i32::try_from((i * 7919) % sizes.docs).unwrap());
                    let read = engine.begin_read().unwrap();
                    let doc = read.find_by_id(ns, &id).unwrap();
                    found.fetch_add(usize::from(doc.is_some()), Ordering::Relaxed);
                }
            });
        }
    });
    rows.push(check_count(Ok(rate(sizes.lookups, t)), &found, sizes.lookups));
    eprintln!("  find_by_id, 16 threads: {:?}", rows.last().unwrap());

    // The limit for a filtered scan: every record read, its `x` compared in place (no decoding).
    let expected = sizes.docs / X_VALUES as usize;
    let t = Instant::now();
    let mut row = Ok(());
    for i in 0..sizes.scans {
        let x = i32::try_from(i).unwrap() % X_VALUES;
        let read = engine.begin_read().unwrap();
        let n = read
            .scan(ns, Bound::Unbounded, Direction::Forward)
            .unwrap()
            .filter(|r| r.as_ref().unwrap().doc.get_i32("x").ok() == Some(x))
            .count();
        if n != expected {
            row = Err(format!("the scan found {n} documents, not {expected}"));
        }
    }
    rows.push(row.map(|()| rate(sizes.docs * sizes.scans, t)));
    eprintln!("  scan: {:?}", rows.last().unwrap());

    let mut w = engine.begin_write().unwrap();
    w.create_index(ns, &doc! {"key": {"x": 1}}).unwrap();
    w.commit().unwrap();
    let next = AtomicUsize::new(0);
    let found = AtomicUsize::new(0);
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..CONNECTIONS {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= sizes.indexed {
                        return;
                    }
                    let x = Bson::Int32(i32::try_from(i).unwrap() % X_VALUES);
                    let read = engine.begin_read().unwrap();
                    let n = read
                        .index_scan(
                            ns,
                            "x_1",
                            Bound::Included(&x),
                            Bound::Included(&x),
                            Direction::Forward,
                        )
                        .unwrap()
                        .count();
                    found.fetch_add(usize::from(n == expected), Ordering::Relaxed);
                }
            });
        }
    });
    rows.push(check_count(
        Ok(rate(sizes.indexed * expected, t)),
        &found,
        sizes.indexed,
    ));
    eprintln!("  index scan, 16 threads: {:?}", rows.last().unwrap());
    rows
}

// ---- servers -------------------------------------------------------------------------------------------

/// Starts the docwire server: this build's binary, or `$DOCWIRE_BIN` (to compare two builds under
/// the same client and load).
fn spawn_docwire(dbpath: &Path) -> (Child, u16) {
    let binary = std::env::var_os("DOCWIRE_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_docwire")), PathBuf::from);
    let mut child = Command::new(binary)
        .args(["--port", "0", "--nounixsocket", "--quiet", "--logFormat", "json"])
        .arg("--dbpath")
        .arg(dbpath)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let port = loop {
        let line = lines.next().expect("docwire exited before listening").unwrap();
        if line.contains("Waiting for connections") {
            let at = line.find("\"port\":").unwrap() + "\"port\":".len();
            let digits: String = line[at..].chars().take_while(char::is_ascii_digit).collect();
            break digits.parse().unwrap();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, port)
}

/// Starts `polodb serve --host 127.0.0.1 --port <free> --path <dir>`, if a PoloDB server is installed; else why not.
fn spawn_polodb(path: &Path) -> Result<(Child, u16), String> {
    let binary = std::env::var_os("POLODB")
        .map(PathBuf::from)
        .or_else(|| which("polodb"))
        .ok_or("no PoloDB server: `polodb` is not on PATH and $POLODB is unset")?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let child = Command::new(&binary)
        .args([
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--path",
        ])
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(format!(
                "{} did not listen on {port} within 20 s",
                binary.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((child, port))
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

// ---- the table -------------------------------------------------------------------------------------------

fn render(
    sizes: &Sizes,
    polodb_sizes: &Sizes,
    docwire: &[Row],
    engine: &[Row],
    polodb: &Result<Vec<Row>, String>,
) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "## db benchmarks\n");
    let _ = writeln!(
        t,
        "{} documents `{{_id, x, k, s}}`; {} insert_one; {} lookups; {} scans; {} indexed finds of {} \
         documents. docwire and PoloDB through the Rust driver; the engine is redb in-process.\n",
        sizes.docs,
        sizes.singles,
        sizes.lookups,
        sizes.scans,
        sizes.indexed,
        sizes.docs / X_VALUES as usize
    );
    let _ = writeln!(
        t,
        "| workload | docwire | engine in-process | docwire / engine | PoloDB | docwire / PoloDB |"
    );
    let _ = writeln!(t, "|---|---:|---:|---:|---:|---:|");
    for (i, name) in ROWS.iter().enumerate() {
        let ours = docwire.get(i).cloned().unwrap_or_else(|| Err("not run".into()));
        let limit = engine.get(i).cloned().unwrap_or_else(|| Err("not run".into()));
        let peer = match polodb {
            Ok(rows) => rows.get(i).cloned().unwrap_or_else(|| Err("not run".into())),
            Err(_) => Err("n/a".into()),
        };
        let _ = writeln!(
            t,
            "| {name} | {} | {} | {} | {} | {} |",
            cell(&ours),
            cell(&limit),
            ratio(&ours, &limit),
            cell(&peer),
            ratio(&ours, &peer)
        );
    }
    if let Some(ping) = docwire.get(ROWS.len()) {
        let lookups = docwire.get(2).cloned().unwrap_or_else(|| Err("not run".into()));
        let _ = writeln!(
            t,
            "\n`{{ping: 1}}` through the driver, {CONNECTIONS} connections: {} round trips/s against docwire \
             (find by _id runs at {} of it).",
            cell(ping),
            ratio(&lookups, ping)
        );
    }
    match polodb {
        Err(why) => {
            let _ = writeln!(t, "\nPoloDB: {why}");
        }
        Ok(_) => {
            let _ = writeln!(
                t,
                "\nPoloDB ran {} insert_one and {} lookups (the rest as above).",
                polodb_sizes.singles, polodb_sizes.lookups
            );
        }
    }
    t
}

fn cell(row: &Row) -> String {
    match row {
        Ok(v) => format!("{v:.0}"),
        Err(e) => format!(
            "fails: {}",
            e.replace('|', "/").chars().take(120).collect::<String>()
        ),
    }
}

fn ratio(a: &Row, b: &Row) -> String {
    match (a, b) {
        (Ok(a), Ok(b)) => format!("{:.2}", a / b),
        _ => "–".into(),
    }
}
