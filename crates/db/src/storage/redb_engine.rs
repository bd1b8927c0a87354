//! `redb`: the default, durable engine. One ACID file (`docwire.redb`) under the dbpath; every
//! catalog, document, index and counter table is a redb table of byte keys to byte values. A commit
//! uses redb's default (immediate) durability, so it is fsynced before `commit` returns.

use std::collections::VecDeque;
use std::fmt;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use docwire_rpc::Status;
use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, TableError, WriteTransaction,
};

use super::catalog::CollMeta;
use super::engine::{ReadTxn, StorageEngine, WriteTxn};
use super::kv::{
    CATALOG, KvGetter, KvIter, KvRead, KvWrite, META, STATS, as_slice, is_empty_range, storage_error,
};
use super::meta_cache::{MetaCache, SnapshotMetas};
use super::read::View;
use super::types::Direction;
use super::write::WriteTx;

/// The file under the dbpath that holds everything.
pub const DATA_FILE: &str = "docwire.redb";

/// Entries a write transaction's scan reads per table opening (the table is reopened per batch
/// because an open table borrows the transaction).
const WRITE_SCAN_BATCH: usize = 256;

/// A key or value read from a snapshot.
type Guard = redb::AccessGuard<'static, &'static [u8]>;

fn def(name: &str) -> TableDefinition<'_, &'static [u8], &'static [u8]> {
    TableDefinition::new(name)
}

/// The redb engine over one database file.
pub struct RedbEngine {
    db: Database,
    path: PathBuf,
    metas: Arc<MetaCache>,
}

impl RedbEngine {
    /// Opens (or creates) the database under `dbpath`, creating the directory if it is missing.
    pub fn open(dbpath: &Path) -> Result<RedbEngine, Status> {
        std::fs::create_dir_all(dbpath)
            .map_err(|e| storage_error(&format!("creating {}", dbpath.display()), e))?;
        let path = dbpath.join(DATA_FILE);
        let db =
            Database::create(&path).map_err(|e| storage_error(&format!("opening {}", path.display()), e))?;
        // The bookkeeping tables exist from the start, so snapshots can always open them.
        let txn = db.begin_write().map_err(|e| storage_error("begin write", e))?;
        for name in [CATALOG, META, STATS] {
            txn.open_table(def(name)).map_err(|e| storage_error(name, e))?;
        }
        txn.commit().map_err(|e| storage_error("commit", e))?;
        Ok(RedbEngine {
            db,
            path,
            metas: Arc::default(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Debug for RedbEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedbEngine").field("path", &self.path).finish()
    }
}

impl StorageEngine for RedbEngine {
    fn name(&self) -> &'static str {
        "redb"
    }

    fn persistent(&self) -> bool {
        true
    }

    fn begin_read(&self) -> Result<Box<dyn ReadTxn>, Status> {
        let txn = self.db.begin_read().map_err(|e| storage_error("begin read", e))?;
        Ok(Box::new(RedbRead {
            txn,
            metas: SnapshotMetas::new(self.metas.clone()),
        }))
    }

    fn begin_write(&self) -> Result<Box<dyn WriteTxn>, Status> {
        let txn = self
            .db
            .begin_write()
            .map_err(|e| storage_error("begin write", e))?;
        Ok(Box::new(WriteTx::new(RedbWrite { txn })))
    }
}

/// A redb read snapshot.
struct RedbRead {
    txn: ReadTransaction,
    metas: SnapshotMetas,
}

impl View for RedbRead {
    type Kv = Self;

    fn kv(&self) -> &Self {
        self
    }

    fn meta(&self, ns: &str) -> Result<Option<Arc<CollMeta>>, Status> {
        self.metas.meta(self, ns)
    }
}

impl KvRead for RedbRead {
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, Status> {
        let t = match self.txn.open_table(def(table)) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(storage_error(table, e)),
        };
        Ok(t.get(key)
            .map_err(|e| storage_error(table, e))?
            .map(|v| v.value().to_vec()))
    }

    fn getter<'a>(&'a self, table: &str) -> Result<KvGetter<'a>, Status> {
        let t = match self.txn.open_table(def(table)) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => return Ok(Box::new(|_| Ok(None))),
            Err(e) => return Err(storage_error(table, e)),
        };
        let name = table.to_string();
        Ok(Box::new(move |key| {
            Ok(t.get(key)
                .map_err(|e| storage_error(&name, e))?
                .map(|v| v.value().to_vec()))
        }))
    }

    fn range(
        &self,
        table: &str,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        direction: Direction,
    ) -> Result<KvIter<'_>, Status> {
        let t = match self.txn.open_table(def(table)) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => return Ok(Box::new(std::iter::empty())),
            Err(e) => return Err(storage_error(table, e)),
        };
        if is_empty_range(&lower, &upper) {
            return Ok(Box::new(std::iter::empty()));
        }
        let range = t
            .range::<&[u8]>((as_slice(&lower), as_slice(&upper)))
            .map_err(|e| storage_error(table, e))?;
        let name = table.to_string();
        let pairs = move |item: Result<(Guard, Guard), redb::StorageError>| {
            item.map(|(k, v)| (k.value().to_vec(), v.value().to_vec()))
                .map_err(|e| storage_error(&name, e))
        };
        match direction {
            Direction::Forward => Ok(Box::new(range.map(pairs))),
            Direction::Backward => Ok(Box::new(range.rev().map(pairs))),
        }
    }
}

