//! Replica-set targeting on the mock network: discovery from a partial seed list, failover after
//! NotWritablePrimary and after a black-holed primary, read preferences, and FailedToSatisfyReadPreference.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should fail loudly

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bson::oid::ObjectId;
use bson::{Document, doc};
use common::{ms, started};
use docwire_executor::network::mock::MockNetwork;
use docwire_executor::sdam::{
    MonitorOptions, Operation, ReadPreference, ReadPreferenceMode, ReplicaSetMonitor, TopologySettings,
    TopologyType,
};
use docwire_rpc::ErrorCode;

/// What each host answers: a hello reply, a reply to other commands, or nothing (black hole).
#[derive(Clone, Default)]
struct Hosts {
    hello: Arc<Mutex<HashMap<String, Option<Document>>>>,
    commands: Arc<Mutex<HashMap<String, Document>>>,
}

impl Hosts {
    fn set_hello(&self, host: &str, reply: Option<Document>) {
        self.hello.lock().unwrap().insert(host.into(), reply);
    }

    fn set_command(&self, host: &str, reply: Document) {
        self.commands.lock().unwrap().insert(host.into(), reply);
    }
}

fn member(me: &str, primary: bool, election: u8) -> Document {
    let mut reply = doc! {
        "ok": 1, "setName": "rs", "hosts": ["a:1", "b:1", "c:1"], "me": me,
        "isWritablePrimary": primary, "secondary": !primary, "minWireVersion": 0, "maxWireVersion": 21,
        "setVersion": 1,
    };
    if primary {
        let mut id = [0u8; 12];
        id[11] = election;
        reply.insert("electionId", ObjectId::from_bytes(id));
        reply.insert("primary", me);
    }
    reply
}

/// Drives `work` while answering every request as `hosts` says and moving virtual time along.
async fn serve<T>(net: &MockNetwork, hosts: &Hosts, work: impl Future<Output = T>) -> T {
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            biased;
            out = &mut work => return out,
            _ = tokio::task::yield_now() => {}
        }
        let guard = net.enter_network();
        while let Some(op) = guard.next_ready_request() {
            let host = op.request.targets[0].clone();
            let reply = if op.request.command.contains_key("hello") {
                hosts.hello.lock().unwrap().get(&host).cloned().flatten()
            } else {
                hosts.commands.lock().unwrap().get(&host).cloned()
            };
            match reply {
                Some(reply) => guard.schedule_successful_response(&op, reply),
                None => guard.black_hole(&op),
            }
        }
        guard.run_ready_network_operations();
        guard.advance(ms(50));
    }
}

fn settings() -> TopologySettings {
    TopologySettings {
        seeds: vec!["a:1".into()],
        set_name: Some("rs".into()),
        direct_connection: false,
    }
}

fn options() -> MonitorOptions {
    MonitorOptions {
        selection_timeout: ms(5_000),
        hello_timeout: ms(1_000),
        ..MonitorOptions::default()
    }
}

fn three_members(hosts: &Hosts) {
    hosts.set_hello("a:1", Some(member("a:1", false, 0)));
    hosts.set_hello("b:1", Some(member("b:1", true, 1)));
    hosts.set_hello("c:1", Some(member("c:1", false, 0)));
}

#[tokio::test]
async fn primary_discovery_from_a_partial_seed_list() {
    let f = started();
    let hosts = Hosts::default();
    three_members(&hosts);
    let monitor = ReplicaSetMonitor::new(f.executor.clone(), &settings(), options());
    let primary = serve(
        &f.net,
        &hosts,
        monitor.select(Operation::Write, &ReadPreference::primary()),
    )
    .await;
    assert_eq!(primary.unwrap(), "b:1");
    let topology = monitor.topology();
    assert_eq!(topology.topology_type, TopologyType::ReplicaSetWithPrimary);
    assert_eq!(topology.servers.len(), 3);
}

#[tokio::test]
async fn read_preferences_choose_the_right_members() {
    let f = started();
    let hosts = Hosts::default();
    three_members(&hosts);
    let monitor = ReplicaSetMonitor::new(f.executor.clone(), &settings(), options());
    serve(&f.net, &hosts, async {
        monitor.refresh().await;
        monitor.refresh().await;
    })
    .await;
    for (mode, allowed) in [
        (ReadPreferenceMode::Primary, vec!["b:1"]),
        (ReadPreferenceMode::PrimaryPreferred, vec!["b:1"]),
        (ReadPreferenceMode::Secondary, vec!["a:1", "c:1"]),
        (ReadPreferenceMode::SecondaryPreferred, vec!["a:1", "c:1"]),
        (ReadPreferenceMode::Nearest, vec!["a:1", "b:1", "c:1"]),
    ] {
        for _ in 0..10 {
            let chosen = serve(
                &f.net,
                &hosts,
                monitor.select(Operation::Read, &ReadPreference::new(mode)),
            )
            .await;
            assert!(allowed.contains(&chosen.unwrap().as_str()), "{mode:?}");
        }
    }
}

