//! dropConnections by tag mask and host, through a pool and through the EgressTagCloserManager
//! decoration; connPoolStats shape and its invariant.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::*;
use docwire_pool::{ConnectionPoolStats, EgressTagCloserManager, Options};
use docwire_service::ServiceContext;
use docwire_transport::tags;

/// What dropConnections is called on: one pool, or the manager fanning out to several.
trait Closer {
    fn drop_by_tags(&self, mask: u32);
    fn drop_host(&self, host: &str);
    fn mutate(&self, host: &str, f: &dyn Fn(u32) -> u32);
}

impl Closer for Pool {
    fn drop_by_tags(&self, mask: u32) {
        self.drop_connections_by_tags(mask);
    }
    fn drop_host(&self, host: &str) {
        self.drop_connections_to(host);
    }
    fn mutate(&self, host: &str, f: &dyn Fn(u32) -> u32) {
        self.mutate_tags(host, f);
    }
}

impl Closer for EgressTagCloserManager {
    fn drop_by_tags(&self, mask: u32) {
        self.drop_connections_by_tags(mask);
    }
    fn drop_host(&self, host: &str) {
        self.drop_connections_to(host);
    }
    fn mutate(&self, host: &str, f: &dyn Fn(u32) -> u32) {
        self.mutate_tags(host, f);
    }
}

async fn drop_connections_test(pools: &[&Pool], fakes: &[Fake], closer: &dyn Closer) {
    let (a, b, c, d) = ("a:1", "b:1", "c:1", "d:1");
    for (pool, fake) in pools.iter().zip(fakes) {
        for host in [a, b, c] {
            fake.push_setup(Ok(()));
            let mut get = pool.get(host, Some(secs(1)));
            settle().await;
            done_with(conn(&mut get));
        }
    }
    let counts =
        |host: &str| -> Vec<usize> { pools.iter().map(|p| p.num_connections_per_host(host)).collect() };
    let all = |n: usize| vec![n; pools.len()];
    for host in [a, b, c] {
        assert_eq!(counts(host), all(1));
    }
    // New hosts are pending, and a mask matching pending keeps them.
    closer.drop_by_tags(tags::PENDING);
    for host in [a, b, c] {
        assert_eq!(counts(host), all(1));
    }
    closer.mutate(a, &|_| {
        tags::KEEP_OPEN | tags::LATEST_VERSION_INTERNAL_CLIENT_KEEP_OPEN
    });
    closer.mutate(b, &|_| tags::KEEP_OPEN);
    closer.mutate(c, &|_| tags::EMPTY_TAG_MASK);
    closer.drop_by_tags(tags::KEEP_OPEN);
    assert_eq!((counts(a), counts(b), counts(c)), (all(1), all(1), all(0)));
    closer.drop_by_tags(tags::LATEST_VERSION_INTERNAL_CLIENT_KEEP_OPEN);
    assert_eq!((counts(a), counts(b), counts(c)), (all(1), all(0), all(0)));
    for (pool, fake) in pools.iter().zip(fakes) {
        fake.push_setup(Ok(()));
        let mut get = pool.get(d, Some(secs(1)));
        settle().await;
        done_with(conn(&mut get));
    }
    closer.drop_host(a);
    assert_eq!(
        (counts(a), counts(b), counts(c), counts(d)),
        (all(0), all(0), all(0), all(1))
    );
}

fn min_zero() -> Options {
    Options {
        min_connections: 0,
        ..Options::default()
    }
}

#[tokio::test]
async fn drop_connections_by_tags() {
    let (pool, fake, _clock) = make_pool(min_zero());
    drop_connections_test(&[&pool], &[fake], &pool).await;
}

#[tokio::test]
async fn drop_connections_in_multiple_via_manager() {
    let clock = docwire_service::MockClock::new();
    let mut builder = ServiceContext::builder();
    builder.clock(Arc::new(clock));
    let key = EgressTagCloserManager::declare(&mut builder);
    let service = builder.build().unwrap();
    let manager = EgressTagCloserManager::get(&service, key).unwrap();
    let options = Options {
        egress_tag_closer_manager: Some(manager.clone()),
        ..min_zero()
    };
    let (first, fake1, _c1) = make_pool(options.clone());
    let (second, fake2, _c2) = make_pool(options);
    assert_eq!(manager.len(), 2);
    drop_connections_test(&[&first, &second], &[fake1, fake2], &manager).await;
    drop(second);
    assert_eq!(manager.len(), 1, "a dropped pool unregisters");
}

