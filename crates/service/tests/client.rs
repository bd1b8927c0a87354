//! Client behaviour: the Client lock rules, one operation per Client, metadata, observers, and binding a
//! Client to a thread (ThreadClient, AlternativeClientRegion, ClientStrand) or a task.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should fail loudly

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;

use bson::doc;
use docwire_rpc::ErrorCode;
use docwire_service::{
    AlternativeClientRegion, Client, ClientMetadata, ClientObserver, ClientStrand, MockClock,
    OperationContext, ServiceContext, ThreadClient, TransportSession, run_with_client,
};

fn service() -> ServiceContext {
    ServiceContext::with_clock(Arc::new(MockClock::new())).unwrap()
}

fn metadata(app: &str) -> ClientMetadata {
    ClientMetadata::parse(doc! {
        "application": {"name": app},
        "driver": {"name": "pymongo", "version": "4.8"},
        "os": {"type": "Linux"},
    })
    .unwrap()
}

struct Session;

impl TransportSession for Session {
    fn connection_id(&self) -> u64 {
        42
    }
    fn remote_address(&self) -> String {
        "10.0.0.7:51234".into()
    }
    fn is_connected(&self) -> bool {
        true
    }
}

#[test]
fn owner_writes_are_read_by_other_threads_under_the_lock() {
    let service = service();
    let mut owner = service.make_client("conn42", Some(Arc::new(Session))).unwrap();
    owner.set_tags(0b101);
    owner.set_metadata(metadata("inventory")).unwrap();
    let shared = owner.client().clone();
    let seen = thread::spawn(move || {
        let locked = shared.lock();
        (
            locked.tags(),
            locked.app_name().map(str::to_owned),
            locked.operation().is_some(),
        )
    })
    .join()
    .unwrap();
    assert_eq!(seen, (0b101, Some("inventory".to_owned()), false));
}

#[test]
fn owner_reads_its_own_state_without_the_lock() {
    let service = service();
    let mut owner = service.make_client("c", None).unwrap();
    owner.set_tags(3);
    owner.set_metadata(metadata("app")).unwrap();
    let shared = owner.client().clone();
    // Another party holds the Client lock; the owner's reads must not need it (they would deadlock).
    let _held = shared.lock();
    assert_eq!(owner.tags(), 3);
    assert_eq!(owner.app_name(), Some("app"));
    assert!(shared.try_lock().is_none(), "the lock is held, so try_lock fails");
}

#[test]
fn try_lock_succeeds_when_free() {
    let service = service();
    let owner = service.make_client("c", None).unwrap();
    assert!(owner.client().try_lock().is_some());
}

#[test]
fn metadata_can_only_be_set_once() {
    let service = service();
    let mut owner = service.make_client("c", None).unwrap();
    owner.set_metadata(metadata("first")).unwrap();
    let status = owner.set_metadata(metadata("second")).unwrap_err();
    assert_eq!(status.code(), ErrorCode::ClientMetadataCannotBeMutated);
    assert_eq!(owner.client().lock().app_name(), Some("first"));
}

#[test]
fn a_client_runs_one_operation_at_a_time() {
    let service = service();
    let mut client = service.make_client("c", None).unwrap();
    let first = client.make_operation_context().unwrap();
    let status = client.make_operation_context().unwrap_err();
    assert_eq!(status.code(), ErrorCode::IllegalOperation);
    assert_eq!(
        client.client().lock().operation().map(|op| op.id()),
        Some(first.id())
    );
    drop(first);
    assert!(client.client().lock().operation().is_none());
    let second = client.make_operation_context().unwrap();
    // Delisting frees the Client too; the delisted operation can no longer be found.
    service.delist_operation(&second);
    assert!(service.operation(second.id()).is_none());
    let third = client.make_operation_context().unwrap();
    assert!(third.id() > second.id());
}

#[test]
fn operation_ids_are_unique_and_increasing() {
    let service = service();
    let mut clients: Vec<_> = (0..5)
        .map(|i| service.make_client(format!("c{i}"), None).unwrap())
        .collect();
    let ops: Vec<OperationContext> = clients
        .iter_mut()
        .map(|c| c.make_operation_context().unwrap())
        .collect();
    assert!(ops.windows(2).all(|pair| pair[0].id() < pair[1].id()));
}

#[test]
fn local_and_session_clients_report_their_connection() {
    let service = service();
    let local = service.make_client("local", None).unwrap();
    assert_eq!(local.connection_id(), 0);
    assert!(local.is_local());
    assert_eq!(local.remote_address(), None);
    let remote = service.make_client("conn42", Some(Arc::new(Session))).unwrap();
    assert_eq!(remote.connection_id(), 42);
    assert_eq!(remote.remote_address().as_deref(), Some("10.0.0.7:51234"));
    assert_eq!(service.clients().len(), 2);
    drop(local);
    assert_eq!(service.clients().len(), 1);
}

#[test]
fn killing_a_client_kills_its_operation() {
    let service = service();
    let mut client = service.make_client("c", None).unwrap();
    let op = client.make_operation_context().unwrap();
    service.kill_client(client.client());
    assert!(client.is_killed());
    assert_eq!(
        op.check_for_interrupt().unwrap_err().code(),
        ErrorCode::ClientMarkedKilled
    );
    assert_eq!(op.kill_code(), Some(ErrorCode::ClientMarkedKilled));
}

