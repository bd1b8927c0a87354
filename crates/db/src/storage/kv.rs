//! The ordered key-value layer under both engines: named tables of byte keys to byte values, read from
//! a snapshot or written in one transaction. Catalog, documents, indexes and stats are all built on it
//! once, so redb and the in-memory engine share every semantic above raw storage.

use std::ops::Bound;

use docwire_rpc::{ErrorCode, Status};

use super::types::Direction;

/// Pairs of (key, value) from a range read.
pub(crate) type KvIter<'a> = Box<dyn Iterator<Item = Result<(Vec<u8>, Vec<u8>), Status>> + Send + 'a>;

/// The catalog: namespace -> collection entry (BSON).
pub(crate) const CATALOG: &str = "catalog";
/// Engine bookkeeping: `next_ident` -> u64.
pub(crate) const META: &str = "meta";
/// Per-table counters: table name -> [`super::stats::TableCounters`].
pub(crate) const STATS: &str = "stats";

/// Point reads from one table (see [`KvRead::getter`]).
pub(crate) type KvGetter<'a> = Box<dyn Fn(&[u8]) -> Result<Option<Vec<u8>>, Status> + Send + 'a>;

/// Reads from one snapshot. A table that does not exist reads as empty.
pub(crate) trait KvRead: Send + Sync {
    /// The value under `key`.
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, Status>;

    /// Point reads from `table` for a run of lookups (an index scan fetching its documents): an
    /// engine that opens a table per read opens it once here.
    fn getter<'a>(&'a self, table: &str) -> Result<KvGetter<'a>, Status> {
        let table = table.to_owned();
        Ok(Box::new(move |key| self.get(&table, key)))
    }

    /// Entries with keys in `lower..upper`, ascending for `Forward`.
    fn range(
        &self,
        table: &str,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        direction: Direction,
    ) -> Result<KvIter<'_>, Status>;
}

/// Writes in one transaction; dropping it without `commit` discards them.
pub(crate) trait KvWrite: KvRead {
    /// Stores `value` under `key`, returning the value it replaced.
    fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<Option<Vec<u8>>, Status>;

    /// Removes `key`, returning its value.
    fn remove(&mut self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, Status>;

    /// Removes a whole table.
    fn drop_table(&mut self, table: &str) -> Result<(), Status>;

    /// Makes the writes visible and durable.
    fn commit(self) -> Result<(), Status>;
}

/// A storage-level failure (I/O, a corrupt file) as mongod's InternalError.
pub(crate) fn storage_error(what: &str, err: impl std::fmt::Display) -> Status {
    Status::new(ErrorCode::InternalError, format!("storage engine: {what}: {err}"))
}

/// Whether `lower..upper` holds no key at all (some maps panic on such a range instead).
pub(crate) fn is_empty_range(lower: &Bound<Vec<u8>>, upper: &Bound<Vec<u8>>) -> bool {
    match (lower, upper) {
        (Bound::Included(l), Bound::Included(u)) => l > u,
        (Bound::Included(l) | Bound::Excluded(l), Bound::Excluded(u))
        | (Bound::Excluded(l), Bound::Included(u)) => l >= u,
        _ => false,
    }
}

/// A bound over owned bytes as one over a slice.
pub(crate) fn as_slice(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(v) => Bound::Included(v.as_slice()),
        Bound::Excluded(v) => Bound::Excluded(v.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}
