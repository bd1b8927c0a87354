//! `CursorManager`: open cursors by id. A cursor is checked out (pinned) by the getMore that uses it and
//! returned when the getMore ends; unknown ids are CursorNotFound 43, a pinned one is CursorInUse 143.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};
use docwire_service::{Clock, ClockTime};

use super::source::{Batch, BatchLimit, CursorSource, InterruptCheck};

/// mongod's default `cursorTimeoutMillis`: 10 minutes.
pub const DEFAULT_CURSOR_TIMEOUT: Duration = Duration::from_secs(600);

/// A cursor id: non-zero (0 means "no cursor" on the wire).
pub type CursorId = i64;

/// Who may use a cursor: the connection that made it, or — when it ran in a logical session — that
/// session from any connection.
#[derive(Clone, Debug, PartialEq)]
pub struct CursorOwner {
    /// The connection (Client) id.
    pub connection_id: u64,
    /// The logical session id (`lsid`), if the command carried one.
    pub lsid: Option<Document>,
}

impl CursorOwner {
    fn may_use(&self, caller: &CursorOwner) -> bool {
        match (&self.lsid, &caller.lsid) {
            (Some(mine), Some(theirs)) => mine == theirs,
            (None, None) => true,
            // mongod: a cursor made in a session is only usable in that session, and vice versa.
            _ => false,
        }
    }
}

/// Options a cursor is opened with.
#[derive(Clone, Debug, Default)]
pub struct CursorOptions {
    /// `noCursorTimeout`: never reaped for idleness.
    pub no_timeout: bool,
    /// The command's `comment`, reported by currentOp and idle-cursor listings.
    pub comment: Option<Bson>,
}

struct Entry {
    namespace: String,
    owner: CursorOwner,
    options: CursorOptions,
    /// `None` while a getMore has the cursor checked out.
    source: Option<Box<dyn CursorSource>>,
    last_used: ClockTime,
}

struct State {
    cursors: HashMap<CursorId, Entry>,
    next_id: u64,
}

/// The registry of open cursors.
pub struct CursorManager {
    clock: Arc<dyn Clock>,
    timeout: Duration,
    // A std Mutex: held only for map lookups, never across a batch read or an await.
    state: Mutex<State>,
}

/// The outcome of killCursors, as mongod reports it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct KillCursorsResult {
    /// Killed.
    pub killed: Vec<CursorId>,
    /// Not found.
    pub not_found: Vec<CursorId>,
    /// Found but in use elsewhere (left alive).
    pub alive: Vec<CursorId>,
    /// Could not be determined.
    pub unknown: Vec<CursorId>,
}

