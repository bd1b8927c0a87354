//! killOp, currentOp and shutdown across threads and tasks, on the mock clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should fail loudly

use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use bson::{Bson, doc};
use docwire_rpc::ErrorCode;
use docwire_service::{
    ClientMetadata, Clock, LogicalOp, MockClock, Monitor, OperationId, PeriodicJob, ServiceContext,
    TransportSession,
};

fn service() -> (ServiceContext, MockClock) {
    let clock = MockClock::new();
    (
        ServiceContext::with_clock(Arc::new(clock.clone())).unwrap(),
        clock,
    )
}

struct Session;

impl TransportSession for Session {
    fn connection_id(&self) -> u64 {
        7
    }
    fn remote_address(&self) -> String {
        "127.0.0.1:40000".into()
    }
    fn is_connected(&self) -> bool {
        true
    }
}

#[tokio::test]
async fn kill_op_interrupts_an_operation_waiting_in_another_task() {
    let (service, _clock) = service();
    let (started_tx, started) = tokio::sync::oneshot::channel();
    let task_service = service.clone();
    let waiter = tokio::spawn(async move {
        let mut client = task_service
            .make_client("conn7", Some(Arc::new(Session)))
            .unwrap();
        let op = client.make_operation_context().unwrap();
        started_tx.send(op.id()).unwrap();
        op.wait_for_condition_or_interrupt_async(None, std::future::pending::<()>())
            .await
    });
    let opid = started.await.unwrap();
    let reply = service
        .kill_op_command(&doc! {"killOp": 1, "op": i64::from(opid.as_u32())})
        .unwrap();
    assert_eq!(reply, doc! {"info": "attempting to kill op", "ok": 1.0});
    assert_eq!(waiter.await.unwrap().unwrap_err().code(), ErrorCode::Interrupted);
    assert_eq!(service.operation_count(), 0);
}

#[test]
fn kill_op_answers_the_same_for_an_unknown_op_and_rejects_a_missing_one() {
    let (service, _clock) = service();
    let reply = service
        .kill_op_command(&doc! {"killOp": 1, "op": 123_456})
        .unwrap();
    assert_eq!(reply, doc! {"info": "attempting to kill op", "ok": 1.0});
    assert_eq!(
        service.kill_op_command(&doc! {"killOp": 1}).unwrap_err().code(),
        ErrorCode::BadValue
    );
    assert_eq!(
        service
            .kill_op_command(&doc! {"killOp": 1, "op": "x"})
            .unwrap_err()
            .code(),
        ErrorCode::TypeMismatch
    );
    assert!(!service.kill_operation_by_id(OperationId::from(99), ErrorCode::Interrupted));
}

#[test]
fn current_op_reports_running_operations_as_mongod_does() {
    let (service, clock) = service();
    let mut client = service.make_client("conn7", Some(Arc::new(Session))).unwrap();
    client
        .set_metadata(
            ClientMetadata::parse(doc! {
                "application": {"name": "reports"},
                "driver": {"name": "mongo-java-driver", "version": "5.1"},
                "os": {"type": "Linux"},
            })
            .unwrap(),
        )
        .unwrap();
    let _idle = service.make_client("idle", None).unwrap();
    let op = client.make_operation_context().unwrap();
    op.set_command(
        LogicalOp::Command,
        "shop.orders",
        doc! {"find": "orders", "filter": {"qty": {"$gt": 1}}},
    );
    clock.advance(Duration::from_micros(2_500_000));

    let inprog = service.current_op(false);
    assert_eq!(inprog.len(), 1);
    let report = &inprog[0];
    let keys: Vec<&str> = report.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "type",
            "desc",
            "connectionId",
            "client",
            "appName",
            "clientMetadata",
            "active",
            "opid",
            "secs_running",
            "microsecs_running",
            "op",
            "ns",
            "command"
        ]
    );
    assert_eq!(report.get_str("desc").unwrap(), "conn7");
    assert_eq!(report.get_i32("connectionId").unwrap(), 7);
    assert_eq!(report.get_str("client").unwrap(), "127.0.0.1:40000");
    assert_eq!(report.get_str("appName").unwrap(), "reports");
    assert!(report.get_bool("active").unwrap());
    assert_eq!(report.get_i64("opid").unwrap(), i64::from(op.id().as_u32()));
    assert_eq!(report.get_i64("secs_running").unwrap(), 2);
    assert_eq!(report.get_i64("microsecs_running").unwrap(), 2_500_000);
    assert_eq!(report.get_str("op").unwrap(), "command");
    assert_eq!(report.get_str("ns").unwrap(), "shop.orders");
    assert_eq!(
        report.get_document("command").unwrap().get_str("find").unwrap(),
        "orders"
    );

    let all = service.current_op(true);
    assert_eq!(all.len(), 2);
    let idle = all
        .iter()
        .find(|r| r.get_str("desc").is_ok_and(|d| d == "idle"))
        .unwrap();
    assert!(!idle.get_bool("active").unwrap());
    assert_eq!(idle.get_i32("connectionId").unwrap(), 0);

    op.mark_killed(ErrorCode::Interrupted);
    let reply = service.current_op_reply(false);
    assert_eq!(reply.get_f64("ok").unwrap(), 1.0);
    let inprog = reply.get_array("inprog").unwrap();
    let Bson::Document(report) = &inprog[0] else {
        panic!("inprog holds documents")
    };
    assert!(report.get_bool("killPending").unwrap());
}

