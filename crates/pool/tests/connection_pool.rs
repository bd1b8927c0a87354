//! mongod's connection_pool_test.cpp, ported onto the MockClock with scripted fake connections.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::*;
use docwire_pool::{ConnectionInterface, Options};
use docwire_rpc::{ErrorCode, Status};

const HOST: &str = "localhost:27017";

#[tokio::test]
async fn same_conn() {
    let (pool, fake, _clock) = make_pool(Options::default());
    fake.push_setup(Ok(()));
    let mut first = pool.get(HOST, Some(ms(5000)));
    settle().await;
    let id1 = done_with(conn(&mut first));
    let mut second = pool.get(HOST, Some(ms(5000)));
    let id2 = done_with(conn(&mut second));
    assert_eq!(id1, id2);
}

#[tokio::test]
async fn connections_are_acquired_in_mru_order() {
    let (pool, fake, _clock) = make_pool(Options::default());
    let mut held = Vec::new();
    for _ in 0..100 {
        fake.push_setup(Ok(()));
        let mut get = pool.get(HOST, Some(ms(5000)));
        settle().await;
        held.push(conn(&mut get));
    }
    Rng::new(7).shuffle(&mut held);
    let mut returned = Vec::new();
    for handle in held {
        returned.push(done_with(handle));
    }
    let mut again = Vec::new();
    for expected in returned.iter().rev() {
        let handle = conn(&mut pool.get(HOST, Some(ms(5000))));
        assert_eq!(handle.id(), *expected, "most recently returned first");
        again.push(handle);
    }
    again.into_iter().for_each(|h| {
        done_with(h);
    });
}

#[tokio::test]
async fn connections_not_used_recently_are_purged() {
    let options = Options {
        min_connections: 0,
        refresh_requirement: ms(1000),
        refresh_timeout: ms(5000),
        host_timeout: secs(60),
        ..Options::default()
    };
    let (pool, fake, clock) = make_pool(options);
    assert_eq!(pool.num_connections_per_host(HOST), 0);
    let mut held = Vec::new();
    let mut original = BTreeSet::new();
    for _ in 0..100 {
        fake.push_setup(Ok(()));
        let mut get = pool.get(HOST, Some(ms(5000)));
        settle().await;
        let handle = conn(&mut get);
        original.insert(handle.id());
        held.push(handle);
    }
    assert_eq!(original.len(), 100);
    assert_eq!(pool.num_connections_per_host(HOST), 100);
    Rng::new(11).shuffle(&mut held);
    held.drain(..).for_each(|h| {
        done_with(h);
    });

    set_now(&clock, ms(500)).await;
    assert_eq!(pool.num_connections_per_host(HOST), 100);
    let mut reacquired = BTreeSet::new();
    for _ in 0..25 {
        let handle = conn(&mut pool.get(HOST, Some(ms(5000))));
        reacquired.insert(handle.id());
        held.push(handle);
    }
    assert_eq!(reacquired.len(), 25);
    assert!(reacquired.is_subset(&original));
    held.drain(..).for_each(|h| {
        done_with(h);
    });
    assert_eq!(pool.num_connections_per_host(HOST), 100);

    // The 75 not used since time 0 pass refreshRequirement and are dropped (minConnections is 0).
    set_now(&clock, ms(1000)).await;
    assert_eq!(pool.num_connections_per_host(HOST), 25);
    assert_eq!(fake.live(), 25);
}

#[tokio::test]
async fn failed_conn_different_conn() {
    let (pool, fake, _clock) = make_pool(Options::default());
    fake.push_setup(Ok(()));
    let mut get = pool.get(HOST, Some(ms(5000)));
    settle().await;
    let mut first = conn(&mut get);
    let id1 = first.id();
    first.indicate_failure(Status::new(ErrorCode::BadValue, "error"));
    drop(first);
    push_setup(&fake, Ok(())).await;
    let id2 = done_with(conn(&mut pool.get(HOST, Some(ms(5000)))));
    assert_ne!(id1, id2);
}

#[tokio::test]
async fn different_host_different_conn() {
    let (pool, fake, _clock) = make_pool(Options::default());
    fake.push_setup(Ok(()));
    fake.push_setup(Ok(()));
    let mut a = pool.get("localhost:30000", Some(ms(5000)));
    let mut b = pool.get("localhost:30001", Some(ms(5000)));
    settle().await;
    let a = conn(&mut a);
    let b = conn(&mut b);
    assert_ne!(a.id(), b.id());
    assert_eq!(a.host(), "localhost:30000");
    done_with(a);
    done_with(b);
}