impl CursorManager {
    /// A manager reaping idle cursors after `timeout` on `clock`.
    pub fn new(clock: Arc<dyn Clock>, timeout: Duration) -> CursorManager {
        // Ids are unpredictable so one client cannot guess another's cursors (as mongod's are random).
        let seed = std::collections::hash_map::RandomState::new();
        let next_id = std::hash::BuildHasher::hash_one(&seed, clock.now()) | 1;
        CursorManager {
            clock,
            timeout,
            state: Mutex::new(State {
                cursors: HashMap::new(),
                next_id,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the map inconsistent (single inserts/removes).
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a cursor and returns its id.
    pub fn register(
        &self,
        namespace: impl Into<String>,
        owner: CursorOwner,
        options: CursorOptions,
        source: Box<dyn CursorSource>,
    ) -> CursorId {
        let now = self.clock.now();
        let mut state = self.state();
        let id = loop {
            // A 63-bit id from a scrambled counter: positive, non-zero and not in use.
            state.next_id = state
                .next_id
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let candidate = (state.next_id >> 1) as i64;
            if candidate != 0 && !state.cursors.contains_key(&candidate) {
                break candidate;
            }
        };
        let entry = Entry {
            namespace: namespace.into(),
            owner,
            options,
            source: Some(source),
            last_used: now,
        };
        state.cursors.insert(id, entry);
        id
    }

    /// Checks out a cursor for a getMore on `namespace` by `caller`.
    pub fn check_out(
        &self,
        id: CursorId,
        namespace: &str,
        caller: &CursorOwner,
    ) -> StatusResult<PinnedCursor<'_>> {
        let mut state = self.state();
        let Some(entry) = state.cursors.get_mut(&id) else {
            return Err(Status::new(
                ErrorCode::CursorNotFound,
                format!("cursor id {id} not found"),
            ));
        };
        if entry.namespace != namespace {
            return Err(Status::new(
                ErrorCode::Unauthorized,
                format!(
                    "Requested getMore on namespace '{namespace}', but cursor belongs to a different namespace {}",
                    entry.namespace
                ),
            ));
        }
        if !entry.owner.may_use(caller) {
            return Err(Status::new(
                ErrorCode::Unauthorized,
                format!(
                    "Cursor session id is not the same as the operation context's session id for cursor {id}"
                ),
            ));
        }
        let Some(source) = entry.source.take() else {
            return Err(Status::new(
                ErrorCode::CursorInUse,
                format!("cursor id {id} is already in use"),
            ));
        };
        Ok(PinnedCursor {
            manager: self,
            id,
            source: Some(source),
            exhausted: false,
        })
    }

    /// Kills cursors by id (killCursors); a pinned one is marked to die when its getMore returns.
    pub fn kill(&self, ids: &[CursorId]) -> KillCursorsResult {
        let mut result = KillCursorsResult::default();
        let mut state = self.state();
        for &id in ids {
            // A pinned cursor's entry goes too: its getMore's return then drops the source.
            match state.cursors.remove(&id) {
                Some(_) => result.killed.push(id),
                None => result.not_found.push(id),
            }
        }
        result
    }

    /// Kills every cursor of a connection that had no logical session (its session ended).
    pub fn kill_for_connection(&self, connection_id: u64) -> usize {
        let mut state = self.state();
        let before = state.cursors.len();
        state
            .cursors
            .retain(|_, e| !(e.owner.lsid.is_none() && e.owner.connection_id == connection_id));
        before - state.cursors.len()
    }

    /// Kills every cursor opened in the logical session `lsid` (endSessions); returns how many.
    pub fn kill_for_session(&self, lsid: &Document) -> usize {
        let mut state = self.state();
        let before = state.cursors.len();
        state.cursors.retain(|_, e| e.owner.lsid.as_ref() != Some(lsid));
        before - state.cursors.len()
    }

    /// Kills cursors idle for longer than the timeout (not pinned, not noCursorTimeout); returns how many.
    pub fn reap_idle(&self) -> usize {
        let now = self.clock.now();
        let mut state = self.state();
        let before = state.cursors.len();
        let timeout = self.timeout;
        state.cursors.retain(|_, e| {
            e.options.no_timeout || e.source.is_none() || now.saturating_duration_since(e.last_used) < timeout
        });
        before - state.cursors.len()
    }

    /// How many cursors are open.
    pub fn len(&self) -> usize {
        self.state().cursors.len()
    }

    /// Whether no cursor is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn check_in(&self, id: CursorId, source: Box<dyn CursorSource>) {
        let now = self.clock.now();
        let mut state = self.state();
        // Absent if it was killed while pinned: then the source is dropped here.
        if let Some(entry) = state.cursors.get_mut(&id) {
            entry.source = Some(source);
            entry.last_used = now;
        }
    }

    fn forget(&self, id: CursorId) {
        self.state().cursors.remove(&id);
    }
}

/// A cursor checked out by a getMore; returned to the manager on drop (or forgotten once exhausted).
pub struct PinnedCursor<'m> {
    manager: &'m CursorManager,
    id: CursorId,
    source: Option<Box<dyn CursorSource>>,
    exhausted: bool,
}

impl PinnedCursor<'_> {
    /// The cursor's id.
    pub fn id(&self) -> CursorId {
        self.id
    }

    /// Reads the next batch; once the source is exhausted the cursor is closed when this is dropped.
    pub fn next_batch(&mut self, limit: BatchLimit, check: InterruptCheck<'_>) -> StatusResult<Batch> {
        let Some(source) = self.source.as_mut() else {
            return Ok(Batch {
                documents: Vec::new(),
                exhausted: true,
            });
        };
        let batch = source.next_batch(limit, check);
        match &batch {
            Ok(b) => self.exhausted = b.exhausted,
            // A failing source is closed, as mongod kills a cursor whose plan errors.
            Err(_) => self.exhausted = true,
        }
        batch
    }
}

impl Drop for PinnedCursor<'_> {
    fn drop(&mut self) {
        match self.source.take() {
            Some(source) if !self.exhausted => self.manager.check_in(self.id, source),
            _ => self.manager.forget(self.id),
        }
    }
}