/// A redb write transaction.
struct RedbWrite {
    txn: WriteTransaction,
}

impl KvRead for RedbWrite {
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, Status> {
        let t = self
            .txn
            .open_table(def(table))
            .map_err(|e| storage_error(table, e))?;
        Ok(t.get(key)
            .map_err(|e| storage_error(table, e))?
            .map(|v| v.value().to_vec()))
    }

    fn range(
        &self,
        table: &str,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        direction: Direction,
    ) -> Result<KvIter<'_>, Status> {
        let done = is_empty_range(&lower, &upper);
        Ok(Box::new(WriteScan {
            txn: &self.txn,
            table: table.to_string(),
            lower,
            upper,
            direction,
            buffered: VecDeque::new(),
            done,
        }))
    }
}

impl KvWrite for RedbWrite {
    fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<Option<Vec<u8>>, Status> {
        let mut t = self
            .txn
            .open_table(def(table))
            .map_err(|e| storage_error(table, e))?;
        let old = t.insert(key, value).map_err(|e| storage_error(table, e))?;
        Ok(old.map(|v| v.value().to_vec()))
    }

    fn remove(&mut self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, Status> {
        let mut t = self
            .txn
            .open_table(def(table))
            .map_err(|e| storage_error(table, e))?;
        let old = t.remove(key).map_err(|e| storage_error(table, e))?;
        Ok(old.map(|v| v.value().to_vec()))
    }

    fn drop_table(&mut self, table: &str) -> Result<(), Status> {
        self.txn
            .delete_table(def(table))
            .map_err(|e| storage_error(table, e))?;
        Ok(())
    }

    fn commit(self) -> Result<(), Status> {
        self.txn.commit().map_err(|e| storage_error("commit", e))
    }
}

/// A scan inside a write transaction, read in batches so no table stays open between calls.
struct WriteScan<'a> {
    txn: &'a WriteTransaction,
    table: String,
    lower: Bound<Vec<u8>>,
    upper: Bound<Vec<u8>>,
    direction: Direction,
    buffered: VecDeque<(Vec<u8>, Vec<u8>)>,
    done: bool,
}

impl WriteScan<'_> {
    fn refill(&mut self) -> Result<(), Status> {
        let t = self
            .txn
            .open_table(def(&self.table))
            .map_err(|e| storage_error(&self.table, e))?;
        let range = t
            .range::<&[u8]>((as_slice(&self.lower), as_slice(&self.upper)))
            .map_err(|e| storage_error(&self.table, e))?;
        let items: Box<dyn Iterator<Item = _>> = match self.direction {
            Direction::Forward => Box::new(range),
            Direction::Backward => Box::new(range.rev()),
        };
        for item in items.take(WRITE_SCAN_BATCH) {
            let (k, v) = item.map_err(|e| storage_error(&self.table, e))?;
            self.buffered.push_back((k.value().to_vec(), v.value().to_vec()));
        }
        self.done = self.buffered.len() < WRITE_SCAN_BATCH;
        if let Some((last, _)) = self.buffered.back() {
            match self.direction {
                Direction::Forward => self.lower = Bound::Excluded(last.clone()),
                Direction::Backward => self.upper = Bound::Excluded(last.clone()),
            }
        }
        Ok(())
    }
}

impl Iterator for WriteScan<'_> {
    type Item = Result<(Vec<u8>, Vec<u8>), Status>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buffered.is_empty()
            && !self.done
            && let Err(e) = self.refill()
        {
            self.done = true;
            return Some(Err(e));
        }
        self.buffered.pop_front().map(Ok)
    }
}