#[tokio::test]
async fn different_conn_without_return() {
    let (pool, fake, _clock) = make_pool(Options::default());
    fake.push_setup(Ok(()));
    fake.push_setup(Ok(()));
    let mut a = pool.get(HOST, Some(ms(5000)));
    settle().await;
    let a = conn(&mut a);
    let mut b = pool.get(HOST, Some(ms(5000)));
    settle().await;
    let b = conn(&mut b);
    assert_ne!(a.id(), b.id());
    done_with(a);
    done_with(b);
}

#[tokio::test]
async fn timeout_on_setup() {
    let (pool, _fake, clock) = make_pool(Options::default());
    let mut get = pool.get(HOST, Some(ms(5000)));
    set_now(&clock, ms(4999)).await;
    assert!(poll_now(&mut get).is_none());
    set_now(&clock, ms(5000)).await;
    let status = error(&mut get);
    assert_eq!(status.code(), ErrorCode::NetworkInterfaceExceededTimeLimit);
    assert_eq!(status.reason(), "Couldn't get a connection within the time limit");
}

#[tokio::test]
async fn setup_failure_fails_queued_requests_with_its_code_and_bumps_the_generation() {
    let (pool, fake, _clock) = make_pool(Options::default());
    fake.push_setup(Ok(()));
    let mut first = pool.get(HOST, Some(ms(5000)));
    settle().await;
    let old = conn(&mut first);
    // Two queued requests spawn two setups; the first fails.
    let mut a = pool.get(HOST, Some(ms(5000)));
    let mut b = pool.get(HOST, Some(ms(5000)));
    settle().await;
    assert_eq!(fake.setup_queue_depth(), 2);
    push_setup(&fake, Err(Status::new(ErrorCode::HostUnreachable, "down"))).await;
    assert_eq!(error(&mut a).code(), ErrorCode::HostUnreachable);
    assert_eq!(error(&mut b).code(), ErrorCode::HostUnreachable);
    // The other setup was of the old generation: it is dropped when it completes.
    let live = fake.live();
    push_setup(&fake, Ok(())).await;
    assert_eq!(fake.live(), live - 1);
    // So is the connection checked out before the failure, even though it is returned as good.
    let old_id = done_with(old);
    assert_eq!(pool.num_connections_per_host(HOST), 0);
    fake.push_setup(Ok(()));
    let mut next = pool.get(HOST, Some(ms(5000)));
    settle().await;
    assert_ne!(done_with(conn(&mut next)), old_id);
}

#[tokio::test]
async fn refresh_happens() {
    let options = Options {
        refresh_requirement: ms(1000),
        ..Options::default()
    };
    let (pool, fake, clock) = make_pool(options);
    fake.push_refresh(Ok(()));
    fake.push_refresh(Ok(()));
    fake.push_setup(Ok(()));
    let mut get = pool.get(HOST, Some(ms(5000)));
    settle().await;
    done_with(conn(&mut get));
    set_now(&clock, ms(1000)).await;
    assert_eq!(fake.refreshes_started(), 1);
    set_now(&clock, ms(1500)).await;
    assert_eq!(fake.refreshes_started(), 1);
    set_now(&clock, ms(2000)).await;
    assert_eq!(fake.refreshes_started(), 2);
    assert_eq!(pool.stats_document().get_i64("totalRefreshed").unwrap(), 2);
}

#[tokio::test]
async fn refresh_timeout_happens() {
    let options = Options {
        refresh_requirement: ms(1000),
        refresh_timeout: ms(2000),
        ..Options::default()
    };
    let (pool, fake, clock) = make_pool(options);
    fake.push_setup(Ok(()));
    let mut get = pool.get(HOST, Some(ms(5000)));
    settle().await;
    let id1 = done_with(conn(&mut get));
    set_now(&clock, ms(500)).await;
    let id2 = done_with(conn(&mut pool.get(HOST, Some(ms(5000)))));
    assert_eq!(id1, id2);

    // Idle since 500: in refresh from 1500 (timing out at 3500); at 2000 a request waits on it.
    set_now(&clock, ms(2000)).await;
    assert_eq!(fake.refresh_queue_depth(), 1);
    fake.push_setup(Ok(()));
    let mut waiting = pool.get(HOST, Some(ms(1000)));
    settle().await;
    assert!(poll_now(&mut waiting).is_none());
    set_now(&clock, ms(3000)).await;
    assert_eq!(
        error(&mut waiting).code(),
        ErrorCode::NetworkInterfaceExceededTimeLimit
    );

    // The refresh times out: that connection is dropped and a new one made.
    set_now(&clock, ms(4000)).await;
    let mut fresh = pool.get(HOST, Some(ms(1000)));
    settle().await;
    assert_ne!(done_with(conn(&mut fresh)), id1);
}

