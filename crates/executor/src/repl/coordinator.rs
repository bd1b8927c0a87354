//! `ReplicationCoordinator`: one member of a role-simulated replica set. It heartbeats every other
//! member (hello on an interval, through the task executor and its network interface), keeps the
//! [`ReplState`], stands for election when no primary is known, steps up and down on command (handing
//! over to the next reachable member on a step-down), and shapes hello. Every change to what hello
//! reports bumps the server's topology version, which completes waiting awaitable hellos.
//!
//! This is role simulation: no data is replicated between members.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bson::{Bson, DateTime, Document, doc};
use docwire_rpc::StatusResult;
use docwire_transport::client::{RemoteCommandRequest, RemoteCommandResponse};
use docwire_transport::commands::{ReplicaSetHello, ReplicaSetView, TopologyState};

use super::config::{ReplSetConfig, election_id, term_of};
use super::state::{Health, Heartbeat, ReplState, Role};
use crate::executor::TaskExecutor;

/// One member of a role-simulated replica set. Clones share it.
#[derive(Clone, Debug)]
pub struct ReplicationCoordinator {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    config: ReplSetConfig,
    state: Mutex<ReplState>,
    topology: Arc<TopologyState>,
    executor: TaskExecutor,
}

impl ReplicationCoordinator {
    /// A member described by `config`, reporting through `topology`, talking through `executor` (which
    /// the caller starts and, at the end, shuts down: that stops the heartbeats).
    pub fn new(
        config: ReplSetConfig,
        topology: Arc<TopologyState>,
        executor: TaskExecutor,
    ) -> ReplicationCoordinator {
        let state = ReplState::new(config.members.len(), executor.now());
        ReplicationCoordinator {
            shared: Arc::new(Shared {
                config,
                state: Mutex::new(state),
                topology,
                executor,
            }),
        }
    }

    /// The set's configuration.
    pub fn config(&self) -> &ReplSetConfig {
        &self.shared.config
    }

    /// The executor heartbeats and handoffs run on.
    pub fn executor(&self) -> &TaskExecutor {
        &self.shared.executor
    }

    fn lock(&self) -> MutexGuard<'_, ReplState> {
        self.shared.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of the member's current view.
    pub fn state(&self) -> ReplState {
        self.lock().clone()
    }

    /// Whether this member accepts writes now.
    pub fn is_writable_primary(&self) -> bool {
        self.lock().is_primary()
    }

    /// Applies `change` to the state; bumps the topology version (after the lock is released) when it
    /// says hello's answer changed.
    fn change<T>(&self, change: impl FnOnce(&mut ReplState) -> (T, bool)) -> T {
        let (out, changed) = change(&mut self.lock());
        if changed {
            let counter = self.shared.topology.bump();
            let state = self.state();
            tracing::info!(
                me = self.config().me(),
                primary = state
                    .primary
                    .and_then(|p| self.config().members.get(p))
                    .map(String::as_str),
                is_primary = state.is_primary(),
                term = state.term,
                topology_version = counter,
                "replica set member changed"
            );
        }
        out
    }

    /// Starts the heartbeats (one loop per other member) and the election timer; they stop when the
    /// executor shuts down.
    pub fn start(&self) {
        for member in self.config().others() {
            let this = self.clone();
            tokio::spawn(async move { this.heartbeat_loop(member).await });
        }
        let this = self.clone();
        tokio::spawn(async move {
            let tick = this.config().heartbeat_interval / 2;
            loop {
                this.stand_if_due();
                if this.executor().sleep_for(tick).await.is_err() {
                    return;
                }
            }
        });
    }

    async fn heartbeat_loop(&self, member: usize) {
        let Some(host) = self.config().members.get(member).cloned() else {
            return;
        };
        loop {
            let started = self.executor().now();
            let mut request = RemoteCommandRequest::new(&host, "admin", doc! {"hello": 1});
            request.timeout = Some(self.config().election_timeout.max(Duration::from_secs(1)));
            let response = self.executor().run_remote_command(request, None).await;
            let heartbeat = self.read_heartbeat(&response);
            let now = self.executor().now();
            self.change(|state| ((), state.on_heartbeat(member, heartbeat, now)));
            self.stand_if_due();
            let next = started.saturating_add(self.config().heartbeat_interval);
            if self.executor().sleep_until(next).await.is_err() {
                return;
            }
        }
    }

