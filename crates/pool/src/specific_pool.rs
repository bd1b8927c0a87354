//! `SpecificPool`: one host's connections, its request queue, and the state machine that drives them.
//!
//! Every change goes through the same shape: lock the state, change it, call [`update_state`], unlock,
//! then carry out the [`Actions`] it left (answer waiters, start setup and refresh tasks, drop
//! connections). `update_state` is mongod's `updateState`: refresh or drop idle connections that are
//! due, serve queued requests from the ready list (most recently used first, most urgent request
//! first), fail expired requests, expire the host, open connections up to the controller's target, and
//! arm one clock alarm for the next of those events.
//!
//! Lock order: this pool's state, then the controller or the clock (both take only short locks of their
//! own and never call back). The parent's host map is never locked while this state is.
//!
//! [`update_state`]: SpecificPool::update_state

use std::sync::{Arc, Weak};
use std::time::Duration;

use docwire_rpc::{ErrorCode, Status, StatusResult};
use docwire_service::{ClockTime, sleep_until};
use parking_lot::Mutex;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::common::{CachePadded, Common};
use crate::connection::ConnectionInterface;
use crate::future::ConnectionFuture;
use crate::handle::{ConnectionHandle, Outcome};
use crate::pool::Shared;
use crate::specific_state::{Actions, Health, Request, Slot, State, Work};
use crate::stats::HostConnectionStats;

/// One host's pool. Always used through an `Arc`: handles, tasks and the alarm hold one.
pub(crate) struct SpecificPool<C: ConnectionInterface> {
    host: String,
    common: Arc<Common<C>>,
    /// To leave the parent's map when this host expires.
    parent: Weak<Shared<C>>,
    /// For the alarm call-back, which must not keep the pool alive.
    me: Weak<SpecificPool<C>>,
    /// A synchronous mutex: every critical section is short, and alarms take it from a non-async
    /// thread. parking_lot's, whose spinning suits sections this short when callers on every core meet
    /// here twice per checkout. Padded: see [`CachePadded`].
    state: CachePadded<Mutex<State<C>>>,
    /// Cancelled at shutdown, so setups and refreshes in flight stop at once instead of at their timeout.
    shutdown: CancellationToken,
}

impl<C: ConnectionInterface> SpecificPool<C> {
    pub(crate) fn new(host: &str, common: Arc<Common<C>>, parent: Weak<Shared<C>>, tags: u32) -> Arc<Self> {
        common.controller.add_host(host);
        let now = common.clock.now();
        Arc::new_cyclic(|me| SpecificPool {
            host: host.to_owned(),
            common,
            parent,
            me: me.clone(),
            state: CachePadded(Mutex::new(State::new(now, tags))),
            shutdown: CancellationToken::new(),
        })
    }

    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    pub(crate) fn now(&self) -> ClockTime {
        self.common.clock.now()
    }