#[tokio::test]
async fn requests_served_by_urgency() {
    let (pool, fake, _clock) = make_pool(Options::default());
    let mut a = pool.get(HOST, Some(ms(2000)));
    let mut b = pool.get(HOST, Some(ms(1000)));
    push_setup(&fake, Ok(())).await;
    assert!(poll_now(&mut a).is_none());
    let b = conn(&mut b);
    let id = done_with(b);
    assert_eq!(done_with(conn(&mut a)), id);
}

#[tokio::test]
async fn max_pool_respected() {
    let options = Options {
        min_connections: 1,
        max_connections: 2,
        ..Options::default()
    };
    let (pool, fake, _clock) = make_pool(options);
    let mut g3 = pool.get(HOST, Some(ms(3000)));
    let mut g2 = pool.get(HOST, Some(ms(2000)));
    let mut g1 = pool.get(HOST, Some(ms(1000)));
    for _ in 0..3 {
        push_setup(&fake, Ok(())).await;
    }
    let c1 = conn(&mut g1);
    let c2 = conn(&mut g2);
    assert!(poll_now(&mut g3).is_none());
    assert_eq!(fake.setups_started(), 2);
    let id1 = done_with(c1);
    assert_eq!(conn(&mut g3).id(), id1);
    done_with(c2);
}

#[tokio::test]
async fn max_connecting_respected() {
    let options = Options {
        min_connections: 1,
        max_connecting: 2,
        ..Options::default()
    };
    let (pool, fake, _clock) = make_pool(options);
    let mut g3 = pool.get(HOST, Some(ms(3000)));
    let mut g2 = pool.get(HOST, Some(ms(2000)));
    let mut g1 = pool.get(HOST, Some(ms(1000)));
    settle().await;
    assert_eq!(fake.setup_queue_depth(), 2);
    push_setup(&fake, Ok(())).await;
    assert_eq!(fake.setup_queue_depth(), 2);
    push_setup(&fake, Ok(())).await;
    assert_eq!(fake.setup_queue_depth(), 1);
    push_setup(&fake, Ok(())).await;
    assert_eq!(fake.setup_queue_depth(), 0);
    let ids: BTreeSet<u64> = [conn(&mut g1), conn(&mut g2), conn(&mut g3)]
        .into_iter()
        .map(done_with)
        .collect();
    assert_eq!(ids.len(), 3);
}

#[tokio::test]
async fn max_connecting_with_refresh() {
    let options = Options {
        max_connecting: 1,
        refresh_requirement: ms(1000),
        ..Options::default()
    };
    let (pool, fake, clock) = make_pool(options);
    fake.push_setup(Ok(()));
    let mut get = pool.get(HOST, Some(ms(5000)));
    settle().await;
    done_with(conn(&mut get));
    assert_eq!(fake.refresh_queue_depth(), 0);
    set_now(&clock, ms(1000)).await;
    assert_eq!(fake.refresh_queue_depth(), 1);
    let mut waiting = pool.get(HOST, Some(ms(5000)));
    settle().await;
    // The refresh counts toward maxConnecting: no setup starts.
    assert_eq!(fake.setup_queue_depth(), 0);
    assert!(poll_now(&mut waiting).is_none());
    push_refresh(&fake, Ok(())).await;
    assert_eq!(fake.refresh_queue_depth(), 0);
    done_with(conn(&mut waiting));
}

