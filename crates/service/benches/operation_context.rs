//! Benchmarks: making and dropping an OperationContext, and `check_for_interrupt` on a live one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should fail loudly

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use docwire_rpc::ErrorCode;
use docwire_service::{MockClock, ServiceContext, SystemClock};

fn operation_context(c: &mut Criterion) {
    let mut group = c.benchmark_group("operation_context");
    for (clock_name, service) in [
        (
            "system_clock",
            ServiceContext::with_clock(Arc::new(SystemClock::new().unwrap())).unwrap(),
        ),
        (
            "mock_clock",
            ServiceContext::with_clock(Arc::new(MockClock::new())).unwrap(),
        ),
    ] {
        let mut client = service.make_client("bench", None).unwrap();
        group.bench_function(format!("make_and_drop/{clock_name}"), |b| {
            b.iter(|| drop(black_box(client.make_operation_context().unwrap())))
        });
        let mut op = client.make_operation_context().unwrap();
        group.bench_function(format!("check_for_interrupt/{clock_name}"), |b| {
            b.iter(|| black_box(&op).check_for_interrupt())
        });
        // With a deadline the check also reads the clock.
        op.set_deadline_after_now_by(Duration::from_secs(3600), ErrorCode::MaxTimeMSExpired);
        group.bench_function(format!("check_for_interrupt_with_deadline/{clock_name}"), |b| {
            b.iter(|| black_box(&op).check_for_interrupt())
        });
    }
    group.finish();
}

criterion_group!(benches, operation_context);
criterion_main!(benches);
