//! The task executor over the real network interface (the connection pool and the async client)
//! against an in-process docwire server: a round trip, on-any targeting past a dead host, a request
//! timeout against a blocking awaitable hello, cancellation that drops the connection instead of
//! reusing it mid-reply, an exhaust stream, a baton completing a command while every executor worker
//! is busy, and the counters.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bson::{Document, doc};
use docwire_executor::network::real::{RealNetwork, RealNetworkOptions};
use docwire_executor::{
    Baton, Counters, ExecutorOptions, NetworkInterface, RemoteCommandCallbackArgs, RemoteOptions,
    TaskExecutor,
};
use docwire_rpc::ErrorCode;
use docwire_service::{Clock, SystemClock};
use docwire_tests::{RunningServer, State, Transitions, start_server};
use docwire_transport::client::{
    RemoteCommandOnAnyResponse, RemoteCommandRequest, RemoteCommandRequestOnAny,
};
use tokio::sync::mpsc;

const PATIENCE: Duration = Duration::from_secs(20);

struct Fixture {
    server: RunningServer,
    transitions: Transitions,
    network: RealNetwork,
    executor: TaskExecutor,
    host: String,
}

async fn fixture(workers: usize) -> Fixture {
    let transitions = Transitions::new();
    let server = start_server(&["--storageEngine", "inMemory"], Some(&transitions)).await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new().unwrap());
    let options = RealNetworkOptions {
        name: "executor-real-network".into(),
        pool: docwire_pool::Options {
            min_connections: 0,
            ..docwire_pool::Options::default()
        },
        ..RealNetworkOptions::default()
    };
    let network = RealNetwork::new(options, clock).unwrap();
    let executor = TaskExecutor::new(
        Arc::new(network.clone()),
        ExecutorOptions {
            name: "real".into(),
            workers,
        },
    )
    .unwrap();
    executor.startup().unwrap();
    let host = server.addrs[0].to_string();
    Fixture {
        server,
        transitions,
        network,
        executor,
        host,
    }
}

impl Fixture {
    fn request(&self, command: Document) -> RemoteCommandRequest {
        RemoteCommandRequest::new(&self.host, "admin", command)
    }

    /// An awaitable hello that waits (up to a minute) for the server's next topology change.
    fn awaitable_hello(&self) -> RemoteCommandRequest {
        let tv = self.server.topology.topology_version();
        self.request(doc! {"hello": 1, "topologyVersion": tv, "maxAwaitTimeMS": 60_000_i64})
    }

    /// Waits until some session is running its second command (the first is the pool's handshake),
    /// and returns that session's id.
    async fn wait_for_second_command(&self) -> u64 {
        let processing = |t: &Transitions, s: u64| {
            let steps = t.of(s);
            let started = steps
                .iter()
                .filter(|(_, to)| matches!(to, State::ProcessStandard | State::ProcessExhaust))
                .count();
            started >= 2
        };
        self.transitions
            .wait_until("a second command in process", |t| {
                t.sessions().into_iter().any(|s| processing(t, s))
            })
            .await;
        let sessions = self.transitions.sessions();
        sessions
            .into_iter()
            .find(|&s| processing(&self.transitions, s))
            .unwrap()
    }

    async fn wait_for_session_end(&self, session: u64) {
        self.transitions
            .wait_until("the cancelled command's session to end", |t| {
                t.of(session).iter().any(|(_, to)| *to == State::EndSession)
            })
            .await;
    }

    async fn finish(self) {
        self.executor.shutdown();
        self.executor.join().await;
        self.server.shutdown(Duration::from_secs(5)).await;
    }
}

async fn within<T>(what: &str, work: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, work)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {PATIENCE:?}"))
}

/// A callback that forwards its reply to the returned receiver.
fn forward() -> (
    impl FnOnce(RemoteCommandCallbackArgs) + Send + 'static,
    mpsc::UnboundedReceiver<RemoteCommandOnAnyResponse>,
) {
    let (sender, receiver) = mpsc::unbounded_channel();
    (
        move |args: RemoteCommandCallbackArgs| drop(sender.send(args.response)),
        receiver,
    )
}