#[tokio::test]
async fn max_connecting_with_multiple_refresh() {
    let options = Options {
        max_connecting: 2,
        min_connections: 3,
        refresh_requirement: ms(1000),
        ..Options::default()
    };
    let (pool, fake, clock) = make_pool(options);
    let mut first = pool.get(HOST, Some(ms(5000)));
    settle().await;
    assert_eq!(fake.setup_queue_depth(), 2);
    push_setup(&fake, Ok(())).await;
    done_with(conn(&mut first));
    assert_eq!(fake.setup_queue_depth(), 2);
    push_setup(&fake, Ok(())).await;
    push_setup(&fake, Ok(())).await;
    assert_eq!(fake.setup_queue_depth(), 0);

    set_now(&clock, ms(1500)).await;
    assert_eq!(fake.refresh_queue_depth(), 3);
    let mut gets: Vec<Get> = (0..5).map(|i| pool.get(HOST, Some(ms(1000 + i)))).collect();
    let mut held: Vec<Option<Handle>> = (0..5).map(|_| None).collect();
    let mut first_n_bound = |gets: &mut Vec<Get>, n: usize| {
        for (i, get) in gets.iter_mut().enumerate() {
            if held[i].is_none()
                && let Some(result) = poll_now(get)
            {
                held[i] = Some(result.unwrap());
            }
            assert_eq!(held[i].is_some(), i < n, "request {i} with {n} bound");
        }
    };
    settle().await;
    assert_eq!(fake.refresh_queue_depth(), 3);
    assert_eq!(fake.setup_queue_depth(), 0);
    first_n_bound(&mut gets, 0);
    push_refresh(&fake, Ok(())).await;
    assert_eq!((fake.refresh_queue_depth(), fake.setup_queue_depth()), (2, 0));
    first_n_bound(&mut gets, 1);
    push_refresh(&fake, Ok(())).await;
    assert_eq!((fake.refresh_queue_depth(), fake.setup_queue_depth()), (1, 1));
    first_n_bound(&mut gets, 2);
    push_refresh(&fake, Ok(())).await;
    assert_eq!((fake.refresh_queue_depth(), fake.setup_queue_depth()), (0, 2));
    first_n_bound(&mut gets, 3);
    push_setup(&fake, Ok(())).await;
    assert_eq!(fake.setup_queue_depth(), 1);
    first_n_bound(&mut gets, 4);
    push_setup(&fake, Ok(())).await;
    assert_eq!(fake.setup_queue_depth(), 0);
    first_n_bound(&mut gets, 5);
}

#[tokio::test]
async fn min_pool_respected() {
    let options = Options {
        min_connections: 2,
        max_connections: 3,
        refresh_requirement: ms(1000),
        refresh_timeout: ms(2000),
        ..Options::default()
    };
    let (pool, fake, clock) = make_pool(options);
    let mut g1 = pool.get(HOST, Some(ms(1000)));
    for _ in 0..3 {
        push_setup(&fake, Ok(())).await;
    }
    // Two setups for one request: minConnections is 2.
    assert_eq!(fake.setups_started(), 2);
    let c1 = conn(&mut g1);
    let mut g2 = pool.get(HOST, Some(ms(2000)));
    let mut g3 = pool.get(HOST, Some(ms(3000)));
    settle().await;
    let c2 = conn(&mut g2);
    let c3 = conn(&mut g3);
    assert_eq!(fake.setups_started(), 3);
    for _ in 0..3 {
        fake.push_refresh(Ok(()));
    }
    for (at, handle) in [(1, c1), (2, c2), (3, c3)] {
        set_now(&clock, ms(at)).await;
        done_with(handle);
    }
    // All three go idle; one is dropped and only two refresh (the pool meets minConnections).
    set_now(&clock, ms(5000)).await;
    assert_eq!(fake.refreshes_started(), 2);
    assert_eq!(pool.num_connections_per_host(HOST), 2);
}

fn host_timeout_options() -> Options {
    Options {
        refresh_requirement: ms(5000),
        refresh_timeout: ms(5000),
        host_timeout: ms(1000),
        ..Options::default()
    }
}

#[tokio::test]
async fn host_timeout_happens() {
    let (pool, fake, clock) = make_pool(host_timeout_options());
    fake.push_setup(Ok(()));
    let mut get = pool.get(HOST, Some(ms(5000)));
    settle().await;
    let id = done_with(conn(&mut get));
    set_now(&clock, ms(1000)).await;
    assert!(pool.hosts().is_empty(), "the expired host left the pool");
    assert_eq!(fake.live(), 0);
    fake.push_setup(Ok(()));
    let mut get = pool.get(HOST, Some(ms(5000)));
    settle().await;
    assert_ne!(done_with(conn(&mut get)), id);
}

