//! mongod's operation_context_test cases (deadlines, interruptible waits, sleeps), on the mock clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should fail loudly

use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use docwire_rpc::ErrorCode;
use docwire_service::{Clock, ClockTime, MockClock, Monitor, OperationContext, ServiceContext, UniqueClient};

fn service() -> (ServiceContext, MockClock) {
    let clock = MockClock::new();
    (
        ServiceContext::with_clock(Arc::new(clock.clone())).unwrap(),
        clock,
    )
}

fn client(service: &ServiceContext) -> UniqueClient {
    service.make_client("test", None).unwrap()
}

fn code(result: Result<impl Sized, docwire_rpc::Status>) -> ErrorCode {
    match result {
        Ok(_) => ErrorCode::OK,
        Err(status) => status.code(),
    }
}

/// The state a waiter waits on, signalled by tests.
fn waiter_state() -> Arc<Monitor<bool>> {
    Arc::new(Monitor::new(false))
}

fn signal(state: &Monitor<bool>) {
    state.update(|signalled| *signalled = true);
}

#[test]
fn deadline_expires_one_clock_unit_after_the_requested_time() {
    let (service, clock) = service();
    let mut client = client(&service);
    let mut op = client.make_operation_context().unwrap();
    op.set_deadline_after_now_by(Duration::from_secs(1), ErrorCode::ExceededTimeLimit);
    clock.advance(Duration::from_millis(500));
    assert!(op.check_for_interrupt().is_ok());
    clock.advance(Duration::from_millis(499));
    assert!(op.check_for_interrupt().is_ok());
    // Exactly at the deadline: no error, the deadline is one precision unit later than asked.
    clock.advance(Duration::from_millis(1));
    assert!(op.check_for_interrupt().is_ok());
    clock.advance(Duration::from_millis(1));
    assert_eq!(code(op.check_for_interrupt()), ErrorCode::ExceededTimeLimit);
    // Passing the deadline also killed the operation, with the timeout code.
    assert_eq!(op.kill_code(), Some(ErrorCode::ExceededTimeLimit));
}

#[test]
fn max_time_ms_reports_max_time_ms_expired() {
    let (service, clock) = service();
    let mut client = client(&service);
    let mut op = client.make_operation_context().unwrap();
    op.set_max_time_ms(100).unwrap();
    clock.advance(Duration::from_millis(101));
    assert_eq!(code(op.check_for_interrupt()), ErrorCode::MaxTimeMSExpired);
}

#[test]
fn max_time_ms_zero_is_no_deadline_and_negative_is_bad_value() {
    let (service, _clock) = service();
    let mut client = client(&service);
    let mut op = client.make_operation_context().unwrap();
    op.set_max_time_ms(0).unwrap();
    assert!(!op.has_deadline());
    assert_eq!(code(op.set_max_time_ms(-1)), ErrorCode::BadValue);
}

#[test]
fn zero_relative_deadline_is_already_expired() {
    let (service, _clock) = service();
    let mut client = client(&service);
    let mut op = client.make_operation_context().unwrap();
    op.set_deadline_after_now_by(Duration::ZERO, ErrorCode::MaxTimeMSExpired);
    assert_eq!(code(op.check_for_interrupt()), ErrorCode::MaxTimeMSExpired);
}

#[test]
fn very_large_relative_deadlines_mean_none() {
    let (service, _clock) = service();
    let mut client = client(&service);
    let mut op = client.make_operation_context().unwrap();
    for huge in [
        Duration::MAX,
        Duration::from_secs(u64::MAX),
        Duration::from_micros(u64::MAX),
    ] {
        op.set_deadline_after_now_by(huge, ErrorCode::ExceededTimeLimit);
        assert!(!op.has_deadline(), "{huge:?}");
        assert_eq!(op.remaining_max_time(), None);
        assert!(op.check_for_interrupt().is_ok());
    }
}