#[tokio::test]
async fn stats_document_has_connpoolstats_shape() {
    let (pool, fake, clock) = make_pool(Options::default());
    // The first request waits 120 ms for its setup; the second finds its connection made at once.
    let mut g1 = pool.get("h:1", Some(secs(5)));
    set_now(&clock, ms(120)).await;
    push_setup(&fake, Ok(())).await;
    let held = conn(&mut g1);
    fake.push_setup(Ok(()));
    let mut g2 = pool.get("h:1", Some(secs(5)));
    settle().await;
    done_with(conn(&mut g2));
    let doc = pool.stats_document();
    for field in [
        "totalInUse",
        "totalAvailable",
        "totalLeased",
        "totalCreated",
        "totalRefreshing",
        "totalRefreshed",
        "totalWasNeverUsed",
        "totalRejectedRequests",
        "totalPendingRequests",
    ] {
        assert!(doc.get_i64(field).is_ok(), "{field} in {doc}");
    }
    assert_eq!(doc.get_i64("totalInUse").unwrap(), 1);
    assert_eq!(doc.get_i64("totalAvailable").unwrap(), 1);
    assert_eq!(doc.get_i64("totalCreated").unwrap(), 2);
    let host = doc.get_document("hosts").unwrap().get_document("h:1").unwrap();
    for field in [
        "inUse",
        "available",
        "leased",
        "created",
        "refreshing",
        "refreshed",
        "wasNeverUsed",
        "pendingRequests",
    ] {
        assert!(host.get_i64(field).is_ok(), "{field} in {host}");
    }
    let waits = host.get_document("acquisitionWaitTimes").unwrap();
    assert_eq!(waits.get_i64("totalCount").unwrap(), 2);
    assert_eq!(waits.get_document("0-50ms").unwrap().get_i64("count").unwrap(), 1);
    assert_eq!(
        waits.get_document("100-150ms").unwrap().get_i64("count").unwrap(),
        1
    );
    assert_eq!(
        waits
            .get_document("1000-infms")
            .unwrap()
            .get_i64("count")
            .unwrap(),
        0
    );
    let pool_section = doc
        .get_document("pools")
        .unwrap()
        .get_document("test pool")
        .unwrap();
    assert_eq!(pool_section.get_i64("poolInUse").unwrap(), 1);
    assert!(pool_section.get_document("h:1").is_ok());
    drop(held);
}

#[tokio::test]
async fn stats_invariant_holds_through_a_random_workload() {
    let options = Options {
        max_connections: 6,
        refresh_requirement: ms(300),
        refresh_timeout: ms(500),
        host_timeout: secs(2),
        ..Options::default()
    };
    let (pool, _fake, clock) = make_pool_with(options, Fake::auto());
    let mut rng = Rng::new(42);
    let mut held: Vec<Handle> = Vec::new();
    let mut waiting: Vec<Get> = Vec::new();
    let hosts = ["x:1", "y:1"];
    for step in 0..2_000 {
        match rng.below(6) {
            0 | 1 => waiting.push(pool.get(hosts[rng.below(2) as usize], Some(ms(200)))),
            2 if !held.is_empty() => {
                let i = rng.below(held.len() as u64) as usize;
                done_with(held.swap_remove(i));
            }
            3 if !held.is_empty() => {
                let i = rng.below(held.len() as u64) as usize;
                drop(held.swap_remove(i));
            }
            4 => clock.advance(ms(rng.below(150))),
            5 if step % 50 == 0 => pool.drop_connections_to(hosts[rng.below(2) as usize]),
            _ => {}
        }
        settle().await;
        let mut still = Vec::new();
        for mut get in waiting.drain(..) {
            match poll_now(&mut get) {
                Some(Ok(handle)) => held.push(handle),
                Some(Err(_)) => {}
                None => still.push(get),
            }
        }
        waiting = still;
        let mut stats = ConnectionPoolStats::new();
        pool.append_connection_stats(&mut stats);
        let t = stats.totals();
        assert!(
            t.in_use + t.available + t.refreshing <= t.created,
            "step {step}: {t:?}"
        );
        // Handles from dropped hosts no longer show in the stats, so only <= holds.
        assert!(t.in_use as usize <= held.len(), "step {step}");
    }
    held.into_iter().for_each(|h| {
        done_with(h);
    });
}
