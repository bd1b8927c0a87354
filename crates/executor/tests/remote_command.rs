//! mongod's task_executor_test remote-command cases (success, error propagation, cancel, timeout,
//! operation deadlines and kills, on-any, exhaust, batons) on the mock network.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should fail loudly

mod common;

use std::sync::Arc;

use bson::doc;
use common::{Recorder, at_ms, fixture_with_workers, ms, started};
use docwire_executor::network::mock::NetworkOperation;
use docwire_executor::{Baton, Counters, RemoteOptions};
use docwire_rpc::{ErrorCode, Status};
use docwire_service::{ClockTime, ServiceContext};
use docwire_transport::client::{RemoteCommandRequest, RemoteCommandRequestOnAny, RemoteCommandResponse};

fn ping(target: &str) -> RemoteCommandRequest {
    RemoteCommandRequest::new(target, "admin", doc! {"ping": 1})
}

fn status_code(response: &RemoteCommandResponse) -> ErrorCode {
    match &response.status {
        Ok(()) => ErrorCode::OK,
        Err(status) => status.code(),
    }
}

fn take(f: &common::Fixture) -> NetworkOperation {
    f.net
        .enter_network()
        .next_ready_request()
        .expect("a ready request")
}

#[tokio::test]
async fn schedule_remote_command_success() {
    let f = started();
    let rec = Recorder::default();
    let handle = f
        .executor
        .schedule_remote_command(ping("h1:27017"), RemoteOptions::default(), rec.remote())
        .unwrap();
    let op = take(&f);
    assert_eq!(op.request.targets, vec!["h1:27017".to_string()]);
    assert_eq!(op.request.command, doc! {"ping": 1});
    let net = f.net.enter_network();
    net.schedule_successful_response(&op, doc! {"ok": 1, "pong": true});
    net.run_ready_network_operations();
    net.exit_network();
    handle.wait().await;
    let seen = rec.seen();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].response.status.is_ok());
    assert_eq!(seen[0].response.data, doc! {"ok": 1, "pong": true});
    assert_eq!(seen[0].target.as_deref(), Some("h1:27017"));
    assert_eq!(
        f.net_counters(),
        Counters {
            sent: 1,
            succeeded: 1,
            ..Counters::default()
        }
    );
}

trait NetCounters {
    fn net_counters(&self) -> Counters;
}

impl NetCounters for common::Fixture {
    fn net_counters(&self) -> Counters {
        self.executor.network().counters()
    }
}

#[tokio::test]
async fn remote_command_error_propagation() {
    let f = started();
    let rec = Recorder::default();
    let transport = f
        .executor
        .schedule_remote_command(ping("h1:1"), RemoteOptions::default(), rec.remote())
        .unwrap();
    let remote = f
        .executor
        .schedule_remote_command(ping("h1:1"), RemoteOptions::default(), rec.remote())
        .unwrap();
    let net = f.net.enter_network();
    let a = net.next_ready_request().unwrap();
    let b = net.next_ready_request().unwrap();
    net.schedule_error_response(&a, Status::new(ErrorCode::HostUnreachable, "no route"));
    net.schedule_successful_response(&b, doc! {"ok": 0, "code": 59, "errmsg": "no such command"});
    net.run_ready_network_operations();
    net.exit_network();
    transport.wait().await;
    remote.wait().await;
    let seen = rec.seen();
    let codes: Vec<_> = seen.iter().map(|r| status_code(&r.response)).collect();
    assert!(codes.contains(&ErrorCode::HostUnreachable));
    // A command error is a reply: the transport status is OK and the document carries the error.
    assert!(
        seen.iter()
            .any(|r| r.response.status.is_ok() && r.response.data.get_i32("code").ok() == Some(59))
    );
    let counters = f.net_counters();
    assert_eq!(
        (counters.sent, counters.failed, counters.failed_remotely),
        (2, 1, 1)
    );
}

#[tokio::test]
async fn schedule_and_cancel_remote_command() {
    let f = started();
    let rec = Recorder::default();
    let handle = f
        .executor
        .schedule_remote_command(ping("h1:1"), RemoteOptions::default(), rec.remote())
        .unwrap();
    let op = take(&f);
    f.executor.cancel(&handle);
    handle.wait().await;
    assert_eq!(status_code(&rec.seen()[0].response), ErrorCode::CallbackCanceled);
    // The network operation was cancelled too; a late reply goes nowhere.
    let net = f.net.enter_network();
    assert!(net.was_canceled(&op));
    assert!(!net.is_open(&op));
    net.schedule_successful_response(&op, doc! {"ok": 1});
    net.run_ready_network_operations();
    assert_eq!(rec.seen().len(), 1);
    assert_eq!(f.net_counters().canceled, 1);
}