#[test]
fn first_kill_code_wins() {
    let (service, _clock) = service();
    let mut client = client(&service);
    let op = client.make_operation_context().unwrap();
    op.mark_killed(ErrorCode::MaxTimeMSExpired);
    op.mark_killed(ErrorCode::Interrupted);
    assert_eq!(code(op.check_for_interrupt()), ErrorCode::MaxTimeMSExpired);
    assert!(op.cancellation_token().is_cancelled());
}

#[test]
fn wait_with_expired_max_time_fails_with_the_timeout_code() {
    let (service, clock) = service();
    let mut client = client(&service);
    let mut op = client.make_operation_context().unwrap();
    op.set_deadline_by_date(clock.now(), ErrorCode::ExceededTimeLimit);
    let state = waiter_state();
    assert_eq!(
        code(op.wait_for_condition_or_interrupt(&state, |s| *s)),
        ErrorCode::ExceededTimeLimit
    );
    // Also with a later `until` of its own.
    let until = clock.now().saturating_add(Duration::from_secs(10));
    assert_eq!(
        code(op.wait_for_condition_or_interrupt_until(&state, Some(until), |s| *s)),
        ErrorCode::ExceededTimeLimit
    );
}

#[test]
fn wait_on_a_killed_op_fails_with_its_kill_code() {
    let (service, _clock) = service();
    let mut client = client(&service);
    let op = client.make_operation_context().unwrap();
    op.mark_killed(ErrorCode::Interrupted);
    let state = waiter_state();
    assert_eq!(
        code(op.wait_for_condition_or_interrupt(&state, |s| *s)),
        ErrorCode::Interrupted
    );
}

#[test]
fn wait_until_now_times_out_without_blocking() {
    let (service, clock) = service();
    let mut client = client(&service);
    let mut op = client.make_operation_context().unwrap();
    let state = waiter_state();
    let result = op
        .wait_for_condition_or_interrupt_until(&state, Some(clock.now()), |s| *s)
        .unwrap();
    assert!(result.is_none());
    // Also when the op's own deadline is later.
    op.set_deadline_by_date(
        clock.now().saturating_add(Duration::from_secs(10)),
        ErrorCode::ExceededTimeLimit,
    );
    let result = op
        .wait_for_condition_or_interrupt_until(&state, Some(clock.now()), |s| *s)
        .unwrap();
    assert!(result.is_none());
    // And for a zero duration (mongod's negative `for`).
    let result = op
        .wait_for_condition_or_interrupt_for(&state, Duration::ZERO, |s| *s)
        .unwrap();
    assert!(result.is_none());
}

#[test]
fn max_time_dominates_until_when_both_expire() {
    let (service, clock) = service();
    let mut client = client(&service);
    let mut op = client.make_operation_context().unwrap();
    op.set_deadline_by_date(clock.now(), ErrorCode::ExceededTimeLimit);
    let state = waiter_state();
    assert_eq!(
        code(op.wait_for_condition_or_interrupt_until(&state, Some(clock.now()), |s| *s)),
        ErrorCode::ExceededTimeLimit
    );
}

#[test]
fn a_satisfied_condition_returns_the_guard() {
    let (service, _clock) = service();
    let mut client = client(&service);
    let op = client.make_operation_context().unwrap();
    let state = Arc::new(Monitor::new(7));
    let guard = op.wait_for_condition_or_interrupt(&state, |n| *n == 7).unwrap();
    assert_eq!(*guard, 7);
}

/// Starts a thread waiting on `state` for `op`; it reports its first condition check on `checked`
/// (made under the monitor lock, so anything done after receiving it happens while the thread waits).
fn start_waiter(
    op: OperationContext,
    state: Arc<Monitor<bool>>,
    until: Option<ClockTime>,
) -> (mpsc::Receiver<()>, thread::JoinHandle<Result<bool, ErrorCode>>) {
    let (checked_tx, checked) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let mut first = true;
        let result = op.wait_for_condition_or_interrupt_until(&state, until, |s| {
            if first {
                first = false;
                let _ = checked_tx.send(());
            }
            *s
        });
        result
            .map(|guard| guard.is_some())
            .map_err(|status| status.code())
    });
    (checked, waiter)
}

