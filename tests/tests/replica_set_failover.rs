//! End to end: three in-process docwire servers form a role-simulated replica set (`--replSet`,
//! `--replSetMembers`; no data replication). The executor's replica-set monitor, over the real
//! network interface, writes to the primary while it steps down; the next writes reach the new
//! primary within two seconds; secondaries refuse writes (10107) and unflagged reads (13435); and the
//! Rust driver, connecting with `replicaSet=`, sees the same primary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bson::{Document, doc, oid::ObjectId};
use docwire_executor::network::real::{RealNetwork, RealNetworkOptions};
use docwire_executor::sdam::{
    MonitorOptions, Operation, ReadPreference, ReplicaSetMonitor, TopologySettings,
};
use docwire_executor::{ExecutorOptions, TaskExecutor};
use docwire_server::RunningServer;
use docwire_service::{Clock, SystemClock};
use docwire_transport::client::RemoteCommandRequest;
use tokio::sync::mpsc;
use tokio::time::Instant;

const SET: &str = "rs0";
const PATIENCE: Duration = Duration::from_secs(20);

/// `n` ports free right now (bound together, then released).
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<_> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners.iter().map(|l| l.local_addr().unwrap().port()).collect()
}

async fn start_member(port: u16, members: &str) -> RunningServer {
    let port = port.to_string();
    let flags = [
        "--port",
        port.as_str(),
        "--nounixsocket",
        "--storageEngine",
        "inMemory",
        "--replSet",
        SET,
        "--replSetMembers",
        members,
    ];
    let settings = docwire_server::Settings::from_flags(flags).unwrap();
    docwire_server::start(&settings, None)
        .await
        .unwrap_or_else(|e| panic!("cannot start a member on port {port}: {e:#}"))
}

struct Client {
    executor: TaskExecutor,
    monitor: ReplicaSetMonitor,
}

fn client(hosts: &[String]) -> Client {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new().unwrap());
    let network = RealNetwork::new(RealNetworkOptions::default(), clock).unwrap();
    let executor = TaskExecutor::new(Arc::new(network), ExecutorOptions::default()).unwrap();
    executor.startup().unwrap();
    let settings = TopologySettings {
        seeds: hosts.to_vec(),
        set_name: Some(SET.into()),
        direct_connection: false,
    };
    let options = MonitorOptions {
        heartbeat_interval: Duration::from_millis(500),
        selection_timeout: Duration::from_secs(10),
        min_heartbeat_interval: Duration::from_millis(50),
        hello_timeout: Duration::from_secs(2),
    };
    let monitor = ReplicaSetMonitor::new(executor.clone(), &settings, options);
    monitor.start();
    Client { executor, monitor }
}

impl Client {
    async fn run(&self, host: &str, command: Document, metadata: Document) -> Document {
        let mut request = RemoteCommandRequest::new(host, "test", command);
        request.metadata = metadata;
        request.timeout = Some(Duration::from_secs(5));
        let response = self.executor.run_remote_command(request, None).await;
        assert_eq!(response.status, Ok(()), "a command on {host}");
        response.data
    }

    async fn hello(&self, host: &str) -> Document {
        self.run(host, doc! {"hello": 1}, Document::new()).await
    }

    async fn primary(&self) -> String {
        self.monitor
            .select(Operation::Write, &ReadPreference::primary())
            .await
            .unwrap()
    }

    async fn write(&self, n: i64) -> bool {
        let insert = doc! {"insert": "events", "documents": [{"n": n}]};
        let reply = self
            .monitor
            .run_command(Operation::Write, &ReadPreference::primary(), "test", insert, true)
            .await;
        matches!(reply, Ok(reply) if reply.get_f64("ok").ok() == Some(1.0) || reply.get_i32("ok").ok() == Some(1))
    }
}