/// A port nothing listens on.
fn dead_host() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn round_trip_on_one_host_and_on_any() {
    let f = fixture(2).await;
    let reply = within(
        "ping",
        f.executor.run_remote_command(f.request(doc! {"ping": 1}), None),
    )
    .await;
    assert_eq!(reply.status, Ok(()));
    assert_eq!(reply.data.get_f64("ok").unwrap(), 1.0);

    // The callback form, with a command the server does not know: a reply with ok: 0.
    let (callback, mut replies) = forward();
    f.executor
        .schedule_remote_command(
            f.request(doc! {"noSuchCommand": 1}),
            RemoteOptions::default(),
            callback,
        )
        .unwrap();
    let reply = within("the callback", replies.recv()).await.unwrap();
    assert_eq!(reply.response.status, Ok(()));
    assert_eq!(reply.response.data.get_i32("code").unwrap(), 59);
    assert_eq!(reply.target.as_deref(), Some(f.host.as_str()));

    // On any: the dead host is passed over and the reply names the one that answered.
    let request = RemoteCommandRequestOnAny {
        targets: vec![dead_host(), f.host.clone()],
        ..docwire_executor::on_any(f.request(doc! {"ping": 1}))
    };
    let reply = within("on any", f.executor.run_remote_command_on_any(request, None)).await;
    assert_eq!(reply.response.status, Ok(()));
    assert_eq!(reply.target.as_deref(), Some(f.host.as_str()));

    // Only a dead host: a transport failure.
    let mut request = RemoteCommandRequest::new(dead_host(), "admin", doc! {"ping": 1});
    request.timeout = Some(Duration::from_secs(10));
    let reply = within("a dead host", f.executor.run_remote_command(request, None)).await;
    assert!(reply.status.is_err(), "{reply:?}");

    let counters = f.network.counters();
    assert_eq!(
        counters,
        Counters {
            sent: 4,
            succeeded: 2,
            failed_remotely: 1,
            failed: 1,
            ..Counters::default()
        }
    );
    let reported = counters.to_document();
    assert_eq!(reported.get_i64("sent").unwrap(), 4);
    assert_eq!(reported.get_i64("failedRemotely").unwrap(), 1);
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_request_timeout_ends_a_blocking_command_with_202() {
    let f = fixture(2).await;
    let mut request = f.awaitable_hello();
    request.timeout = Some(Duration::from_millis(300));
    let reply = within(
        "the timed-out hello",
        f.executor.run_remote_command(request, None),
    )
    .await;
    let status = reply.status.unwrap_err();
    assert_eq!(
        status.code(),
        ErrorCode::NetworkInterfaceExceededTimeLimit,
        "{status}"
    );
    assert!(reply.elapsed >= Duration::from_millis(300));
    // The connection was mid-reply: the pool dropped it, so once the server answers the hello it
    // finds the connection gone and ends the session.
    let session = f.wait_for_second_command().await;
    f.server.topology.bump();
    f.wait_for_session_end(session).await;
    let counters = f.network.counters();
    assert_eq!((counters.sent, counters.timed_out), (1, 1));
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_command_never_leaves_its_connection_for_reuse() {
    let f = fixture(2).await;
    let (callback, mut replies) = forward();
    let handle = f
        .executor
        .schedule_remote_command(f.awaitable_hello(), RemoteOptions::default(), callback)
        .unwrap();
    let session = f.wait_for_second_command().await;
    f.executor.cancel(&handle);
    let reply = within("the cancelled callback", replies.recv()).await.unwrap();
    assert_eq!(
        reply.response.status.unwrap_err().code(),
        ErrorCode::CallbackCanceled
    );
    // Wake the hello the server was still holding: its reply has nowhere to go, and the session ends.
    f.server.topology.bump();
    f.wait_for_session_end(session).await;
    let reply = within(
        "the next ping",
        f.executor.run_remote_command(f.request(doc! {"ping": 1}), None),
    )
    .await;
    assert_eq!(reply.status, Ok(()));
    assert!(!reply.data.contains_key("isWritablePrimary"), "{:?}", reply.data);
    let counters = f.network.counters();
    assert_eq!((counters.sent, counters.canceled, counters.succeeded), (2, 1, 1));
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_exhaust_hello_streams_until_cancelled() {
    let f = fixture(2).await;
    let seen: Arc<Mutex<Vec<RemoteCommandOnAnyResponse>>> = Arc::default();
    let (sender, mut arrived) = mpsc::unbounded_channel::<()>();
    let record = Arc::clone(&seen);
    let handle = f
        .executor
        .schedule_exhaust_remote_command(f.awaitable_hello(), move |args| {
            record.lock().unwrap().push(args.response);
            let _ = sender.send(());
        })
        .unwrap();
    for _ in 0..2 {
        f.wait_for_second_command().await;
        f.server.topology.bump();
        within("an exhaust reply", arrived.recv()).await.unwrap();
    }
    f.executor.cancel(&handle);
    within("the final callback", arrived.recv()).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    for (i, reply) in seen[..2].iter().enumerate() {
        assert!(reply.response.more_to_come);
        let counter = reply
            .response
            .data
            .get_document("topologyVersion")
            .unwrap()
            .get_i64("counter");
        assert_eq!(counter.unwrap(), i64::try_from(i).unwrap() + 1);
    }
    assert_eq!(
        seen[2].response.status.as_ref().unwrap_err().code(),
        ErrorCode::CallbackCanceled
    );
    assert_eq!(f.network.counters().canceled, 1);
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_baton_completes_a_command_while_every_worker_is_busy() {
    let f = fixture(1).await;
    // Occupy the executor's only worker until the baton's command has completed.
    let (release, blocked) = std::sync::mpsc::channel::<()>();
    let (busy_tx, mut busy) = mpsc::unbounded_channel::<()>();
    f.executor
        .schedule_work(move |_| {
            let _ = busy_tx.send(());
            tokio::task::block_in_place(|| blocked.recv().ok());
        })
        .unwrap();
    within("the worker to be busy", busy.recv()).await.unwrap();

    let mut baton = Baton::new();
    let (callback, mut replies) = forward();
    f.executor
        .schedule_remote_command(
            f.request(doc! {"ping": 1}),
            RemoteOptions {
                op: None,
                baton: Some(&baton),
            },
            callback,
        )
        .unwrap();
    let reply = within("the baton's command", baton.run_until(replies.recv()))
        .await
        .unwrap();
    assert_eq!(reply.response.status, Ok(()));
    assert_eq!(baton.pending(), 0);
    // Only now is the worker let go.
    release.send(()).unwrap();
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_workers_wait_for_work_and_are_woken() {
    // A network no executor waits on, so the test is the only waiter.
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new().unwrap());
    let network = RealNetwork::new(RealNetworkOptions::default(), clock).unwrap();
    network.signal_work_available();
    within("a signalled wait", network.wait_for_work()).await;
    let soon = network.clock().now().saturating_add(Duration::from_millis(20));
    within("a bounded wait", network.wait_for_work_until(soon)).await;
    // Before startup commands are refused; after shutdown too.
    let request = docwire_executor::on_any(RemoteCommandRequest::new(
        "127.0.0.1:1",
        "admin",
        doc! {"ping": 1},
    ));
    let reply = network.start_command(request.clone()).await;
    assert_eq!(
        reply.response.status.unwrap_err().code(),
        ErrorCode::NotYetInitialized
    );
    network.startup().unwrap();
    network.shutdown();
    let reply = network.start_command(request).await;
    assert_eq!(
        reply.response.status.unwrap_err().code(),
        ErrorCode::ShutdownInProgress
    );
}