#[test]
fn kill_arrives_while_waiting() {
    let (service, _clock) = service();
    let mut client = client(&service);
    let op = client.make_operation_context().unwrap();
    let handle = op.handle().clone();
    let state = waiter_state();
    let (checked, waiter) = start_waiter(op, state, None);
    checked.recv().unwrap();
    service.kill_operation(&handle, ErrorCode::Interrupted);
    assert_eq!(waiter.join().unwrap(), Err(ErrorCode::Interrupted));
}

#[test]
fn max_time_expires_while_waiting() {
    let (service, clock) = service();
    let mut client = client(&service);
    let mut op = client.make_operation_context().unwrap();
    op.set_deadline_by_date(
        clock.now().saturating_add(Duration::from_secs(60)),
        ErrorCode::ExceededTimeLimit,
    );
    let (checked, waiter) = start_waiter(op, waiter_state(), None);
    checked.recv().unwrap();
    clock.advance(Duration::from_secs(59));
    assert!(!waiter.is_finished());
    clock.advance(Duration::from_secs(2));
    assert_eq!(waiter.join().unwrap(), Err(ErrorCode::ExceededTimeLimit));
}

#[test]
fn until_expires_while_waiting() {
    let (service, clock) = service();
    let mut client = client(&service);
    let mut op = client.make_operation_context().unwrap();
    let start = clock.now();
    op.set_deadline_by_date(
        start.saturating_add(Duration::from_secs(60)),
        ErrorCode::ExceededTimeLimit,
    );
    let until = Some(start.saturating_add(Duration::from_secs(10)));
    let (checked, waiter) = start_waiter(op, waiter_state(), until);
    checked.recv().unwrap();
    clock.advance(Duration::from_secs(9));
    clock.advance(Duration::from_secs(2));
    // Timed out on its own `until`: no error, condition not met.
    assert_eq!(waiter.join().unwrap(), Ok(false));
}

#[test]
fn wait_for_is_equivalent_to_until() {
    let (service, clock) = service();
    let mut client = client(&service);
    let op = client.make_operation_context().unwrap();
    let state = waiter_state();
    let (checked_tx, checked) = mpsc::channel();
    let waiter = thread::spawn(move || {
        op.wait_for_condition_or_interrupt_for(&state, Duration::from_secs(10), |s| {
            let _ = checked_tx.send(());
            *s
        })
        .map(|g| g.is_some())
    });
    // The first check comes after the waiter read the clock and set its alarm.
    checked.recv().unwrap();
    clock.advance(Duration::from_millis(9_999));
    assert!(!waiter.is_finished());
    clock.advance(Duration::from_millis(1));
    assert!(!waiter.join().unwrap().unwrap());
}

#[test]
fn signal_wakes_the_waiter() {
    let (service, _clock) = service();
    let mut client = client(&service);
    let op = client.make_operation_context().unwrap();
    let state = waiter_state();
    let (checked, waiter) = start_waiter(op, state.clone(), None);
    checked.recv().unwrap();
    signal(&state);
    assert_eq!(waiter.join().unwrap(), Ok(true));
}

#[test]
fn kill_one_waiter_and_signal_another() {
    let (service, _clock) = service();
    let mut client1 = client(&service);
    let mut client2 = client(&service);
    let op1 = client1.make_operation_context().unwrap();
    let op2 = client2.make_operation_context().unwrap();
    let handle1 = op1.handle().clone();
    let (state1, state2) = (waiter_state(), waiter_state());
    let (checked1, waiter1) = start_waiter(op1, state1, None);
    let (checked2, waiter2) = start_waiter(op2, state2.clone(), None);
    checked1.recv().unwrap();
    checked2.recv().unwrap();
    handle1.mark_killed(ErrorCode::Interrupted);
    assert_eq!(waiter1.join().unwrap(), Err(ErrorCode::Interrupted));
    assert!(!waiter2.is_finished());
    signal(&state2);
    assert_eq!(waiter2.join().unwrap(), Ok(true));
}

