//! mongod's task_executor_test cases for work, events and shutdown, on the mock network and clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should fail loudly

mod common;

use std::collections::HashSet;

use common::{Recorder, at_ms, code, fixture_with_workers, ms, started};
use docwire_executor::EventWait;
use docwire_rpc::ErrorCode;
use docwire_service::{Clock, ServiceContext};

#[tokio::test]
async fn run_one() {
    let f = started();
    let rec = Recorder::default();
    let handle = f.executor.schedule_work(rec.work()).unwrap();
    handle.wait().await;
    assert_eq!(rec.seen(), vec![ErrorCode::OK]);
    assert!(handle.is_finished());
    f.executor.shutdown();
    f.executor.join().await;
}

#[tokio::test]
async fn run_one_from_network_before_startup() {
    // Work scheduled before startup runs once the workers start.
    let f = fixture_with_workers(1);
    let rec = Recorder::default();
    let handle = f.executor.schedule_work(rec.work()).unwrap();
    f.executor.startup().unwrap();
    handle.wait().await;
    assert_eq!(rec.seen(), vec![ErrorCode::OK]);
    assert_eq!(code(&f.executor.startup()), ErrorCode::IllegalOperation);
}

#[tokio::test]
async fn schedule_and_cancel() {
    // Two callbacks scheduled before startup; one is cancelled, and still runs, with CallbackCanceled.
    let f = fixture_with_workers(1);
    let first = Recorder::default();
    let second = Recorder::default();
    let a = f.executor.schedule_work(first.work()).unwrap();
    let b = f.executor.schedule_work(second.work()).unwrap();
    f.executor.cancel(&b);
    f.executor.startup().unwrap();
    a.wait().await;
    f.executor.wait(&b).await;
    assert_eq!(first.seen(), vec![ErrorCode::OK]);
    assert_eq!(second.seen(), vec![ErrorCode::CallbackCanceled]);
    // Cancelling after it ran changes nothing.
    f.executor.cancel(&a);
    assert_eq!(first.seen(), vec![ErrorCode::OK]);
}

#[tokio::test]
async fn one_schedules_another() {
    let f = started();
    let rec = Recorder::default();
    let inner = rec.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    f.executor
        .schedule_work(move |args| {
            inner.push(code(&args.status));
            let h = args.executor.schedule_work(inner.work()).unwrap();
            tx.send(h).unwrap();
        })
        .unwrap();
    rx.await.unwrap().wait().await;
    assert_eq!(rec.seen(), vec![ErrorCode::OK, ErrorCode::OK]);
}

#[tokio::test]
async fn shutdown_from_a_callback_cancels_what_is_pending() {
    let f = started();
    let rec = Recorder::default();
    let later = f.executor.schedule_work_at(at_ms(5_000), rec.work()).unwrap();
    let event = f.executor.make_event().unwrap();
    let on_event = f.executor.on_event(&event, rec.work()).unwrap();
    let scheduled_after = Recorder::<ErrorCode>::default();
    let after = scheduled_after.clone();
    let first = f
        .executor
        .schedule_work(move |args| {
            args.executor.shutdown();
            args.executor.shutdown(); // repeatable
            after.push(code(&args.executor.schedule_work(|_| {})));
            after.push(code(&args.executor.make_event()));
        })
        .unwrap();
    first.wait().await;
    f.executor.join().await;
    assert!(later.is_finished() && on_event.is_finished());
    assert_eq!(rec.seen(), vec![ErrorCode::CallbackCanceled; 2]);
    assert_eq!(
        scheduled_after.seen(),
        vec![ErrorCode::ShutdownInProgress, ErrorCode::ShutdownInProgress]
    );
}

#[tokio::test]
async fn shutdown_without_startup_still_runs_pending_callbacks_cancelled() {
    let f = fixture_with_workers(1);
    let rec = Recorder::default();
    f.executor.schedule_work(rec.work()).unwrap();
    f.executor.shutdown();
    f.executor.join().await;
    assert_eq!(rec.seen(), vec![ErrorCode::CallbackCanceled]);
}

#[tokio::test]
async fn schedule_work_at_in_the_past_and_the_future() {
    let f = started();
    let net = f.net.enter_network();
    net.run_until(at_ms(100));
    net.exit_network();
    let rec = Recorder::default();
    let past = f.executor.schedule_work_at(at_ms(50), rec.work()).unwrap();
    past.wait().await;
    assert_eq!(rec.seen(), vec![ErrorCode::OK]);

    let future = f.executor.schedule_work_at(at_ms(200), rec.work()).unwrap();
    let cancelled = f.executor.schedule_work_at(at_ms(5_000), rec.work()).unwrap();
    tokio::task::yield_now().await;
    f.net.enter_network().run_until(at_ms(199));
    tokio::task::yield_now().await;
    assert!(!future.is_finished());
    f.net.enter_network().run_until(at_ms(200));
    future.wait().await;
    assert_eq!(f.clock.now(), at_ms(200));
    cancelled.cancel();
    cancelled.wait().await;
    assert_eq!(
        rec.seen(),
        vec![ErrorCode::OK, ErrorCode::OK, ErrorCode::CallbackCanceled]
    );
}

