//! Storage: the `StorageEngine` trait and its two engines, `redb` (durable, the default) and
//! `inMemory`, with databases, collections, documents keyed by _id, secondary indexes and stats.
//!
//! Layers: [`key`] encodes BSON values as order-preserving bytes (mongod's comparison order); a small
//! ordered key-value layer (`kv`) is all an engine implements; catalog, documents, index maintenance,
//! DuplicateKey and counters are written once on top of it (`read`, `write`), so both engines share
//! every semantic. Documents are stored and returned as raw BSON bytes.

mod catalog;
mod decoration;
mod dup_key;
mod engine;
mod id;
mod index_keys;
mod index_spec;
mod index_write;
pub mod key;
mod kv;
mod memory_engine;
mod meta_cache;
mod namespace;
mod read;
mod redb_engine;
mod stats;
mod types;
mod write;

pub use decoration::declare;
pub use engine::{ReadTxn, StorageEngine, WriteTxn};
pub use id::ensure_id;
pub use index_spec::{ID_INDEX_NAME, default_index_name, id_index, parse_index_spec};
pub use memory_engine::MemoryEngine;
pub use namespace::{split_ns, validate_db_name, validate_ns};
pub use redb_engine::{DATA_FILE, RedbEngine};
pub use types::{
    CollectionInfo, CollectionStats, DatabaseStats, Direction, IndexRef, IndexSpec, Record, RecordIter,
};