#[test]
fn signal_before_until_expires() {
    let (service, clock) = service();
    let mut client = client(&service);
    let mut op = client.make_operation_context().unwrap();
    let start = clock.now();
    op.set_deadline_by_date(
        start.saturating_add(Duration::from_secs(60)),
        ErrorCode::ExceededTimeLimit,
    );
    let state = waiter_state();
    let (checked, waiter) = start_waiter(
        op,
        state.clone(),
        Some(start.saturating_add(Duration::from_secs(10))),
    );
    checked.recv().unwrap();
    clock.advance(Duration::from_secs(9));
    signal(&state);
    assert_eq!(waiter.join().unwrap(), Ok(true));
}

#[test]
fn signal_before_max_time_expires() {
    let (service, clock) = service();
    let mut client = client(&service);
    let mut op = client.make_operation_context().unwrap();
    op.set_deadline_by_date(
        clock.now().saturating_add(Duration::from_secs(10)),
        ErrorCode::ExceededTimeLimit,
    );
    let state = waiter_state();
    let (checked, waiter) = start_waiter(op, state.clone(), None);
    checked.recv().unwrap();
    clock.advance(Duration::from_secs(9));
    signal(&state);
    assert_eq!(waiter.join().unwrap(), Ok(true));
}

#[test]
fn sleeps_with_expired_times_do_not_block() {
    let (service, clock) = service();
    let mut client = client(&service);
    let op = client.make_operation_context().unwrap();
    clock.advance(Duration::from_secs(5));
    op.sleep_for(Duration::ZERO).unwrap();
    op.sleep_until(clock.now()).unwrap();
    op.sleep_until(clock.now().saturating_sub(Duration::from_secs(1)))
        .unwrap();
}

#[test]
fn sleeps_past_an_expired_max_time_fail() {
    let (service, clock) = service();
    let mut client = client(&service);
    let mut op = client.make_operation_context().unwrap();
    op.set_deadline_by_date(clock.now(), ErrorCode::ExceededTimeLimit);
    assert_eq!(
        code(op.sleep_for(Duration::from_secs(1))),
        ErrorCode::ExceededTimeLimit
    );
    assert_eq!(
        code(op.sleep_until(clock.now().saturating_add(Duration::from_secs(1)))),
        ErrorCode::ExceededTimeLimit
    );
}

#[test]
fn a_sleep_ends_when_the_clock_reaches_it() {
    let (service, clock) = service();
    let mut client = client(&service);
    let op = client.make_operation_context().unwrap();
    let wake_at = clock.now().saturating_add(Duration::from_secs(3));
    let sleeper = {
        let clock = clock.clone();
        thread::spawn(move || op.sleep_until(wake_at).map(|()| clock.now()))
    };
    clock.advance(Duration::from_secs(3));
    assert_eq!(sleeper.join().unwrap().unwrap(), wake_at);
}