#[tokio::test]
async fn sleep_until_and_sleep_for() {
    let f = started();
    let sleep = f.executor.sleep_for(ms(1_000));
    let task = tokio::spawn(sleep);
    tokio::task::yield_now().await;
    f.net.enter_network().run_until(at_ms(1_000));
    assert!(task.await.unwrap().is_ok());
    // A sleep cut short by shutdown reports ShutdownInProgress.
    let task = tokio::spawn(f.executor.sleep_until(at_ms(10_000)));
    tokio::task::yield_now().await;
    f.executor.shutdown();
    assert_eq!(code(&task.await.unwrap()), ErrorCode::ShutdownInProgress);
}

#[tokio::test]
async fn event_chain_and_waiting() {
    // Each callback signals the next event; the test waits for the last.
    let f = started();
    let events: Vec<_> = (0..4).map(|_| f.executor.make_event().unwrap()).collect();
    let rec = Recorder::default();
    for i in 0..3 {
        let next = events[i + 1].clone();
        let rec = rec.clone();
        f.executor
            .on_event(&events[i], move |args| {
                rec.push(i);
                args.executor.signal_event(&next).unwrap();
            })
            .unwrap();
    }
    f.executor.signal_event(&events[0]).unwrap();
    f.executor.wait_for_event(&events[3]).await;
    assert_eq!(rec.seen(), vec![0, 1, 2]);
    // An event is signalled at most once.
    assert_eq!(
        code(&f.executor.signal_event(&events[0])),
        ErrorCode::IllegalOperation
    );
    // on_event for an already signalled event runs at once.
    let late = Recorder::default();
    f.executor.on_event(&events[3], late.work()).unwrap().wait().await;
    assert_eq!(late.seen(), vec![ErrorCode::OK]);
}

#[tokio::test]
async fn event_waiting_with_timeout() {
    let f = started();
    let service = ServiceContext::with_clock(std::sync::Arc::new(f.clock.clone())).unwrap();
    let mut client = service.make_client("test", None).unwrap();
    let op = client.make_operation_context().unwrap();
    let event = f.executor.make_event().unwrap();
    let executor = f.executor.clone();
    let ev = event.clone();
    // Times out at the deadline.
    let waited = tokio::join!(
        executor.wait_for_event_until(&op, &ev, Some(at_ms(1_000))),
        async {
            tokio::task::yield_now().await;
            f.net.enter_network().run_until(at_ms(1_000));
        }
    )
    .0;
    assert_eq!(waited.unwrap(), EventWait::TimedOut);
    // Signalled before the deadline.
    let waited = tokio::join!(
        executor.wait_for_event_until(&op, &ev, Some(at_ms(5_000))),
        async {
            tokio::task::yield_now().await;
            executor.signal_event(&event).unwrap();
        }
    )
    .0;
    assert_eq!(waited.unwrap(), EventWait::Signaled);
}

#[tokio::test]
async fn event_wait_ends_with_the_operation_kill_or_deadline() {
    let f = started();
    let service = ServiceContext::with_clock(std::sync::Arc::new(f.clock.clone())).unwrap();
    let mut client = service.make_client("test", None).unwrap();
    let mut op = client.make_operation_context().unwrap();
    op.set_deadline_after_now_by(ms(100), ErrorCode::MaxTimeMSExpired);
    let event = f.executor.make_event().unwrap();
    let waited = tokio::join!(
        f.executor.wait_for_event_until(&op, &event, Some(at_ms(1_000))),
        async {
            tokio::task::yield_now().await;
            f.net.enter_network().run_until(at_ms(101));
        }
    )
    .0;
    assert_eq!(code(&waited), ErrorCode::MaxTimeMSExpired);

    let mut client = service.make_client("test2", None).unwrap();
    let op = client.make_operation_context().unwrap();
    let handle = op.handle().clone();
    let waited = tokio::join!(f.executor.wait_for_event_until(&op, &event, None), async {
        tokio::task::yield_now().await;
        handle.mark_killed(ErrorCode::Interrupted);
    })
    .0;
    assert_eq!(code(&waited), ErrorCode::Interrupted);
}

#[tokio::test]
async fn on_event_unsignalled_at_shutdown_runs_cancelled() {
    let f = started();
    let event = f.executor.make_event().unwrap();
    let rec = Recorder::default();
    let handle = f.executor.on_event(&event, rec.work()).unwrap();
    f.executor.shutdown();
    handle.wait().await;
    // wait_for_event returns at shutdown too.
    f.executor.wait_for_event(&event).await;
    f.executor.join().await;
    assert_eq!(rec.seen(), vec![ErrorCode::CallbackCanceled]);
}

#[tokio::test]
async fn handles_compare_by_identity() {
    let f = started();
    let a = f.executor.schedule_work(|_| {}).unwrap();
    let b = f.executor.schedule_work(|_| {}).unwrap();
    assert_eq!(a, a.clone());
    assert_ne!(a, b);
    // Handles hash by their id, which never changes.
    #[allow(clippy::mutable_key_type)]
    let set: HashSet<_> = [a.clone(), b.clone(), a.clone()].into_iter().collect();
    assert_eq!(set.len(), 2);
    let e1 = f.executor.make_event().unwrap();
    let e2 = f.executor.make_event().unwrap();
    assert_eq!(e1, e1.clone());
    assert_ne!(e1, e2);
    // The callback's own handle is the one schedule returned.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let c = f
        .executor
        .schedule_work(move |args| tx.send(args.handle).unwrap())
        .unwrap();
    assert_eq!(rx.await.unwrap(), c);
}