    /// Checks out a connection or queues a request. `Err(self)` when this host has expired: the caller
    /// forgets it, makes a new specific pool and asks again. Takes the caller's `Arc` so that a
    /// connection handed out at once keeps it, sparing a count update on a line every caller touches.
    pub(crate) fn get(
        self: Arc<Self>,
        timeout: Option<Duration>,
        timeout_code: ErrorCode,
        lease: bool,
    ) -> Result<ConnectionFuture<C>, Arc<Self>> {
        let mut actions = Actions::default();
        let mut st = self.state.lock();
        if let Health::ShutDown(status) = &st.health {
            if status.code() == ErrorCode::ConnectionPoolExpired {
                drop(st);
                return Err(self);
            }
            return Ok(ConnectionFuture::ready(Err(status.clone())));
        }
        // Fast path: nobody is queued ahead of us and a connection is idle. It reads no clock: with a
        // connection out the host cannot expire (its return sets last_active), nothing is queued to
        // expire, and a refresh due meanwhile has its own alarm, so the latest time any caller brought
        // in serves update_state (which reads the clock itself if arming finds that time has passed).
        if st.requests.is_empty()
            && let Some(mut slot) = self.take_ready(&mut st, &mut actions)
        {
            st.wait_times.record(Duration::ZERO);
            st.count_check_out(&mut slot, lease);
            let latest = st.latest;
            self.update_state(&mut st, latest, &mut actions);
            drop(st);
            self.run(actions);
            let handle = ConnectionHandle::new(slot, self, lease);
            return Ok(ConnectionFuture::ready(Ok(handle)));
        }
        // The slow path reads the clock under the lock: it queues (or rejects), so it waits anyway.
        let now = self.now();
        st.last_active = now;
        let depth = self.common.options.connection_requests_max_queue_depth;
        let future = if depth > 0 && st.requests.len() >= depth {
            st.rejected += 1;
            ConnectionFuture::ready(Err(Status::new(
                ErrorCode::PooledConnectionAcquisitionRejected,
                format!(
                    "Connection request to {} rejected: {} requests already queued (connectionRequestsMaxQueueDepth)",
                    self.host, depth
                ),
            )))
        } else {
            // No caller waits longer than a setup may take (mongod clamps to the pending timeout).
            let pending_timeout = self.common.controller.pending_timeout();
            let timeout = timeout.map_or(pending_timeout, |t| t.min(pending_timeout));
            let (reply, receiver) = oneshot::channel();
            let request = Request {
                reply,
                queued_at: now,
                timeout_code,
                lease,
            };
            st.push_request(now.saturating_add(timeout), request);
            self.update_state(&mut st, now, &mut actions);
            ConnectionFuture::waiting(receiver)
        };
        drop(st);
        self.run(actions);
        Ok(future)
    }

    /// Takes back a checked-out connection; `outcome` decides whether it is kept, refreshed or dropped.
    pub(crate) fn return_connection(self: &Arc<Self>, mut slot: Slot<C>, outcome: Outcome, leased: bool) {
        let now = self.now();
        let mut actions = Actions::default();
        let mut st = self.state.lock();
        if leased {
            st.leased = st.leased.saturating_sub(1);
        } else {
            st.active = st.active.saturating_sub(1);
        }
        st.last_active = now;
        if !matches!(st.health, Health::Open) || slot.conn.generation() != st.generation {
            st.discard(slot, &mut actions);
        } else {
            match outcome {
                Outcome::Unknown => {
                    debug!(host = %self.host, "dropping a connection returned in an unknown state");
                    st.discard(slot, &mut actions);
                }
                Outcome::Failure(status) => {
                    debug!(host = %self.host, %status, "dropping a connection returned as failed");
                    st.discard(slot, &mut actions);
                }
                Outcome::Success | Outcome::Unused => {
                    if matches!(outcome, Outcome::Success) {
                        // The holder's use ends now; this reading spares indicate_success one.
                        slot.conn.indicate_used(now);
                    }
                    let cutoff = refresh_cutoff(now, self.common.controller.refresh_requirement());
                    if is_due(&slot, cutoff) {
                        self.refresh_or_drop(&mut st, slot, &mut actions);
                    } else {
                        st.ready.push(slot);
                    }
                }
            }
            self.update_state(&mut st, now, &mut actions);
        }
        drop(st);
        self.run(actions);
    }

    /// Shuts this host down: ready connections dropped, requests failed with `status`; connections in
    /// setup, refresh or use are dropped when they come back.
    pub(crate) fn shutdown(self: &Arc<Self>, status: Status) {
        let mut actions = Actions::default();
        let mut st = self.state.lock();
        if matches!(st.health, Health::Open) {
            self.shutdown_locked(&mut st, status, &mut actions);
        }
        drop(st);
        self.run(actions);
    }

    pub(crate) fn stats(&self) -> HostConnectionStats {
        self.state.lock().stats()
    }

    /// Connections open to this host: ready, pending, checked out and leased.
    pub(crate) fn open_connections(&self) -> usize {
        self.state.lock().open()
    }

    pub(crate) fn tags(&self) -> u32 {
        self.state.lock().tags
    }

    pub(crate) fn mutate_tags(&self, mutate: &dyn Fn(u32) -> u32) {
        let mut st = self.state.lock();
        st.tags = mutate(st.tags);
    }

