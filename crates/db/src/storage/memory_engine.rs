//! `inMemory`: the engine for `--storageEngine inMemory`. Tables are persistent ordered maps (imbl),
//! so a snapshot is an O(1) clone of the committed state and a write transaction edits its own copy,
//! swapped in at commit; dropping it simply discards the copy. Writers take turns, as in redb.

use std::collections::HashMap;
use std::fmt;
use std::ops::Bound;
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};

use docwire_rpc::Status;
use imbl::OrdMap;

use super::catalog::CollMeta;
use super::engine::{ReadTxn, StorageEngine, WriteTxn};
use super::kv::{KvIter, KvRead, KvWrite, as_slice, is_empty_range};
use super::meta_cache::{MetaCache, SnapshotMetas};
use super::read::View;
use super::types::Direction;
use super::write::WriteTx;

/// A table: shared, reference-counted keys and values so copy-on-write node clones stay cheap.
type Table = OrdMap<Arc<[u8]>, Arc<[u8]>>;

/// The whole database at one commit.
#[derive(Clone, Default)]
struct State {
    tables: HashMap<String, Table>,
}

impl State {
    fn get(&self, table: &str, key: &[u8]) -> Option<Vec<u8>> {
        self.tables.get(table)?.get(key).map(|v| v.to_vec())
    }

    fn range(
        &self,
        table: &str,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        direction: Direction,
    ) -> KvIter<'_> {
        let Some(t) = self.tables.get(table) else {
            return Box::new(std::iter::empty());
        };
        // imbl panics on an inverted range; an empty one is the right answer.
        if is_empty_range(&lower, &upper) {
            return Box::new(std::iter::empty());
        }
        let bounds = (as_slice(&lower), as_slice(&upper));
        let pairs = t
            .range::<_, [u8]>(bounds)
            .map(|(k, v)| Ok((k.to_vec(), v.to_vec())));
        match direction {
            Direction::Forward => Box::new(pairs),
            Direction::Backward => Box::new(pairs.rev()),
        }
    }
}

/// The committed state, shared by the engine and its write transactions.
type Committed = Arc<RwLock<Arc<State>>>;

/// The in-memory engine: nothing survives the process, everything else behaves as redb does.
pub struct MemoryEngine {
    committed: Committed,
    writer: Arc<WriterGate>,
    metas: Arc<MetaCache>,
}

impl MemoryEngine {
    /// An empty in-memory database.
    pub fn new() -> Self {
        MemoryEngine {
            committed: Committed::default(),
            writer: Arc::new(WriterGate::default()),
            metas: Arc::default(),
        }
    }

    fn current(&self) -> Arc<State> {
        self.committed
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Default for MemoryEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryEngine")
            .field("tables", &self.current().tables.len())
            .finish()
    }
}

impl StorageEngine for MemoryEngine {
    fn name(&self) -> &'static str {
        "inMemory"
    }

    fn persistent(&self) -> bool {
        false
    }

    fn begin_read(&self) -> Result<Box<dyn ReadTxn>, Status> {
        Ok(Box::new(MemSnapshot {
            state: self.current(),
            metas: SnapshotMetas::new(self.metas.clone()),
        }))
    }

    fn begin_write(&self) -> Result<Box<dyn WriteTxn>, Status> {
        let turn = WriterTurn::take(self.writer.clone());
        // Read after taking the turn, so no other writer commits between this copy and ours.
        let state = (*self.current()).clone();
        Ok(Box::new(WriteTx::new(MemWrite {
            state,
            committed: self.committed.clone(),
            _turn: turn,
        })))
    }
}

/// A read snapshot: the committed state when it began.
struct MemSnapshot {
    state: Arc<State>,
    metas: SnapshotMetas,
}

impl View for MemSnapshot {
    type Kv = Self;

    fn kv(&self) -> &Self {
        self
    }

    fn meta(&self, ns: &str) -> Result<Option<Arc<CollMeta>>, Status> {
        self.metas.meta(self, ns)
    }
}

impl KvRead for MemSnapshot {
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, Status> {
        Ok(self.state.get(table, key))
    }

    fn range(
        &self,
        table: &str,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        direction: Direction,
    ) -> Result<KvIter<'_>, Status> {
        Ok(self.state.range(table, lower, upper, direction))
    }
}

/// A write transaction's own copy of the state, published at commit.
struct MemWrite {
    state: State,
    committed: Committed,
    _turn: WriterTurn,
}

impl KvRead for MemWrite {
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, Status> {
        Ok(self.state.get(table, key))
    }

    fn range(
        &self,
        table: &str,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        direction: Direction,
    ) -> Result<KvIter<'_>, Status> {
        Ok(self.state.range(table, lower, upper, direction))
    }
}

impl KvWrite for MemWrite {
    fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<Option<Vec<u8>>, Status> {
        let t = self.state.tables.entry(table.to_string()).or_default();
        Ok(t.insert(Arc::from(key), Arc::from(value)).map(|old| old.to_vec()))
    }

    fn remove(&mut self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, Status> {
        Ok(self
            .state
            .tables
            .get_mut(table)
            .and_then(|t| t.remove(key))
            .map(|old| old.to_vec()))
    }

    fn drop_table(&mut self, table: &str) -> Result<(), Status> {
        self.state.tables.remove(table);
        Ok(())
    }

    fn commit(self) -> Result<(), Status> {
        let MemWrite {
            state,
            committed,
            _turn,
        } = self;
        *committed.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(state);
        Ok(())
    }
}

/// Lets one write transaction run at a time.
#[derive(Default)]
struct WriterGate {
    busy: Mutex<bool>,
    freed: Condvar,
}

/// The current writer's turn; the next writer may start when it drops.
struct WriterTurn {
    gate: Arc<WriterGate>,
}

impl WriterTurn {
    fn take(gate: Arc<WriterGate>) -> WriterTurn {
        let mut busy = gate.busy.lock().unwrap_or_else(PoisonError::into_inner);
        while *busy {
            busy = gate.freed.wait(busy).unwrap_or_else(PoisonError::into_inner);
        }
        *busy = true;
        drop(busy);
        WriterTurn { gate }
    }
}

impl Drop for WriterTurn {
    fn drop(&mut self) {
        *self.gate.busy.lock().unwrap_or_else(PoisonError::into_inner) = false;
        self.gate.freed.notify_one();
    }
}