#[tokio::test]
async fn failover_after_not_writable_primary_retries_once_on_the_new_primary() {
    let f = started();
    let hosts = Hosts::default();
    three_members(&hosts);
    let monitor = ReplicaSetMonitor::new(f.executor.clone(), &settings(), options());
    serve(
        &f.net,
        &hosts,
        monitor.select(Operation::Write, &ReadPreference::primary()),
    )
    .await
    .unwrap();
    // b steps down; c is elected with a higher electionId.
    hosts.set_command("b:1", doc! {"ok": 0, "code": 10107, "errmsg": "not primary"});
    hosts.set_command("c:1", doc! {"ok": 1, "n": 1});
    hosts.set_hello("b:1", Some(member("b:1", false, 0)));
    hosts.set_hello("c:1", Some(member("c:1", true, 2)));
    let command = doc! {"insert": "t", "documents": [{}], "lsid": {"id": 1}, "txnNumber": 1_i64};
    let reply = serve(
        &f.net,
        &hosts,
        monitor.run_command(Operation::Write, &ReadPreference::primary(), "db", command, true),
    )
    .await
    .unwrap();
    assert_eq!(reply.get_i32("n").unwrap(), 1);
    assert_eq!(monitor.topology().primary(), Some("c:1"));
}

#[tokio::test]
async fn failover_after_a_black_holed_primary() {
    let f = started();
    let hosts = Hosts::default();
    three_members(&hosts);
    let monitor = ReplicaSetMonitor::new(f.executor.clone(), &settings(), options());
    serve(
        &f.net,
        &hosts,
        monitor.select(Operation::Write, &ReadPreference::primary()),
    )
    .await
    .unwrap();
    // b stops answering anything; c takes over.
    hosts.set_hello("b:1", None);
    hosts.set_hello("c:1", Some(member("c:1", true, 2)));
    hosts.set_command("c:1", doc! {"ok": 1, "n": 5});
    let reply = serve(
        &f.net,
        &hosts,
        monitor.run_command(
            Operation::Read,
            &ReadPreference::primary(),
            "db",
            doc! {"find": "t"},
            true,
        ),
    )
    .await
    .unwrap();
    assert_eq!(reply.get_i32("n").unwrap(), 5);
    assert_eq!(monitor.topology().primary(), Some("c:1"));
}

#[tokio::test]
async fn a_non_retryable_write_surfaces_the_failover_error() {
    let f = started();
    let hosts = Hosts::default();
    three_members(&hosts);
    let monitor = ReplicaSetMonitor::new(f.executor.clone(), &settings(), options());
    hosts.set_command("b:1", doc! {"ok": 0, "code": 10107, "errmsg": "not primary"});
    let reply = serve(
        &f.net,
        &hosts,
        monitor.run_command(
            Operation::Write,
            &ReadPreference::primary(),
            "db",
            doc! {"insert": "t"},
            false,
        ),
    )
    .await
    .unwrap();
    assert_eq!(reply.get_i32("code").unwrap(), 10107);
}

#[tokio::test]
async fn nothing_eligible_fails_with_failed_to_satisfy_read_preference() {
    let f = started();
    let hosts = Hosts::default();
    hosts.set_hello("a:1", Some(member("a:1", false, 0)));
    hosts.set_hello("b:1", Some(member("b:1", false, 0)));
    hosts.set_hello("c:1", Some(member("c:1", false, 0)));
    let monitor = ReplicaSetMonitor::new(f.executor.clone(), &settings(), options());
    let start = f.executor.now();
    let result = serve(
        &f.net,
        &hosts,
        monitor.select(Operation::Write, &ReadPreference::primary()),
    )
    .await;
    assert_eq!(
        result.unwrap_err().code(),
        ErrorCode::FailedToSatisfyReadPreference
    );
    assert!(f.executor.now().saturating_duration_since(start) >= ms(5_000));
    // Secondaries still serve secondary reads.
    let read = serve(
        &f.net,
        &hosts,
        monitor.select(
            Operation::Read,
            &ReadPreference::new(ReadPreferenceMode::Secondary),
        ),
    )
    .await;
    assert!(read.is_ok());
}
