//! The storage API: an engine hands out read snapshots and write transactions over databases,
//! collections, documents keyed by _id, and secondary indexes.

use std::fmt;
use std::ops::Bound;

use bson::{Bson, Document, RawDocument, RawDocumentBuf};
use docwire_rpc::Status;

use super::types::{
    CollectionInfo, CollectionStats, DatabaseStats, Direction, IndexRef, IndexSpec, RecordIter,
};

/// A storage engine (redb or in-memory), shared as `Arc<dyn StorageEngine>`. Calls block briefly; the
/// command layer calls them from async tasks and must not hold a transaction across an await.
pub trait StorageEngine: Send + Sync + fmt::Debug {
    /// The engine's name as serverStatus reports it (`redb`, `inMemory`).
    fn name(&self) -> &'static str;

    /// Whether committed data survives a restart.
    fn persistent(&self) -> bool;

    /// A consistent snapshot of everything committed so far.
    fn begin_read(&self) -> Result<Box<dyn ReadTxn>, Status>;

    /// A write transaction; only one is open at a time (a second caller blocks until the first ends).
    /// Dropping it without [`WriteTxn::commit`] rolls everything back.
    fn begin_write(&self) -> Result<Box<dyn WriteTxn>, Status>;
}

/// Reads from one consistent snapshot (or, on a [`WriteTxn`], from its own uncommitted state).
/// Namespaces are `db.coll`; a missing collection reads as empty.
pub trait ReadTxn: Send + Sync {
    /// Names of the databases that hold at least one collection, sorted.
    fn list_database_names(&self) -> Result<Vec<String>, Status>;

    /// The collections of `db`, sorted by name.
    fn list_collections(&self, db: &str) -> Result<Vec<CollectionInfo>, Status>;

    /// One collection's catalog entry, if it exists.
    fn collection(&self, ns: &str) -> Result<Option<CollectionInfo>, Status>;

    /// Whether the collection exists (without building its [`CollectionInfo`]).
    fn collection_exists(&self, ns: &str) -> Result<bool, Status>;

    /// The document whose _id equals `id` (in mongod's sense: 1 == 1.0).
    fn find_by_id(&self, ns: &str, id: &Bson) -> Result<Option<RawDocumentBuf>, Status>;

    /// The document stored under a record key (see [`crate::storage::Record::key`]).
    fn find_by_key(&self, ns: &str, key: &[u8]) -> Result<Option<RawDocumentBuf>, Status>;

    /// All documents in _id order (or reverse), starting after/before `resume` when it is bounded:
    /// forward scans take `resume` as the lower bound, backward scans as the upper one.
    fn scan(&self, ns: &str, resume: Bound<&[u8]>, direction: Direction) -> Result<RecordIter<'_>, Status>;

    /// The collection's indexes, `_id_` first; NamespaceNotFound if there is no such collection.
    fn list_indexes(&self, ns: &str) -> Result<Vec<IndexSpec>, Status>;

    /// Documents whose indexed leading field lies within `lower..upper` (mongod's order), in index order
    /// (`Forward`) or reverse; each document once even when the index is multikey. IndexNotFound if the
    /// collection has no index so named.
    fn index_scan(
        &self,
        ns: &str,
        index: &str,
        lower: Bound<&Bson>,
        upper: Bound<&Bson>,
        direction: Direction,
    ) -> Result<RecordIter<'_>, Status>;

    /// collStats figures (zeros for a missing collection).
    fn collection_stats(&self, ns: &str) -> Result<CollectionStats, Status>;

    /// dbStats figures (zeros for a missing database).
    fn database_stats(&self, db: &str) -> Result<DatabaseStats, Status>;
}

/// An atomic set of changes: all of them become visible and durable at [`WriteTxn::commit`], none if
/// it is dropped. A failed call leaves the transaction as it was before that call, so a command can
/// report a write error for one document and still commit the others.
pub trait WriteTxn: ReadTxn {
    /// Creates a collection with `options`; NamespaceExists (48) if it exists, InvalidNamespace (73)
    /// for a bad name.
    fn create_collection(&mut self, ns: &str, options: &Document) -> Result<(), Status>;

    /// Creates the collection with no options unless it exists; true if it was created.
    fn ensure_collection(&mut self, ns: &str) -> Result<bool, Status>;

    /// Drops a collection and its indexes; false if it did not exist.
    fn drop_collection(&mut self, ns: &str) -> Result<bool, Status>;

    /// Drops every collection of `db`; returns how many there were.
    fn drop_database(&mut self, db: &str) -> Result<usize, Status>;

    /// Renames a collection (across databases too). NamespaceNotFound (26) if `from` is missing,
    /// NamespaceExists (48) if `to` exists and `drop_target` is false, IllegalOperation (20) if equal.
    fn rename_collection(&mut self, from: &str, to: &str, drop_target: bool) -> Result<(), Status>;

    /// Inserts a document that has an _id (see [`crate::storage::ensure_id`]), maintaining indexes;
    /// DuplicateKey (11000) on the _id or a unique index; NamespaceNotFound if the collection is missing.
    fn insert(&mut self, ns: &str, doc: &RawDocument) -> Result<(), Status>;

    /// Replaces the document with the same _id as `doc`; false (and nothing written) if there is none.
    fn replace(&mut self, ns: &str, doc: &RawDocument) -> Result<bool, Status>;

    /// Deletes the document whose _id equals `id`; false if there is none.
    fn delete(&mut self, ns: &str, id: &Bson) -> Result<bool, Status>;

    /// Builds an index from a createIndexes spec (`{key, name?, unique?, sparse?, ...}`) over the
    /// existing documents; false if an identical index already exists.
    fn create_index(&mut self, ns: &str, spec: &Document) -> Result<bool, Status>;

    /// Drops an index by name or key pattern; IndexNotFound (27), or InvalidOptions (72) for `_id_`.
    fn drop_index(&mut self, ns: &str, index: IndexRef<'_>) -> Result<(), Status>;

    /// Makes every change visible and durable (fsynced for a persistent engine) before returning.
    fn commit(self: Box<Self>) -> Result<(), Status>;
}