    /// The clock alarm: whatever was due is done by `update_state`.
    fn on_timer(self: &Arc<Self>) {
        let mut actions = Actions::default();
        let mut st = self.state.lock();
        st.timer = None;
        let now = self.now();
        self.update_state(&mut st, now, &mut actions);
        drop(st);
        self.run(actions);
    }

    /// Runs a setup or refresh, bounded by the pending timeout on the pool's clock.
    async fn run_work(self: Arc<Self>, mut slot: Slot<C>, work: Work) {
        let clock = Arc::clone(&self.common.clock);
        let timeout = self.common.controller.pending_timeout();
        let deadline = clock.now().saturating_add(timeout);
        let result = {
            let operation = async {
                match work {
                    Work::Setup => slot.conn.setup(timeout).await,
                    Work::Refresh => slot.conn.refresh(timeout).await,
                }
            };
            // Dropping the operation on timeout cancels it; the connection is then dropped in `finish`.
            tokio::select! {
                biased;
                result = operation => result,
                () = sleep_until(&*clock, deadline) => Err(timed_out(&self.host, work, timeout)),
                () = self.shutdown.cancelled() => Err(Status::new(ErrorCode::CallbackCanceled, "pool shut down")),
            }
        };
        self.finish(slot, work, result);
    }

    /// A setup or refresh finished (mongod's `finishRefresh`).
    fn finish(self: &Arc<Self>, mut slot: Slot<C>, work: Work, result: StatusResult<()>) {
        let now = self.now();
        let mut actions = Actions::default();
        let mut st = self.state.lock();
        match work {
            Work::Setup => st.setting_up = st.setting_up.saturating_sub(1),
            Work::Refresh => st.refreshing = st.refreshing.saturating_sub(1),
        }
        if !matches!(st.health, Health::Open) || slot.conn.generation() != st.generation {
            // Shut down or dropped meanwhile: let it lapse (a stale failure says nothing about now).
            st.discard(slot, &mut actions);
        } else {
            match result {
                Ok(()) => {
                    if work == Work::Refresh {
                        st.refreshed += 1;
                    }
                    slot.conn.indicate_used(now);
                    st.ready.push(slot);
                }
                Err(status) if status.code() == ErrorCode::NetworkInterfaceExceededTimeLimit => {
                    // A slow peer is not a failed one: drop this connection and let update_state try again.
                    debug!(host = %self.host, %status, "pending connection timed out");
                    st.discard(slot, &mut actions);
                }
                Err(status) => {
                    debug!(host = %self.host, %status, "connection setup or refresh failed");
                    st.discard(slot, &mut actions);
                    self.process_failure(&mut st, status, now, &mut actions);
                }
            }
        }
        if matches!(st.health, Health::Open) {
            self.update_state(&mut st, now, &mut actions);
        }
        drop(st);
        self.run(actions);
    }

    /// A failed setup or refresh: new generation, ready connections dropped, every request failed.
    fn process_failure(&self, st: &mut State<C>, status: Status, now: ClockTime, actions: &mut Actions<C>) {
        st.generation += 1;
        for slot in std::mem::take(&mut st.ready) {
            st.discard(slot, actions);
        }
        for (_, request) in std::mem::take(&mut st.requests) {
            actions.deliveries.push((request.reply, Err(status.clone())));
        }
        st.retry_after = now.saturating_add(self.common.options.host_retry_timeout);
    }

    fn shutdown_locked(&self, st: &mut State<C>, status: Status, actions: &mut Actions<C>) {
        debug!(host = %self.host, %status, "shutting down a specific pool");
        for slot in std::mem::take(&mut st.ready) {
            st.discard(slot, actions);
        }
        for (_, request) in std::mem::take(&mut st.requests) {
            actions.deliveries.push((request.reply, Err(status.clone())));
        }
        st.health = Health::ShutDown(status);
        st.timer = None;
        self.shutdown.cancel();
        self.common.controller.remove_host(&self.host);
    }