#[tokio::test]
async fn host_timeout_happens_more_gets_delay() {
    let (pool, fake, clock) = make_pool(host_timeout_options());
    fake.push_setup(Ok(()));
    let mut get = pool.get(HOST, Some(ms(5000)));
    settle().await;
    let id = done_with(conn(&mut get));
    set_now(&clock, ms(999)).await;
    assert_eq!(done_with(conn(&mut pool.get(HOST, Some(ms(5000))))), id);
    set_now(&clock, ms(1500)).await;
    assert_eq!(done_with(conn(&mut pool.get(HOST, Some(ms(5000))))), id);
    set_now(&clock, ms(2500)).await;
    fake.push_setup(Ok(()));
    let mut get = pool.get(HOST, Some(ms(5000)));
    settle().await;
    assert_ne!(done_with(conn(&mut get)), id);
}

#[tokio::test]
async fn host_timeout_happens_checkout_delays() {
    let (pool, fake, clock) = make_pool(host_timeout_options());
    fake.push_setup(Ok(()));
    let mut g1 = pool.get(HOST, Some(ms(5000)));
    settle().await;
    let c1 = conn(&mut g1);
    let id1 = c1.id();
    fake.push_setup(Ok(()));
    let mut g2 = pool.get(HOST, Some(ms(5000)));
    settle().await;
    let id2 = done_with(conn(&mut g2));
    set_now(&clock, ms(1000)).await;
    assert_eq!(done_with(conn(&mut pool.get(HOST, Some(ms(5000))))), id2);
    done_with(c1);
    set_now(&clock, ms(2000)).await;
    fake.push_setup(Ok(()));
    let mut get = pool.get(HOST, Some(ms(5000)));
    settle().await;
    let id = done_with(conn(&mut get));
    assert!(id != id1 && id != id2);
}

#[tokio::test]
async fn drop_connections() {
    let options = Options {
        max_connections: 1,
        refresh_requirement: secs(1),
        refresh_timeout: secs(2),
        ..Options::default()
    };
    let (pool, fake, clock) = make_pool(options);
    fake.push_setup(Ok(()));
    let mut get = pool.get(HOST, Some(ms(5000)));
    settle().await;
    let id1 = done_with(conn(&mut get));
    let handle = conn(&mut pool.get(HOST, Some(ms(5000))));
    assert_eq!(handle.id(), id1);
    let mut queued = pool.get(HOST, Some(ms(5000)));
    settle().await;
    assert!(poll_now(&mut queued).is_none());
    pool.drop_connections_to(HOST);
    let status = error(&mut queued);
    assert_eq!(status.code(), ErrorCode::PooledConnectionsDropped);
    done_with(handle);

    fake.push_setup(Ok(()));
    let mut get = pool.get(HOST, Some(ms(5000)));
    settle().await;
    let id2 = done_with(conn(&mut get));
    assert_ne!(id2, id1);

    // Put it in refresh, drop, and a new connection comes out while that refresh is still pending.
    set_now(&clock, ms(1500)).await;
    assert_eq!(fake.refresh_queue_depth(), 1);
    pool.drop_connections_to(HOST);
    set_now(&clock, ms(2500)).await;
    fake.push_setup(Ok(()));
    let mut get = pool.get(HOST, Some(ms(5000)));
    settle().await;
    assert_ne!(done_with(conn(&mut get)), id2);
}

#[tokio::test]
async fn setup_timeouts_dont_timeout_unrelated_requests() {
    let options = Options {
        max_connections: 1,
        refresh_timeout: secs(2),
        ..Options::default()
    };
    let (pool, _fake, clock) = make_pool(options);
    let mut g1 = pool.get(HOST, Some(secs(10)));
    settle().await;
    assert!(poll_now(&mut g1).is_none());
    set_now(&clock, secs(1)).await;
    assert!(poll_now(&mut g1).is_none());
    let mut g2 = pool.get(HOST, Some(secs(10)));
    set_now(&clock, secs(2)).await;
    assert_eq!(
        error(&mut g1).code(),
        ErrorCode::NetworkInterfaceExceededTimeLimit
    );
    assert!(poll_now(&mut g2).is_none());
    pool.shutdown();
    assert_eq!(error(&mut g2).code(), ErrorCode::ShutdownInProgress);
}