#[tokio::test]
async fn remote_command_timeout() {
    let f = started();
    let rec = Recorder::default();
    let mut request = ping("h1:1");
    request.timeout = Some(ms(20));
    let handle = f
        .executor
        .schedule_remote_command(request, RemoteOptions::default(), rec.remote())
        .unwrap();
    let net = f.net.enter_network();
    let op = net.next_ready_request().unwrap();
    net.black_hole(&op);
    net.run_until(at_ms(19));
    assert!(net.is_open(&op));
    net.run_until(at_ms(20));
    net.exit_network();
    handle.wait().await;
    assert_eq!(
        status_code(&rec.seen()[0].response),
        ErrorCode::NetworkInterfaceExceededTimeLimit
    );
    assert_eq!(f.net_counters().timed_out, 1);
}

#[tokio::test]
async fn operation_deadline_and_request_timeout_the_shorter_wins() {
    let f = started();
    let service = ServiceContext::with_clock(Arc::new(f.clock.clone())).unwrap();
    let mut client = service.make_client("test", None).unwrap();
    let mut op = client.make_operation_context().unwrap();
    op.set_deadline_after_now_by(ms(10), ErrorCode::MaxTimeMSExpired);

    // The operation's 10 ms beats the request's 1 s: its timeout code is reported.
    let mut slow = ping("h1:1");
    slow.timeout = Some(ms(1_000));
    let short = f.executor.run_remote_command(slow, Some(&op));
    // The request's 5 ms beats the operation's 10 ms: NetworkInterfaceExceededTimeLimit.
    let mut quick = ping("h1:1");
    quick.timeout = Some(ms(5));
    let quicker = f.executor.run_remote_command(quick, Some(&op));
    let (a, b) = tokio::join!(short, quicker, async {
        tokio::task::yield_now().await;
        let net = f.net.enter_network();
        while let Some(op) = net.next_ready_request() {
            assert!(op.request.timeout.unwrap() <= ms(11));
            net.black_hole(&op);
        }
        net.run_until(at_ms(100));
    })
    .into_first_two();
    assert_eq!(status_code(&a), ErrorCode::MaxTimeMSExpired);
    assert_eq!(status_code(&b), ErrorCode::NetworkInterfaceExceededTimeLimit);
}

trait FirstTwo<A, B> {
    fn into_first_two(self) -> (A, B);
}

impl<A, B, C> FirstTwo<A, B> for (A, B, C) {
    fn into_first_two(self) -> (A, B) {
        (self.0, self.1)
    }
}

#[tokio::test]
async fn killing_the_operation_cancels_its_remote_command() {
    let f = started();
    let service = ServiceContext::with_clock(Arc::new(f.clock.clone())).unwrap();
    let mut client = service.make_client("test", None).unwrap();
    let op = client.make_operation_context().unwrap();
    let rec = Recorder::default();
    let handle = f
        .executor
        .schedule_remote_command(
            ping("h1:1"),
            RemoteOptions {
                op: Some(&op),
                baton: None,
            },
            rec.remote(),
        )
        .unwrap();
    let net_op = take(&f);
    op.mark_killed(ErrorCode::Interrupted);
    handle.wait().await;
    assert_eq!(status_code(&rec.seen()[0].response), ErrorCode::Interrupted);
    assert!(f.net.enter_network().was_canceled(&net_op));
}

#[tokio::test]
async fn on_any_names_the_host_that_answered() {
    let f = started();
    let request = RemoteCommandRequestOnAny {
        id: 7,
        db: "admin".into(),
        command: doc! {"hello": 1},
        metadata: doc! {},
        timeout: None,
        targets: vec!["a:1".into(), "b:2".into()],
        fire_and_forget: false,
    };
    let rec = Recorder::default();
    let handle = f
        .executor
        .schedule_remote_command_on_any(request.clone(), RemoteOptions::default(), rec.remote())
        .unwrap();
    let net = f.net.enter_network();
    let op = net.next_ready_request().unwrap();
    assert_eq!(op.request, request);
    net.schedule_successful_response(&op, doc! {"ok": 1});
    net.run_ready_network_operations();
    net.exit_network();
    handle.wait().await;
    assert_eq!(rec.seen()[0].target.as_deref(), Some("a:1"));
}

fn more(data: bson::Document, more_to_come: bool) -> RemoteCommandResponse {
    RemoteCommandResponse {
        data,
        elapsed: ms(0),
        status: Ok(()),
        more_to_come,
    }
}