fn code(reply: &Document) -> i32 {
    reply.get_i32("code").unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stepped_down_primary_is_replaced_within_two_seconds() {
    let ports = free_ports(3);
    let hosts: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let members = hosts.join(",");
    let mut servers = Vec::new();
    for port in &ports {
        servers.push(start_member(*port, &members).await);
    }
    let c = client(&hosts);

    // The first member is preferred: it wins the first election.
    let old = tokio::time::timeout(PATIENCE, c.primary()).await.unwrap();
    assert_eq!(old, hosts[0]);
    let before = c.hello(&old).await;
    assert_eq!(before.get_str("setName").unwrap(), SET);
    assert!(before.get_bool("isWritablePrimary").unwrap());
    let old_election = before.get_object_id("electionId").unwrap();
    assert!(c.write(0).await);

    // A secondary refuses writes and unflagged reads, and serves reads that allow a secondary.
    let secondary = &hosts[2];
    let hello = c.hello(secondary).await;
    assert!(hello.get_bool("secondary").unwrap());
    assert!(!hello.get_bool("isWritablePrimary").unwrap());
    assert_eq!(hello.get_str("me").unwrap(), secondary);
    let insert = doc! {"insert": "events", "documents": [{"n": -1}]};
    assert_eq!(code(&c.run(secondary, insert, Document::new()).await), 10107);
    let find = doc! {"find": "events"};
    assert_eq!(
        code(&c.run(secondary, find.clone(), Document::new()).await),
        13435
    );
    let secondary_ok = doc! {"$readPreference": {"mode": "secondaryPreferred"}};
    let reply = c.run(secondary, find, secondary_ok).await;
    assert!(reply.contains_key("cursor"), "{reply:?}");

    // Writes keep flowing from a task while the primary steps down.
    let (done_tx, mut done) = mpsc::unbounded_channel::<(Instant, Instant)>();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = Arc::clone(&stop);
        let monitor = c.monitor.clone();
        let executor = c.executor.clone();
        tokio::spawn(async move {
            let c = Client { executor, monitor };
            let mut n = 1;
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                if c.write(n).await {
                    let _ = done_tx.send((started, Instant::now()));
                }
                n += 1;
            }
        })
    };
    done.recv().await.unwrap();
    let step_down = doc! {"replSetStepDown": 60, "force": false};
    let mut request = RemoteCommandRequest::new(&old, "admin", step_down);
    request.timeout = Some(Duration::from_secs(5));
    let reply = c.executor.run_remote_command(request, None).await;
    assert_eq!(reply.data.get_f64("ok").unwrap(), 1.0, "{:?}", reply.data);
    let stepped_down = Instant::now();
    // The first write started after the step-down that succeeded: it reached the new primary.
    let finished = tokio::time::timeout(PATIENCE, async {
        loop {
            let (started, finished) = done.recv().await.unwrap();
            if started > stepped_down {
                return finished;
            }
        }
    })
    .await
    .expect("a write after the step-down");
    let gap = finished - stepped_down;
    assert!(gap < Duration::from_secs(2), "the new primary took {gap:?}");
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();

    // The handoff went to the next member; its electionId is higher; the old primary is a secondary.
    let new = c.primary().await;
    assert_eq!(new, hosts[1]);
    let after = c.hello(&new).await;
    let new_election: ObjectId = after.get_object_id("electionId").unwrap();
    assert!(new_election.bytes() > old_election.bytes());
    let old_hello = c.hello(&old).await;
    assert!(old_hello.get_bool("secondary").unwrap());
    let counter = |d: &Document| {
        d.get_document("topologyVersion")
            .unwrap()
            .get_i64("counter")
            .unwrap()
    };
    assert!(counter(&old_hello) > counter(&before));
    assert_eq!(
        code(
            &c.run(
                &old,
                doc! {"insert": "events", "documents": [{}]},
                Document::new()
            )
            .await
        ),
        10107
    );
    // A stepped-down member may not step up before its period ends.
    let step_up = c.run(&old, doc! {"replSetStepUp": 1}, Document::new()).await;
    assert_eq!(
        code(&step_up),
        13,
        "replSetStepUp runs on admin only: {step_up:?}"
    );
    let mut request = RemoteCommandRequest::new(&old, "admin", doc! {"replSetStepUp": 1});
    request.timeout = Some(Duration::from_secs(5));
    let refused = c.executor.run_remote_command(request, None).await;
    assert_eq!(code(&refused.data), 125, "{:?}", refused.data);

    // replSetGetStatus on the new primary: every member, with their states.
    let mut request = RemoteCommandRequest::new(&new, "admin", doc! {"replSetGetStatus": 1});
    request.timeout = Some(Duration::from_secs(5));
    let status = c.executor.run_remote_command(request, None).await.data;
    assert_eq!(status.get_i32("myState").unwrap(), 1);
    let states: Vec<(String, i32)> = status
        .get_array("members")
        .unwrap()
        .iter()
        .map(|m| {
            let m = m.as_document().unwrap();
            (m.get_str("name").unwrap().to_owned(), m.get_i32("state").unwrap())
        })
        .collect();
    assert_eq!(states[1], (new.clone(), 1));
    assert_eq!(states.len(), 3);

    // serverStatus: the repl section and the replication network's counters (heartbeats went out).
    let mut request = RemoteCommandRequest::new(&new, "admin", doc! {"serverStatus": 1});
    request.timeout = Some(Duration::from_secs(5));
    let status = c.executor.run_remote_command(request, None).await.data;
    let repl = status.get_document("repl").unwrap();
    assert_eq!(
        (
            repl.get_str("setName").unwrap(),
            repl.get_bool("isWritablePrimary").unwrap()
        ),
        (SET, true)
    );
    let counters = status
        .get_document("networkInterfaces")
        .unwrap()
        .get_document("Replication")
        .unwrap();
    assert!(counters.get_i64("sent").unwrap() > 0 && counters.get_i64("succeeded").unwrap() > 0);

    // The Rust driver sees the same primary.
    let uri = format!("mongodb://{members}/?replicaSet={SET}&serverSelectionTimeoutMS=10000");
    let driver = mongodb::Client::with_uri_str(&uri).await.unwrap();
    let hello = driver
        .database("admin")
        .run_command(doc! {"hello": 1})
        .await
        .unwrap();
    assert_eq!(hello.get_str("me").unwrap(), new);
    assert_eq!(hello.get_str("primary").unwrap(), new);
    driver
        .database("test")
        .collection::<Document>("events")
        .insert_one(doc! {"from": "driver"})
        .await
        .unwrap();
    driver.shutdown().await;

    c.executor.shutdown();
    c.executor.join().await;
    for server in servers {
        server.shutdown(Duration::from_secs(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_replica_set_flags_are_refused() {
    let bad = |flags: &[&str]| docwire_server::Settings::from_flags(flags.iter().copied()).is_err();
    assert!(bad(&["--replSet", "rs0"]));
    assert!(bad(&["--replSetMembers", "127.0.0.1:1"]));
    let settings = docwire_server::Settings::from_flags([
        "--port",
        "27999",
        "--nounixsocket",
        "--storageEngine",
        "inMemory",
        "--replSet",
        "rs0",
        "--replSetMembers",
        "127.0.0.1:1",
    ])
    .unwrap();
    let started = docwire_server::start(&settings, None).await;
    assert!(started.is_err(), "no member is on this server's port");
}
