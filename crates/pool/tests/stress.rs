//! A seeded stress test: many tasks on a multi-thread runtime get, return, fail and drop connections;
//! no connection is ever held by two tasks at once and none is lost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use common::*;
use docwire_pool::{ConnectionPoolStats, Options};
use docwire_rpc::{ErrorCode, Status};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_get_return_drop_never_loses_or_shares_a_connection() {
    let options = Options {
        max_connections: 4,
        refresh_requirement: ms(50),
        refresh_timeout: secs(1),
        host_timeout: ms(400),
        ..Options::default()
    };
    let (pool, fake, clock) = make_pool_with(options, Fake::auto());
    let pool = Arc::new(pool);
    let out: Arc<Mutex<HashSet<u64>>> = Arc::default();
    let hosts = ["s:1", "s:2"];
    let mut tasks = Vec::new();
    for seed in 1..=16u64 {
        let (pool, out) = (Arc::clone(&pool), Arc::clone(&out));
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(seed * 7919);
            let mut served = 0;
            for _ in 0..400 {
                let host = hosts[rng.below(2) as usize];
                match pool.get(host, Some(secs(3600))).await {
                    Ok(mut handle) => {
                        served += 1;
                        assert!(out.lock().unwrap().insert(handle.id()), "handed out twice");
                        for _ in 0..rng.below(3) {
                            tokio::task::yield_now().await;
                        }
                        assert!(out.lock().unwrap().remove(&handle.id()));
                        match rng.below(10) {
                            0 => handle.indicate_failure(Status::new(ErrorCode::HostUnreachable, "x")),
                            1 => {}
                            _ => handle.indicate_success(),
                        }
                    }
                    Err(status) => assert!(
                        matches!(
                            status.code(),
                            ErrorCode::PooledConnectionsDropped
                                | ErrorCode::NetworkInterfaceExceededTimeLimit
                        ),
                        "{status}"
                    ),
                }
                if rng.below(100) == 0 {
                    pool.drop_connections_to(host);
                }
            }
            served
        }));
    }
    // Time moves on meanwhile: refreshes, request expiries and host expiries all fire.
    let ticker = {
        let clock = clock.clone();
        tokio::spawn(async move {
            for _ in 0..300 {
                clock.advance(ms(7));
                tokio::task::yield_now().await;
            }
        })
    };
    let mut served = 0;
    for task in tasks {
        served += task.await.unwrap();
    }
    ticker.await.unwrap();
    assert!(served > 1000, "most requests were served ({served})");
    settle().await;
    // Let any in-flight setup or refresh finish (they complete at once with Fake::auto).
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    let mut stats = ConnectionPoolStats::new();
    pool.append_connection_stats(&mut stats);
    let t = stats.totals();
    assert_eq!(t.in_use, 0);
    assert_eq!(t.refreshing, 0, "{t:?}");
    assert_eq!(
        fake.live() as u64,
        t.available,
        "every live connection is in a ready list: {t:?}"
    );
    assert!(out.lock().unwrap().is_empty());
    pool.shutdown();
    settle().await;
    assert_eq!(fake.live(), 0);
}