#[tokio::test]
async fn refresh_timeouts_dont_timeout_requests() {
    let options = Options {
        max_connections: 1,
        refresh_timeout: secs(2),
        refresh_requirement: secs(3),
        ..Options::default()
    };
    let (pool, fake, clock) = make_pool(options);
    fake.push_setup(Ok(()));
    let mut get = pool.get(HOST, Some(secs(1)));
    settle().await;
    done_with(conn(&mut get));
    set_now(&clock, secs(3)).await;
    let mut g1 = pool.get(HOST, Some(secs(10)));
    settle().await;
    assert!(poll_now(&mut g1).is_none());
    set_now(&clock, secs(4)).await;
    assert!(poll_now(&mut g1).is_none());
    let mut g2 = pool.get(HOST, Some(secs(10)));
    set_now(&clock, secs(5)).await;
    assert_eq!(
        error(&mut g1).code(),
        ErrorCode::NetworkInterfaceExceededTimeLimit
    );
    assert!(poll_now(&mut g2).is_none());
    pool.shutdown();
    assert_eq!(error(&mut g2).code(), ErrorCode::ShutdownInProgress);
}

#[tokio::test]
async fn async_get() {
    let options = Options {
        max_connections: 1,
        ..Options::default()
    };
    let (pool, fake, _clock) = make_pool(options);
    let mut first = pool.get(HOST, Some(secs(1)));
    assert!(!first.is_ready());
    push_setup(&fake, Ok(())).await;
    assert!(first.is_ready());
    let id = done_with(conn(&mut first));

    let mut f1 = pool.get(HOST, Some(secs(1)));
    let mut f2 = pool.get(HOST, Some(secs(10)));
    assert!(f1.is_ready());
    assert!(!f2.is_ready());
    let c1 = conn(&mut f1);
    // A third request made while the first is out is more urgent than the second.
    let mut f3 = pool.get(HOST, Some(secs(1)));
    assert_eq!(done_with(c1), id);
    assert!(f3.is_ready());
    assert!(!f2.is_ready());
    assert_eq!(done_with(conn(&mut f3)), id);
    assert_eq!(done_with(conn(&mut f2)), id);
}

#[tokio::test]
async fn negative_timeout_means_the_pending_timeout() {
    let options = Options {
        refresh_timeout: secs(5),
        ..Options::default()
    };
    let (pool, _fake, clock) = make_pool(options);
    // `None` is mongod's negative timeout; longer than refreshTimeout is clamped to it too.
    let mut none = pool.get(HOST, None);
    let mut long = pool.get(HOST, Some(secs(3600)));
    set_now(&clock, ms(4999)).await;
    assert!(poll_now(&mut none).is_none());
    set_now(&clock, secs(5)).await;
    assert_eq!(
        error(&mut none).code(),
        ErrorCode::NetworkInterfaceExceededTimeLimit
    );
    assert_eq!(
        error(&mut long).code(),
        ErrorCode::NetworkInterfaceExceededTimeLimit
    );
}

#[tokio::test]
async fn zero_timeout_fails_at_once_unless_a_connection_is_ready() {
    let (pool, fake, _clock) = make_pool(Options::default());
    let mut get = pool.get(HOST, Some(ms(0)));
    assert_eq!(
        error(&mut get).code(),
        ErrorCode::NetworkInterfaceExceededTimeLimit
    );
    push_setup(&fake, Ok(())).await;
    assert!(pool.get(HOST, Some(ms(0))).is_ready());
}

#[tokio::test]
async fn timeout_code_is_the_callers() {
    let (pool, _fake, clock) = make_pool(Options::default());
    let mut get = pool.get_with_timeout_code(HOST, Some(ms(10)), ErrorCode::ExceededTimeLimit);
    set_now(&clock, ms(10)).await;
    assert_eq!(error(&mut get).code(), ErrorCode::ExceededTimeLimit);
}

#[tokio::test]
async fn return_after_shutdown() {
    let (pool, fake, _clock) = make_pool(Options::default());
    fake.push_setup(Ok(()));
    let mut get = pool.get(HOST, Some(ms(5000)));
    settle().await;
    let handle = conn(&mut get);
    let mut queued = pool.get(HOST, Some(ms(5000)));
    pool.shutdown();
    assert_eq!(error(&mut queued).code(), ErrorCode::ShutdownInProgress);
    done_with(handle);
    settle().await;
    assert_eq!(fake.live(), 0);
    assert_eq!(
        error(&mut pool.get(HOST, Some(ms(5000)))).code(),
        ErrorCode::ShutdownInProgress
    );
}