#[test]
fn current_op_truncates_large_commands() {
    let (service, _clock) = service();
    let mut client = service.make_client("c", None).unwrap();
    let op = client.make_operation_context().unwrap();
    op.set_command(
        LogicalOp::Insert,
        "db.c",
        doc! {"insert": "c", "documents": [{"blob": "z".repeat(2_000)}]},
    );
    let report = service.current_op(false).remove(0);
    let command = report.get_document("command").unwrap();
    assert_eq!(command.get_str("$truncated").unwrap().len(), 1_000);
}

#[tokio::test]
async fn shutdown_kills_every_operation_and_waits_for_them() {
    let (service, _clock) = service();
    // One operation waiting on a dedicated thread...
    let state = Arc::new(Monitor::new(()));
    let (thread_started_tx, thread_started) = mpsc::channel();
    let thread_service = service.clone();
    let thread_waiter = thread::spawn(move || {
        let mut client = thread_service.make_client("thread", None).unwrap();
        let op = client.make_operation_context().unwrap();
        let mut first = true;
        let result = op.wait_for_condition_or_interrupt(&state, |_| {
            if std::mem::take(&mut first) {
                thread_started_tx.send(()).unwrap();
            }
            false
        });
        result.map(drop).unwrap_err().code()
    });
    // ...one waiting in a task...
    let (task_started_tx, task_started) = tokio::sync::oneshot::channel();
    let task_service = service.clone();
    let task_waiter = tokio::spawn(async move {
        let mut client = task_service.make_client("task", None).unwrap();
        let op = client.make_operation_context().unwrap();
        task_started_tx.send(()).unwrap();
        op.sleep_for_async(Duration::from_secs(3600))
            .await
            .unwrap_err()
            .code()
    });
    // ...and a periodic job.
    let job = service
        .periodic_runner()
        .make_job(PeriodicJob::new("ttl", Duration::from_secs(60), |_| {}));
    job.start().unwrap();
    let shutdown_token = service.shutdown_token();

    thread_started.recv().unwrap();
    task_started.await.unwrap();
    assert_eq!(service.operation_count(), 2);
    service.shutdown_async(Duration::from_secs(10)).await.unwrap();

    assert_eq!(service.operation_count(), 0);
    assert_eq!(thread_waiter.join().unwrap(), ErrorCode::InterruptedAtShutdown);
    assert_eq!(task_waiter.await.unwrap(), ErrorCode::InterruptedAtShutdown);
    assert!(shutdown_token.is_cancelled());
    assert_eq!(job.resume().unwrap_err().code(), ErrorCode::PeriodicJobIsStopped);
    // Operations made after shutdown begin killed.
    let mut late = service.make_client("late", None).unwrap();
    let op = late.make_operation_context().unwrap();
    assert_eq!(
        op.check_for_interrupt().unwrap_err().code(),
        ErrorCode::InterruptedAtShutdown
    );
}

#[test]
fn shutdown_waits_on_a_thread_until_operations_finish() {
    let (service, _clock) = service();
    let state = Arc::new(Monitor::new(()));
    let (started_tx, started) = mpsc::channel();
    let waiter_service = service.clone();
    let waiter = thread::spawn(move || {
        let mut client = waiter_service.make_client("w", None).unwrap();
        let op = client.make_operation_context().unwrap();
        let result = op.wait_for_condition_or_interrupt(&state, |_| {
            let _ = started_tx.send(());
            false
        });
        result.map(drop).unwrap_err().code()
    });
    started.recv().unwrap();
    service.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(waiter.join().unwrap(), ErrorCode::InterruptedAtShutdown);
}

#[test]
fn shutdown_gives_up_after_its_grace_period_on_the_clock() {
    let (service, clock) = service();
    let mut client = service.make_client("stubborn", None).unwrap();
    // An operation nobody finishes: it is killed, but its owner never drops it.
    let op = client.make_operation_context().unwrap();
    let deadline = clock.now().saturating_add(Duration::from_secs(5));
    let shutdown_service = service.clone();
    let shutdown = thread::spawn(move || shutdown_service.shutdown_until(deadline));
    clock.advance(Duration::from_secs(5));
    let status = shutdown.join().unwrap().unwrap_err();
    assert_eq!(status.code(), ErrorCode::ExceededTimeLimit);
    assert!(status.reason().contains("1 operations"), "{status}");
    assert_eq!(op.kill_code(), Some(ErrorCode::InterruptedAtShutdown));
}