    /// mongod's `updateState`; see the module docs. `now` is the caller's reading of the clock (taken
    /// before the lock, so the critical section does not pay for it); the clock is read again only if
    /// the next event came while the alarm was being armed, and the loop goes round.
    fn update_state(self: &Arc<Self>, st: &mut State<C>, mut now: ClockTime, actions: &mut Actions<C>) {
        let controller = &self.common.controller;
        let refresh_requirement = controller.refresh_requirement();
        let host_timeout = controller.host_timeout();
        loop {
            if !matches!(st.health, Health::Open) {
                return;
            }
            st.latest = st.latest.max(now);

            // Idle connections due for refresh leave the ready list, oldest first. One pass finds
            // whether any is due and the oldest use, which also times the refresh alarm below.
            let cutoff = refresh_cutoff(now, refresh_requirement);
            let mut oldest = st.ready.iter().map(|slot| slot.conn.last_used()).min();
            if cutoff.is_some_and(|cutoff| oldest.is_some_and(|oldest| oldest <= cutoff)) {
                let (mut due, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut st.ready)
                    .into_iter()
                    .partition(|slot| is_due(slot, cutoff));
                st.ready = keep;
                due.sort_by_key(|slot| slot.conn.last_used());
                for slot in due {
                    self.refresh_or_drop(st, slot, actions);
                }
                oldest = None;
            }

            let ready_before = st.ready.len();
            self.serve_requests(st, now, actions);

            while let Some(entry) = st.requests.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                let request = entry.remove();
                let status = Status::new(
                    request.timeout_code,
                    "Couldn't get a connection within the time limit",
                );
                actions.deliveries.push((request.reply, Err(status)));
            }

            let update = controller.update_host(&self.host, &st.host_state());
            if st.is_idle() && update.can_shutdown && st.last_active.saturating_add(host_timeout) <= now {
                let status = Status::new(
                    ErrorCode::ConnectionPoolExpired,
                    format!("Pool for {} has expired.", self.host),
                );
                self.shutdown_locked(st, status, actions);
                actions.expired = true;
                return;
            }

            // Open connections towards the target; after a failure, only for waiting requests.
            let controls = update.controls;
            let may_spawn = !st.requests.is_empty() || now >= st.retry_after;
            if may_spawn {
                let wanted = controls.target.saturating_sub(st.open());
                let room = controls.max_pending.saturating_sub(st.pending());
                for _ in 0..wanted.min(room) {
                    let conn = self
                        .common
                        .factory
                        .make_connection(&self.host, st.generation, now);
                    st.created += 1;
                    st.setting_up += 1;
                    actions.tasks.push((Slot { conn, times_used: 0 }, Work::Setup));
                }
            }

            // Serving requests takes from the ready list; only then may the oldest have gone.
            if oldest.is_none() || st.ready.len() != ready_before {
                oldest = st.ready.iter().map(|slot| slot.conn.last_used()).min();
            }
            let mut next = st.requests.keys().next().map(|(expiry, _)| *expiry);
            next = earliest(next, oldest.map(|at| at.saturating_add(refresh_requirement)));
            if st.is_idle() {
                next = earliest(next, Some(st.last_active.saturating_add(host_timeout)));
            }
            if !may_spawn && st.open() < controls.target {
                next = earliest(next, Some(st.retry_after));
            }
            if self.arm(st, next, now) {
                return;
            }
            now = self.now();
        }
    }

    /// Hands ready connections to queued requests, most urgent first, skipping abandoned ones.
    fn serve_requests(self: &Arc<Self>, st: &mut State<C>, now: ClockTime, actions: &mut Actions<C>) {
        while !st.requests.is_empty() {
            let Some(slot) = self.take_ready(st, actions) else {
                return;
            };
            let mut slot = Some(slot);
            while let Some((_, request)) = st.requests.pop_first() {
                if request.reply.is_closed() {
                    continue;
                }
                if let Some(slot) = slot.take() {
                    st.wait_times
                        .record(now.saturating_duration_since(request.queued_at));
                    let handle = self.check_out(st, slot, request.lease);
                    actions.deliveries.push((request.reply, Ok(handle)));
                }
                break;
            }
            if let Some(slot) = slot {
                // Every remaining request had been abandoned.
                st.ready.push(slot);
            }
        }
    }

    /// Arms the event alarm for `next`; false if that time has already come (the caller goes round
    /// again). An alarm already armed for an earlier time is kept: it fires early and re-arms, which is
    /// cheaper than re-arming on every return.
    fn arm(&self, st: &mut State<C>, next: Option<ClockTime>, now: ClockTime) -> bool {
        let Some(at) = next else {
            st.timer = None;
            return true;
        };
        if let Some((armed, _)) = &st.timer
            && *armed <= at
            && *armed > now
        {
            return true;
        }
        let me = self.me.clone();
        let alarm = self.common.clock.set_alarm(
            at,
            Box::new(move || {
                if let Some(pool) = me.upgrade() {
                    pool.on_timer();
                }
            }),
        );
        if alarm.is_due() {
            st.timer = None;
            return false;
        }
        st.timer = Some((at, alarm));
        true
    }

    /// An idle connection due for refresh: refreshed if the host needs it to reach its target, else
    /// dropped (mongod: "ending idle connection because the pool meets constraints").
    fn refresh_or_drop(&self, st: &mut State<C>, slot: Slot<C>, actions: &mut Actions<C>) {
        let update = self.common.controller.update_host(&self.host, &st.host_state());
        if st.open() >= update.controls.target {
            st.discard(slot, actions);
        } else {
            st.refreshing += 1;
            actions.tasks.push((slot, Work::Refresh));
        }
    }

    /// The most recently used healthy ready connection; unhealthy ones met on the way are dropped.
    fn take_ready(&self, st: &mut State<C>, actions: &mut Actions<C>) -> Option<Slot<C>> {
        while let Some(slot) = st.ready.pop() {
            if slot.conn.is_healthy() {
                return Some(slot);
            }
            st.discard(slot, actions);
        }
        None
    }

    fn check_out(self: &Arc<Self>, st: &mut State<C>, mut slot: Slot<C>, lease: bool) -> ConnectionHandle<C> {
        st.count_check_out(&mut slot, lease);
        ConnectionHandle::new(slot, Arc::clone(self), lease)
    }

    /// Carries out what a state change left to do, with the lock released.
    fn run(self: &Arc<Self>, actions: Actions<C>) {
        let Actions {
            deliveries,
            tasks,
            dropped,
            expired,
        } = actions;
        for (slot, work) in tasks {
            let pool = Arc::clone(self);
            self.common.runtime.spawn(pool.run_work(slot, work));
        }
        for (reply, result) in deliveries {
            if let Err(Ok(mut handle)) = reply.send(result) {
                // The caller stopped waiting: the connection goes back untouched.
                handle.mark_unused();
                drop(handle);
            }
        }
        drop(dropped);
        if expired && let Some(parent) = self.parent.upgrade() {
            parent.remove_pool(&self.host, self);
        }
    }
}

/// The latest last use at which a connection is due for refresh at `now` (`None`: none can be yet).
/// Comparing against one cutoff saves a duration sum per connection.
fn refresh_cutoff(now: ClockTime, refresh_requirement: Duration) -> Option<ClockTime> {
    let micros = u64::try_from(refresh_requirement.as_micros()).unwrap_or(u64::MAX);
    now.as_micros().checked_sub(micros).map(ClockTime::from_micros)
}

/// Whether `slot` was last used at or before `cutoff` (see [`refresh_cutoff`]).
fn is_due<C: ConnectionInterface>(slot: &Slot<C>, cutoff: Option<ClockTime>) -> bool {
    cutoff.is_some_and(|cutoff| slot.conn.last_used() <= cutoff)
}

fn earliest(a: Option<ClockTime>, b: Option<ClockTime>) -> Option<ClockTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

fn timed_out(host: &str, work: Work, timeout: Duration) -> Status {
    let what = match work {
        Work::Setup => "connecting to",
        Work::Refresh => "refreshing the connection to",
    };
    Status::new(
        ErrorCode::NetworkInterfaceExceededTimeLimit,
        format!("Timed out {what} {host} after {timeout:?}"),
    )
}