#[tokio::test]
async fn dropping_the_pool_shuts_it_down() {
    let (pool, fake, _clock) = make_pool(Options::default());
    let mut queued = pool.get(HOST, Some(ms(5000)));
    push_setup(&fake, Ok(())).await;
    let handle = conn(&mut queued);
    let mut waiting = pool.get(HOST, Some(ms(5000)));
    drop(pool);
    assert_eq!(error(&mut waiting).code(), ErrorCode::ShutdownInProgress);
    done_with(handle);
    settle().await;
    assert_eq!(fake.live(), 0);
}

#[tokio::test]
async fn queue_depth_rejection() {
    let options = Options {
        max_connections: 1,
        connection_requests_max_queue_depth: 2,
        ..Options::default()
    };
    let (pool, fake, _clock) = make_pool(options);
    fake.push_setup(Ok(()));
    let mut first = pool.get(HOST, Some(ms(5000)));
    settle().await;
    let held = conn(&mut first);
    let mut a = pool.get(HOST, Some(ms(5000)));
    let mut b = pool.get(HOST, Some(ms(5000)));
    let mut c = pool.get(HOST, Some(ms(5000)));
    let status = error(&mut c);
    assert_eq!(status.code(), ErrorCode::PooledConnectionAcquisitionRejected);
    assert!(poll_now(&mut a).is_none() && poll_now(&mut b).is_none());
    let stats = pool.stats_document();
    assert_eq!(stats.get_i64("totalRejectedRequests").unwrap(), 1);
    assert_eq!(stats.get_i64("totalPendingRequests").unwrap(), 2);
    done_with(held);
    done_with(conn(&mut a));
    done_with(conn(&mut b));
}

#[tokio::test]
async fn unhealthy_ready_connections_are_dropped() {
    let (pool, fake, _clock) = make_pool(Options::default());
    fake.push_setup(Ok(()));
    let mut get = pool.get(HOST, Some(ms(5000)));
    settle().await;
    let handle = conn(&mut get);
    let switch = handle.health_switch();
    let id = done_with(handle);
    switch.store(false, std::sync::atomic::Ordering::SeqCst);
    fake.push_setup(Ok(()));
    let mut get = pool.get(HOST, Some(ms(5000)));
    settle().await;
    assert_ne!(done_with(conn(&mut get)), id);
}

#[tokio::test]
async fn a_handle_returned_without_a_verdict_is_dropped() {
    let (pool, fake, _clock) = make_pool(Options::default());
    fake.push_setup(Ok(()));
    let mut get = pool.get(HOST, Some(ms(5000)));
    settle().await;
    let handle = conn(&mut get);
    let id = handle.id();
    drop(handle);
    fake.push_setup(Ok(()));
    let mut get = pool.get(HOST, Some(ms(5000)));
    settle().await;
    assert_ne!(done_with(conn(&mut get)), id);
}

#[tokio::test]
async fn an_abandoned_request_gives_its_connection_back() {
    let (pool, fake, _clock) = make_pool(Options::default());
    let abandoned = pool.get(HOST, Some(ms(5000)));
    drop(abandoned);
    push_setup(&fake, Ok(())).await;
    let stats = pool.stats_document();
    assert_eq!(stats.get_i64("totalAvailable").unwrap(), 1);
    assert_eq!(stats.get_i64("totalInUse").unwrap(), 0);
    assert!(pool.get(HOST, Some(ms(5000))).is_ready());
}

#[tokio::test]
async fn leased_connections_are_counted_apart() {
    let (pool, fake, _clock) = make_pool(Options::default());
    fake.push_setup(Ok(()));
    let mut get = pool.lease(HOST, Some(ms(5000)));
    settle().await;
    let leased = conn(&mut get);
    assert!(leased.is_leased());
    let stats = pool.stats_document();
    assert_eq!(stats.get_i64("totalLeased").unwrap(), 1);
    assert_eq!(stats.get_i64("totalInUse").unwrap(), 0);
    done_with(leased);
    assert_eq!(pool.stats_document().get_i64("totalLeased").unwrap(), 0);
}
