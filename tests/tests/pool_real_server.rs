//! The connection pool over real connections (`ClientConnection`, the transport's async client) to an
//! in-process docwire server: many tasks share a few connections; killing the server makes requests
//! fail cleanly and restarting it on the same port lets the pool recover by itself; connPoolStats and
//! dropConnections, asked through the Rust driver, see and reach the pool.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;

use bson::{Document, doc};
use docwire_pool::{
    ClientConnection, ClientConnectionFactory, ConnectionHandle, ConnectionPool, EgressTagCloserManager,
    Options,
};
use docwire_rpc::{ErrorCode, Status, StatusResult};
use docwire_server::RunningServer;
use docwire_service::{Clock, SystemClock};
use tokio::task::JoinSet;

/// How long anything here may take before the test calls it a hang.
const PATIENCE: Duration = Duration::from_secs(30);

/// The pool's name in connPoolStats.
const POOL_NAME: &str = "pool-real-server";

/// A docwire server on `port` (0: any free port), TCP only, with the in-memory engine (these tests keep no
/// data, and several servers run at once in this process).
async fn start_server(port: u16) -> RunningServer {
    let port = port.to_string();
    let flags = [
        "--port",
        port.as_str(),
        "--nounixsocket",
        "--storageEngine",
        "inMemory",
    ];
    let settings = docwire_server::Settings::from_flags(flags).expect("flags");
    docwire_server::start(&settings, None)
        .await
        .unwrap_or_else(|e| panic!("cannot start the server on port {port}: {e:#}"))
}

fn host_of(server: &RunningServer) -> String {
    server.addrs.first().expect("a TCP address").to_string()
}

/// A pool of real connections, registered with `manager` (the server's, so its commands see the pool).
fn pool(manager: &EgressTagCloserManager, max_connections: usize) -> Arc<ConnectionPool<ClientConnection>> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new().expect("a system clock"));
    let options = Options {
        max_connections,
        // Short enough that a request to a dead host cannot wait long, long enough for a loaded CI box.
        refresh_timeout: Duration::from_secs(10),
        egress_tag_closer_manager: Some(manager.clone()),
        ..Options::default()
    };
    let factory = ClientConnectionFactory::default();
    Arc::new(ConnectionPool::new(POOL_NAME, factory, clock, options).expect("a pool"))
}

/// Fails the test if `work` has not finished within PATIENCE.
async fn within<T>(what: &str, work: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, work)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {PATIENCE:?}"))
}

/// Checks out a connection to `host` and runs `{ping: 1}` on it; any failure comes back as a Status.
async fn ping(pool: &ConnectionPool<ClientConnection>, host: &str) -> StatusResult<()> {
    let mut conn: ConnectionHandle<ClientConnection> = pool.get(host, None).await?;
    let reply = conn.run_and_mark("admin", doc! {"ping": 1}).await?;
    Status::from_reply_document(&reply).map_or(Ok(()), Err)
}

/// `tasks` tasks each pinging `rounds` times; the results, in no particular order.
async fn ping_from_tasks(
    pool: &Arc<ConnectionPool<ClientConnection>>,
    host: &str,
    tasks: usize,
    rounds: usize,
) -> Vec<StatusResult<()>> {
    let mut set = JoinSet::new();
    for _ in 0..tasks {
        let pool = Arc::clone(pool);
        let host = host.to_owned();
        set.spawn(async move {
            let mut results = Vec::with_capacity(rounds);
            for _ in 0..rounds {
                results.push(ping(&pool, &host).await);
            }
            results
        });
    }
    let mut all = Vec::new();
    while let Some(joined) = set.join_next().await {
        all.extend(joined.expect("a ping task panicked"));
    }
    all
}

async fn driver(server: &RunningServer) -> mongodb::Client {
    let mut options = mongodb::options::ClientOptions::parse(server.uri())
        .await
        .expect("the driver parses the URI");
    options.server_selection_timeout = Some(PATIENCE);
    mongodb::Client::with_options(options).expect("a driver client")
}