#[test]
fn observers_hear_of_clients_and_operations() {
    #[derive(Default)]
    struct Tally {
        clients: AtomicUsize,
        operations: AtomicUsize,
        events: std::sync::Mutex<Vec<String>>,
    }
    impl ClientObserver for Tally {
        fn on_create_client(&self, client: &Client) {
            self.clients.fetch_add(1, Ordering::SeqCst);
            self.events
                .lock()
                .unwrap()
                .push(format!("+client {}", client.description()));
        }
        fn on_destroy_client(&self, client: &Client) {
            self.clients.fetch_sub(1, Ordering::SeqCst);
            self.events
                .lock()
                .unwrap()
                .push(format!("-client {}", client.description()));
        }
        fn on_create_operation_context(&self, op: &OperationContext) {
            self.operations.fetch_add(1, Ordering::SeqCst);
            self.events
                .lock()
                .unwrap()
                .push(format!("+op {}", op.client().description()));
        }
        fn on_destroy_operation_context(&self, op: &OperationContext) {
            self.operations.fetch_sub(1, Ordering::SeqCst);
            self.events
                .lock()
                .unwrap()
                .push(format!("-op {}", op.client().description()));
        }
    }
    let tally = Arc::new(Tally::default());
    let mut builder = ServiceContext::builder();
    builder
        .clock(Arc::new(MockClock::new()))
        .add_client_observer(tally.clone());
    let service = builder.build().unwrap();
    let mut client = service.make_client("x", None).unwrap();
    let op = client.make_operation_context().unwrap();
    assert_eq!(
        (
            tally.clients.load(Ordering::SeqCst),
            tally.operations.load(Ordering::SeqCst)
        ),
        (1, 1)
    );
    drop(op);
    drop(client);
    assert_eq!(
        *tally.events.lock().unwrap(),
        ["+client x", "+op x", "-op x", "-client x"]
    );
}

#[test]
fn thread_client_binds_for_its_lifetime() {
    let service = service();
    assert!(Client::current().is_none());
    {
        let bound = ThreadClient::make(&service, "worker").unwrap();
        assert_eq!(Client::current().unwrap().description(), "worker");
        assert!(ServiceContext::current().unwrap().ptr_eq(&service));
        assert_eq!(bound.description(), "worker");
        // A second ThreadClient on the same thread is an error, not a panic.
        let status = ThreadClient::make(&service, "again").unwrap_err();
        assert_eq!(status.code(), ErrorCode::IllegalOperation);
        // Another thread sees nothing bound.
        assert!(thread::spawn(|| Client::current().is_none()).join().unwrap());
    }
    assert!(Client::current().is_none());
    assert!(
        service.clients().is_empty(),
        "the ThreadClient owned and destroyed its Client"
    );
}

#[test]
fn alternative_client_region_swaps_and_restores() {
    let service = service();
    let _main = ThreadClient::make(&service, "main").unwrap();
    let mut other = service.make_client("alternative", None).unwrap();
    {
        let mut region = AlternativeClientRegion::new(&mut other);
        assert_eq!(Client::current().unwrap().description(), "alternative");
        let _op = region.make_operation_context().unwrap();
    }
    assert_eq!(Client::current().unwrap().description(), "main");
    // The caller still owns the swapped-in Client.
    assert_eq!(other.description(), "alternative");
}

#[test]
fn client_strand_binds_its_client_on_any_thread() {
    let service = service();
    let strand = ClientStrand::new(service.make_client("strand", None).unwrap());
    let (tx, rx) = mpsc::channel();
    let workers: Vec<_> = (0..3)
        .map(|i| {
            let strand = strand.clone();
            let tx = tx.clone();
            thread::spawn(move || {
                strand.run(|client| {
                    let current = Client::current().map(|c| c.description().to_owned());
                    let op = client.make_operation_context().map(|op| op.id());
                    tx.send((i, current, op.is_ok())).unwrap();
                });
                Client::current().is_none()
            })
        })
        .collect();
    for worker in workers {
        assert!(worker.join().unwrap(), "the binding ends with the work");
    }
    drop(tx);
    let runs: Vec<_> = rx.iter().collect();
    assert_eq!(runs.len(), 3);
    // Bound on every thread, and serial: each run could make the Client's one operation.
    assert!(
        runs.iter()
            .all(|(_, current, made)| current.as_deref() == Some("strand") && *made)
    );
}

#[tokio::test]
async fn a_task_binding_follows_the_task() {
    let service = service();
    let client = service.make_client("task", None).unwrap();
    let shared = client.client().clone();
    let seen = tokio::spawn(run_with_client(shared, async {
        let before = Client::current().map(|c| c.description().to_owned());
        tokio::task::yield_now().await;
        let after = ServiceContext::current().is_some();
        (before, after)
    }))
    .await
    .unwrap();
    assert_eq!(seen, (Some("task".to_owned()), true));
    assert!(Client::current().is_none());
}