    fn read_heartbeat(&self, response: &RemoteCommandResponse) -> Heartbeat {
        let reply = &response.data;
        if response.status.is_err() || reply.get_str("setName").ok() != Some(self.config().set_name.as_str())
        {
            return Heartbeat::Failed;
        }
        let primary = matches!(reply.get("isWritablePrimary"), Some(Bson::Boolean(true)));
        match (primary, reply.get_object_id("electionId")) {
            (true, Ok(id)) => Heartbeat::Primary { term: term_of(&id) },
            (true, Err(_)) => Heartbeat::Failed,
            (false, _) => Heartbeat::Secondary,
        }
    }

    fn stand_if_due(&self) {
        let now = self.executor().now();
        let me = self.config().me;
        let config = self.config().clone();
        self.change(|state| {
            if state.should_stand(&config, now) {
                ((), state.step_up(me, now).unwrap_or(false))
            } else {
                ((), false)
            }
        });
    }

    /// replSetStepUp: makes this member primary in a new term (the old primary steps down when its
    /// heartbeat sees the higher electionId).
    pub fn step_up(&self) -> StatusResult<()> {
        let now = self.executor().now();
        let me = self.config().me;
        self.change(|state| match state.step_up(me, now) {
            Ok(changed) => (Ok(()), changed),
            Err(status) => (Err(status), false),
        })
    }

    /// replSetStepDown: the primary becomes a secondary that may not stand for `period`, and hands
    /// over to the next reachable member by sending it replSetStepUp.
    pub fn step_down(&self, period: Duration, force: bool) -> StatusResult<()> {
        let now = self.executor().now();
        let config = self.config().clone();
        let target = self.change(|state| match state.step_down(period, force, now) {
            Ok(()) => (Ok(state.handoff_target(&config)), true),
            Err(status) => (Err(status), false),
        })?;
        if let Some(target) = target.and_then(|t| config.members.get(t).cloned()) {
            let mut request =
                RemoteCommandRequest::new(&target, "admin", doc! {"replSetStepUp": 1, "skipDryRun": true});
            request.timeout = Some(config.election_timeout.max(Duration::from_secs(1)));
            let handoff = self.executor().run_remote_command(request, None);
            tokio::spawn(async move {
                let response = handoff.await;
                tracing::info!(target, status = ?response.status, reply = %response.data, "election handoff");
            });
        }
        Ok(())
    }

    /// replSetGetStatus's reply.
    pub fn status_document(&self) -> Document {
        let state = self.state();
        let config = self.config();
        let mut members = Vec::new();
        for (i, name) in config.members.iter().enumerate() {
            let mut member = doc! {"_id": i32::try_from(i).unwrap_or(i32::MAX), "name": name};
            let (health, role, term) = if i == config.me {
                (
                    true,
                    Some(state.is_primary()),
                    state.is_primary().then_some(state.term),
                )
            } else {
                match state.peers.get(i).map(|p| p.health) {
                    Some(Health::Up { primary_term }) => (true, Some(primary_term.is_some()), primary_term),
                    _ => (false, None, None),
                }
            };
            let (code, name) = match role {
                Some(true) => (1, "PRIMARY"),
                Some(false) => (2, "SECONDARY"),
                None => (8, "(not reachable/healthy)"),
            };
            member.insert("health", if health { 1.0 } else { 0.0 });
            member.insert("state", code);
            member.insert("stateStr", name);
            if let Some(term) = term {
                member.insert("electionId", election_id(term));
            }
            if i == config.me {
                member.insert("self", true);
            }
            members.push(Bson::Document(member));
        }
        doc! {
            "set": config.set_name.clone(),
            "date": DateTime::now(),
            "myState": if state.is_primary() { 1 } else { 2 },
            "term": i64::try_from(state.term).unwrap_or(i64::MAX),
            "heartbeatIntervalMillis": i64::try_from(config.heartbeat_interval.as_millis()).unwrap_or(i64::MAX),
            "members": members,
            "ok": 1.0,
        }
    }
}

impl ReplicaSetView for ReplicationCoordinator {
    fn hello(&self) -> ReplicaSetHello {
        let state = self.state();
        let config = self.config();
        let primary = state.is_primary();
        let mut fields = doc! {
            "setName": config.set_name.clone(),
            "setVersion": 1,
            "hosts": config.members.clone(),
            "me": config.me(),
            "secondary": !primary,
        };
        if let Some(p) = state.primary.and_then(|p| config.members.get(p)) {
            fields.insert("primary", p.clone());
        }
        if state.role == Role::Primary {
            fields.insert("electionId", election_id(state.term));
        }
        ReplicaSetHello {
            is_writable_primary: primary,
            fields,
        }
    }
}