#[test]
fn interruption_order_follows_mongod() {
    struct Session(std::sync::atomic::AtomicBool);
    impl docwire_service::TransportSession for Session {
        fn connection_id(&self) -> u64 {
            9
        }
        fn remote_address(&self) -> String {
            "127.0.0.1:5000".into()
        }
        fn is_connected(&self) -> bool {
            self.0.load(std::sync::atomic::Ordering::SeqCst)
        }
    }
    let (service, clock) = service();
    let session = Arc::new(Session(true.into()));
    let mut client = service.make_client("conn9", Some(session.clone())).unwrap();
    let mut op = client.make_operation_context().unwrap();
    op.set_kill_on_client_disconnect(true);
    assert!(op.check_for_interrupt().is_ok());
    session.0.store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(code(op.check_for_interrupt()), ErrorCode::ClientDisconnect);
    assert_eq!(
        op.kill_code(),
        Some(ErrorCode::ClientDisconnect),
        "a hang-up kills the op"
    );
    // A passed deadline is reported before the kill code.
    op.set_deadline_by_date(clock.now(), ErrorCode::MaxTimeMSExpired);
    assert_eq!(code(op.check_for_interrupt()), ErrorCode::MaxTimeMSExpired);
    // Shutdown before the deadline; a killed Client before shutdown.
    service.kill_all_operations();
    assert_eq!(code(op.check_for_interrupt()), ErrorCode::InterruptedAtShutdown);
    service.kill_client(&client);
    assert_eq!(code(op.check_for_interrupt()), ErrorCode::ClientMarkedKilled);
    // The operation running shutdown ignores both.
    op.set_executing_shutdown();
    assert_eq!(code(op.check_for_interrupt()), ErrorCode::MaxTimeMSExpired);
}

#[tokio::test]
async fn async_wait_ends_on_kill_from_another_task() {
    let (service, _clock) = service();
    let mut client = client(&service);
    let op = client.make_operation_context().unwrap();
    let handle = op.handle().clone();
    let waiter = tokio::spawn(async move {
        op.wait_for_condition_or_interrupt_async(None, std::future::pending::<()>())
            .await
    });
    tokio::task::yield_now().await;
    let killer = tokio::spawn(async move { handle.mark_killed(ErrorCode::Interrupted) });
    killer.await.unwrap();
    assert_eq!(code(waiter.await.unwrap()), ErrorCode::Interrupted);
}

#[tokio::test]
async fn async_wait_ends_at_max_time_on_the_mock_clock() {
    let (service, clock) = service();
    let mut client = client(&service);
    let mut op = client.make_operation_context().unwrap();
    op.set_deadline_after_now_by(Duration::from_secs(5), ErrorCode::MaxTimeMSExpired);
    let waiter = tokio::spawn(async move {
        op.wait_for_condition_or_interrupt_async(None, std::future::pending::<()>())
            .await
    });
    tokio::task::yield_now().await;
    clock.advance(Duration::from_secs(5));
    tokio::task::yield_now().await;
    assert!(!waiter.is_finished(), "no timeout exactly at the requested time");
    clock.advance(Duration::from_millis(1));
    assert_eq!(code(waiter.await.unwrap()), ErrorCode::MaxTimeMSExpired);
}

#[tokio::test]
async fn async_wait_returns_the_condition_or_none_at_until() {
    let (service, clock) = service();
    let mut client = client(&service);
    let op = client.make_operation_context().unwrap();
    assert_eq!(
        op.wait_for_condition_or_interrupt_async(None, async { 42 })
            .await
            .unwrap(),
        Some(42)
    );
    let until = clock.now().saturating_add(Duration::from_secs(1));
    let waiter = tokio::spawn(async move {
        let result = op
            .wait_for_condition_or_interrupt_async(Some(until), std::future::pending::<()>())
            .await;
        (
            result.map(|r| r.is_none()),
            op.sleep_for_async(Duration::ZERO).await,
        )
    });
    tokio::task::yield_now().await;
    clock.advance(Duration::from_secs(1));
    let (timed_out, slept) = waiter.await.unwrap();
    assert!(timed_out.unwrap());
    assert!(slept.is_ok());
}

#[tokio::test]
async fn async_sleep_wakes_when_the_mock_clock_reaches_it() {
    let (service, clock) = service();
    let mut client = client(&service);
    let op = client.make_operation_context().unwrap();
    let sleeper = tokio::spawn(async move { op.sleep_for_async(Duration::from_secs(30)).await });
    tokio::task::yield_now().await;
    clock.advance(Duration::from_secs(29));
    tokio::task::yield_now().await;
    assert!(!sleeper.is_finished());
    clock.advance(Duration::from_secs(1));
    sleeper.await.unwrap().unwrap();
}