/// `{connPoolStats: 1}` through the Rust driver.
async fn conn_pool_stats(client: &mongodb::Client) -> Document {
    client
        .database("admin")
        .run_command(doc! {"connPoolStats": 1})
        .await
        .expect("connPoolStats")
}

fn count(section: &Document, field: &str) -> i64 {
    section
        .get_i64(field)
        .unwrap_or_else(|_| panic!("{field} missing or not a long in {section}"))
}

/// mongod's invariant for one host's (or one total's) counters.
fn assert_invariant(section: &Document, prefix: &str) {
    let field = |name: &str| {
        if prefix.is_empty() {
            let mut chars = name.chars();
            let first = chars.next().map(|c| c.to_ascii_lowercase()).unwrap_or_default();
            format!("{first}{}", chars.as_str())
        } else {
            format!("{prefix}{name}")
        }
    };
    let in_use = count(section, &field("InUse"));
    let available = count(section, &field("Available"));
    let refreshing = count(section, &field("Refreshing"));
    let created = count(section, &field("Created"));
    assert!(
        in_use + available + refreshing <= created,
        "inUse {in_use} + available {available} + refreshing {refreshing} > created {created}: {section}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_tasks_share_a_few_real_connections() {
    let server = start_server(0).await;
    let host = host_of(&server);
    let pool = pool(&server.egress, 4);

    let results = within("64 tasks pinging", ping_from_tasks(&pool, &host, 64, 10)).await;
    assert_eq!(results.len(), 640);
    for result in &results {
        assert!(result.is_ok(), "{result:?}");
    }
    let stats = pool.stats_document();
    let host_stats = stats
        .get_document("hosts")
        .and_then(|hosts| hosts.get_document(&host))
        .expect("the host's counters");
    assert!(count(host_stats, "created") <= 4, "{stats}");
    assert_eq!(count(host_stats, "inUse"), 0, "{stats}");
    assert_invariant(host_stats, "");
    assert!(pool.num_connections_per_host(&host) <= 4);

    pool.shutdown();
    within("server shutdown", server.shutdown(PATIENCE)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_server_fails_requests_cleanly_and_a_restart_recovers() {
    let manager = EgressTagCloserManager::new();
    let server = start_server(0).await;
    let port = server.addrs.first().expect("a TCP address").port();
    let host = host_of(&server);
    let pool = pool(&manager, 8);
    for result in within("warm-up", ping_from_tasks(&pool, &host, 8, 5)).await {
        result.expect("a ping to a live server");
    }
    assert!(pool.num_connections_per_host(&host) >= 1);

    // Killed: every request fails (stale connections on use, new ones at connect), none hangs.
    within("server shutdown", server.shutdown(PATIENCE)).await;
    let results = within("pings to a dead server", ping_from_tasks(&pool, &host, 16, 3)).await;
    for result in &results {
        let status = result.as_ref().expect_err("a ping to a dead server succeeded");
        let code = status.code();
        assert!(
            code.is_network_error() || code == ErrorCode::NetworkInterfaceExceededTimeLimit,
            "unexpected failure: {status}"
        );
    }

    let stats = pool.stats_document();
    assert_invariant(&stats, "total");
    assert_eq!(count(&stats, "totalInUse"), 0, "{stats}");

    // Restarted on the same port: the pool finds it again without being told.
    let server = start_server(port).await;
    assert_eq!(host_of(&server), host);
    within("recovery", async {
        loop {
            if ping(&pool, &host).await.is_ok() {
                break;
            }
            // Each failed attempt drops the stale connection it used or fails a setup, so this ends.
            tokio::task::yield_now().await;
        }
    })
    .await;
    for result in within("pings after recovery", ping_from_tasks(&pool, &host, 16, 5)).await {
        result.expect("a ping after the restart");
    }

    pool.shutdown();
    within("server shutdown", server.shutdown(PATIENCE)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conn_pool_stats_through_the_driver_shows_the_pool() {
    let server = start_server(0).await;
    let host = host_of(&server);
    let pool = pool(&server.egress, 8);
    for result in within("pings", ping_from_tasks(&pool, &host, 4, 5)).await {
        result.expect("a ping");
    }
    let client = driver(&server).await;

    // One connection held while the server reports.
    let held = within("a checkout", pool.get(&host, None))
        .await
        .expect("a connection");
    let stats = within("connPoolStats", conn_pool_stats(&client)).await;
    assert_eq!(stats.get_f64("ok").ok(), Some(1.0), "{stats}");
    assert_invariant(&stats, "total");
    let section = stats
        .get_document("pools")
        .and_then(|pools| pools.get_document(POOL_NAME))
        .expect("the pool's section");
    assert_invariant(section, "pool");
    let per_host = section
        .get_document(&host)
        .expect("the host in the pool's section");
    assert_invariant(per_host, "");
    assert_eq!(count(per_host, "inUse"), 1, "{stats}");
    assert!(count(per_host, "created") >= 1, "{stats}");
    assert_eq!(
        count(&stats, "totalCreated"),
        count(per_host, "created"),
        "{stats}"
    );
    let hosts = stats.get_document("hosts").expect("hosts");
    assert_invariant(hosts.get_document(&host).expect("the host"), "");
    drop(held);

    // Under load, every sample keeps the invariant.
    let load = {
        let pool = Arc::clone(&pool);
        let host = host.clone();
        tokio::spawn(async move { ping_from_tasks(&pool, &host, 32, 20).await })
    };
    while !load.is_finished() {
        let stats = within("connPoolStats under load", conn_pool_stats(&client)).await;
        assert_invariant(&stats, "total");
    }
    for result in within("the load", load).await.expect("the load task") {
        result.expect("a ping under load");
    }

    pool.shutdown();
    within("server shutdown", server.shutdown(PATIENCE)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn drop_connections_through_the_driver_empties_the_host() {
    let server = start_server(0).await;
    let host = host_of(&server);
    let pool = pool(&server.egress, 8);
    for result in within("pings", ping_from_tasks(&pool, &host, 4, 5)).await {
        result.expect("a ping");
    }
    let mut held = within("a checkout", pool.get(&host, None))
        .await
        .expect("a connection");
    assert!(pool.num_connections_per_host(&host) >= 1);
    let client = driver(&server).await;
    let admin = client.database("admin");

    let reply = within(
        "dropConnections",
        admin
            .run_command(doc! {"dropConnections": 1, "hostAndPort": [host.as_str()]})
            .into_future(),
    )
    .await
    .expect("dropConnections");
    assert_eq!(reply.get_f64("ok").ok(), Some(1.0), "{reply}");
    assert_eq!(pool.num_connections_per_host(&host), 0);
    assert!(!pool.hosts().contains(&host), "{:?}", pool.hosts());

    // The held connection still works, but it is dropped when it comes back rather than reused.
    held.run_and_mark("admin", doc! {"ping": 1})
        .await
        .expect("the held connection");
    drop(held);
    assert_eq!(pool.num_connections_per_host(&host), 0);

    // The next request starts the host afresh.
    within("a ping after dropConnections", ping(&pool, &host))
        .await
        .expect("a ping");
    let stats = pool.stats_document();
    let per_host = stats
        .get_document("hosts")
        .and_then(|hosts| hosts.get_document(&host))
        .expect("the host");
    assert_eq!(count(per_host, "inUse"), 0, "{stats}");
    assert_invariant(per_host, "");

    // Bad input is refused with mongod's codes, and only on admin.
    let error = admin
        .run_command(doc! {"dropConnections": 1, "hostAndPort": "not-an-array"})
        .await
        .expect_err("a string hostAndPort");
    assert!(error.to_string().contains("TypeMismatch"), "{error}");
    let error = client
        .database("test")
        .run_command(doc! {"dropConnections": 1, "hostAndPort": [host.as_str()]})
        .await
        .expect_err("dropConnections off admin");
    assert!(error.to_string().contains("Unauthorized"), "{error}");

    pool.shutdown();
    within("server shutdown", server.shutdown(PATIENCE)).await;
}