#[tokio::test]
async fn exhaust_command_runs_the_callback_per_reply() {
    let f = started();
    let rec = Recorder::default();
    let handle = f
        .executor
        .schedule_exhaust_remote_command(ping("h1:1"), rec.remote())
        .unwrap();
    let net = f.net.enter_network();
    let op = net.next_ready_request().unwrap();
    net.schedule_response(&op, at_ms(1), more(doc! {"ok": 1, "n": 1}, true));
    net.schedule_response(&op, at_ms(2), more(doc! {"ok": 1, "n": 2}, true));
    net.schedule_response(&op, at_ms(3), more(doc! {"ok": 1, "n": 3}, false));
    net.run_until(at_ms(3));
    net.exit_network();
    handle.wait().await;
    let ns: Vec<_> = rec
        .seen()
        .iter()
        .map(|r| r.response.data.get_i32("n").unwrap())
        .collect();
    assert_eq!(ns, vec![1, 2, 3]);
    assert!(!rec.seen()[2].response.more_to_come);
}

#[tokio::test]
async fn cancelling_an_exhaust_command_stops_the_stream() {
    let f = started();
    let rec = Recorder::default();
    let handle = f
        .executor
        .schedule_exhaust_remote_command(ping("h1:1"), rec.remote())
        .unwrap();
    let op = take(&f);
    {
        let net = f.net.enter_network();
        net.schedule_response(&op, at_ms(1), more(doc! {"ok": 1, "n": 1}, true));
        net.run_until(at_ms(1));
    }
    while rec.seen().is_empty() {
        tokio::task::yield_now().await;
    }
    handle.cancel();
    handle.wait().await;
    let seen = rec.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(status_code(&seen[1].response), ErrorCode::CallbackCanceled);
    assert!(f.net.enter_network().was_canceled(&op));
}

#[tokio::test]
async fn shutdown_cancels_remote_commands_in_flight() {
    let f = started();
    let rec = Recorder::default();
    let handle = f
        .executor
        .schedule_remote_command(ping("h1:1"), RemoteOptions::default(), rec.remote())
        .unwrap();
    let op = take(&f);
    f.executor.shutdown();
    f.executor.join().await;
    assert!(handle.is_finished());
    assert_eq!(status_code(&rec.seen()[0].response), ErrorCode::CallbackCanceled);
    assert!(f.net.enter_network().was_canceled(&op));
    let after = f
        .executor
        .schedule_remote_command(ping("h1:1"), RemoteOptions::default(), |_| {});
    assert_eq!(after.unwrap_err().code(), ErrorCode::ShutdownInProgress);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baton_command_completes_while_every_worker_is_busy() {
    let f = fixture_with_workers(1);
    f.executor.startup().unwrap();
    // Occupy the executor's only worker until the end of the test.
    let (release, blocked) = std::sync::mpsc::channel::<()>();
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let busy = f
        .executor
        .schedule_work(move |_| {
            started_tx.send(()).unwrap();
            blocked.recv().unwrap();
        })
        .unwrap();
    started_rx.await.unwrap();

    let mut baton = Baton::new();
    let rec = Recorder::default();
    let handle = f
        .executor
        .schedule_remote_command(
            ping("h1:1"),
            RemoteOptions {
                op: None,
                baton: Some(&baton),
            },
            rec.remote(),
        )
        .unwrap();
    let op = take(&f);
    let net = f.net.enter_network();
    net.schedule_successful_response(&op, doc! {"ok": 1});
    net.run_ready_network_operations();
    net.exit_network();
    // The operation's own task drives the reply and runs the callback; the worker is still blocked.
    baton.run_until(handle.wait()).await;
    assert!(!busy.is_finished());
    assert!(rec.seen()[0].response.status.is_ok());
    release.send(()).unwrap();
    busy.wait().await;
}

#[tokio::test]
async fn dropping_a_baton_with_work_runs_the_callback_cancelled() {
    let f = started();
    let baton = Baton::new();
    let rec = Recorder::default();
    let handle = f
        .executor
        .schedule_remote_command(
            ping("h1:1"),
            RemoteOptions {
                op: None,
                baton: Some(&baton),
            },
            rec.remote(),
        )
        .unwrap();
    let op = take(&f);
    drop(baton);
    handle.wait().await;
    assert_eq!(status_code(&rec.seen()[0].response), ErrorCode::CallbackCanceled);
    assert!(f.net.enter_network().was_canceled(&op));
}

#[tokio::test]
async fn run_remote_command_future_without_callbacks() {
    let f = started();
    let reply = f.executor.run_remote_command(ping("h9:9"), None);
    let op = take(&f);
    assert_eq!(op.started, ClockTime::ZERO);
    let net = f.net.enter_network();
    net.schedule_response(&op, at_ms(5), more(doc! {"ok": 1}, false));
    net.run_until(at_ms(5));
    net.exit_network();
    assert!(reply.await.status.is_ok());
}
