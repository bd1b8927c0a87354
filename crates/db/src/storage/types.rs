//! The values the storage API hands out: scan directions, records, collection and index descriptions,
//! and collStats/dbStats figures.

use bson::{Document, RawDocumentBuf};
use docwire_rpc::Status;

/// Which way a scan walks its keys: `Forward` is the index's (or _id's) key order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Ascending key bytes.
    Forward,
    /// Descending key bytes.
    Backward,
}

/// A stored document with its record key (the order-preserving encoding of its _id).
#[derive(Clone, Debug)]
pub struct Record {
    /// The _id's key bytes ([`crate::storage::key::encode`] of the _id): where a scan can resume.
    pub key: Vec<u8>,
    /// The document as stored.
    pub doc: RawDocumentBuf,
}

/// An iterator of records from a snapshot; each item may fail (a corrupt document, an I/O error).
pub type RecordIter<'a> = Box<dyn Iterator<Item = Result<Record, Status>> + Send + 'a>;

/// One index of a collection, as createIndexes described it.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexSpec {
    /// The index name (`_id_`, `a_1_b_-1`, or the name given).
    pub name: String,
    /// The key pattern (`{a: 1, b: -1}`).
    pub key: Document,
    /// Whether two documents may not share a key.
    pub unique: bool,
    /// Whether documents missing every key field are left out.
    pub sparse: bool,
    /// Whether some document produced more than one key (an array value): scans then deduplicate.
    pub multikey: bool,
    /// The spec as listIndexes shows it (`{v: 2, key, name, unique?, ...}`).
    pub spec: Document,
}

/// Names an index to drop: by name or by its key pattern.
#[derive(Clone, Copy, Debug)]
pub enum IndexRef<'a> {
    /// The index's name.
    Name(&'a str),
    /// The index's key pattern.
    KeyPattern(&'a Document),
}

/// A collection as the catalog describes it (listCollections' entry).
#[derive(Clone, Debug, PartialEq)]
pub struct CollectionInfo {
    /// The full namespace, `db.coll`.
    pub ns: String,
    /// The collection name (after the first dot).
    pub name: String,
    /// The options it was created with (capped, validator, ...), stored as given.
    pub options: Document,
    /// The collection's UUID (listCollections' `info.uuid`).
    pub uuid: bson::Uuid,
    /// Its indexes, `_id_` first.
    pub indexes: Vec<IndexSpec>,
}

/// collStats figures for one collection (sizes in bytes; index and storage sizes are approximate).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CollectionStats {
    /// The namespace.
    pub ns: String,
    /// Number of documents.
    pub count: u64,
    /// Sum of the documents' BSON sizes.
    pub size: u64,
    /// `size / count` (0 when empty).
    pub avg_obj_size: u64,
    /// Bytes the documents occupy in storage (keys and values).
    pub storage_size: u64,
    /// Number of indexes, `_id_` included (0 when the collection does not exist).
    pub nindexes: u64,
    /// Sum of `index_sizes`.
    pub total_index_size: u64,
    /// Each index's approximate size, by name.
    pub index_sizes: Vec<(String, u64)>,
}

/// dbStats figures for one database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DatabaseStats {
    /// The database name.
    pub db: String,
    /// Number of collections.
    pub collections: u64,
    /// Number of documents in all of them.
    pub objects: u64,
    /// Sum of the documents' BSON sizes.
    pub data_size: u64,
    /// `data_size / objects` (0 when empty).
    pub avg_obj_size: u64,
    /// Sum of the collections' storage sizes.
    pub storage_size: u64,
    /// Number of indexes in all collections.
    pub indexes: u64,
    /// Sum of all index sizes.
    pub index_size: u64,
}
