//! Write transactions over the key-value layer, shared by both engines: catalog changes, documents
//! with their index entries, and counters. Every method either completes or undoes what it wrote, so a
//! failed call leaves the transaction as it was.

use std::collections::HashMap;
use std::sync::Arc;

use bson::{Bson, Document, RawDocument};
use docwire_rpc::{ErrorCode, Status};

use super::catalog::{CollMeta, IndexMeta};
use super::dup_key::duplicate_key;
use super::engine::WriteTxn;
use super::id::id_and_key;
use super::index_spec::{
    ID_INDEX_NAME, check_against_existing, id_index, key_fields, parse_index_spec, same_key_pattern,
};
use super::kv::{CATALOG, KvWrite, META, STATS};
use super::namespace::{db_prefix, validate_db_name, validate_ns};
use super::read::{View, load_meta, metas_with_prefix};
use super::stats::{CounterDeltas, TableCounters, counters};
use super::types::IndexRef;

/// A write transaction over any key-value layer.
pub(crate) struct WriteTx<K: KvWrite> {
    pub(super) kv: K,
    metas: HashMap<String, Arc<CollMeta>>,
    deltas: CounterDeltas,
}

impl<K: KvWrite> View for WriteTx<K> {
    type Kv = K;

    fn kv(&self) -> &K {
        &self.kv
    }

    fn meta(&self, ns: &str) -> Result<Option<Arc<CollMeta>>, Status> {
        match self.metas.get(ns) {
            Some(m) => Ok(Some(m.clone())),
            None => load_meta(&self.kv, ns),
        }
    }

    fn deltas(&self) -> Option<&CounterDeltas> {
        Some(&self.deltas)
    }
}

impl<K: KvWrite> WriteTx<K> {
    /// Wraps an engine's key-value write transaction.
    pub(crate) fn new(kv: K) -> Self {
        WriteTx {
            kv,
            metas: HashMap::new(),
            deltas: CounterDeltas::new(),
        }
    }

    pub(super) fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<Option<Vec<u8>>, Status> {
        let old = self.kv.put(table, key, value)?;
        let d = self.deltas.entry(table.to_string()).or_default();
        match &old {
            Some(o) => d.value_bytes += value.len() as i64 - o.len() as i64,
            None => d.add(TableCounters {
                entries: 1,
                key_bytes: key.len() as i64,
                value_bytes: value.len() as i64,
            }),
        }
        Ok(old)
    }

    pub(super) fn remove(&mut self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, Status> {
        let old = self.kv.remove(table, key)?;
        if let Some(o) = &old {
            let d = self.deltas.entry(table.to_string()).or_default();
            d.add(TableCounters {
                entries: -1,
                key_bytes: -(key.len() as i64),
                value_bytes: -(o.len() as i64),
            });
        }
        Ok(old)
    }

    pub(super) fn drop_table(&mut self, table: &str) -> Result<(), Status> {
        self.kv.drop_table(table)?;
        self.kv.remove(STATS, table.as_bytes())?;
        self.deltas.remove(table);
        Ok(())
    }

    pub(super) fn save_meta(&mut self, meta: CollMeta) -> Result<(), Status> {
        let bytes = meta.to_bytes()?;
        self.kv.put(CATALOG, meta.ns.as_bytes(), &bytes)?;
        self.metas.insert(meta.ns.clone(), Arc::new(meta));
        Ok(())
    }

    fn forget_meta(&mut self, ns: &str) -> Result<(), Status> {
        self.kv.remove(CATALOG, ns.as_bytes())?;
        self.metas.remove(ns);
        Ok(())
    }

    fn next_ident(&mut self) -> Result<u64, Status> {
        let current = match self.kv.get(META, b"next_ident")? {
            Some(b) => <[u8; 8]>::try_from(b.as_slice())
                .map(u64::from_be_bytes)
                .unwrap_or(1),
            None => 1,
        };
        self.kv.put(META, b"next_ident", &(current + 1).to_be_bytes())?;
        Ok(current)
    }

    /// The catalog entry of `ns`, decoded once per transaction.
    fn cached_meta(&mut self, ns: &str) -> Result<Option<Arc<CollMeta>>, Status> {
        if let Some(m) = self.metas.get(ns) {
            return Ok(Some(m.clone()));
        }
        let loaded = load_meta(&self.kv, ns)?;
        if let Some(m) = &loaded {
            self.metas.insert(ns.to_string(), m.clone());
        }
        Ok(loaded)
    }

    fn existing(&mut self, ns: &str) -> Result<Arc<CollMeta>, Status> {
        self.cached_meta(ns)?
            .ok_or_else(|| Status::new(ErrorCode::NamespaceNotFound, format!("ns does not exist: {ns}")))
    }

    fn drop_collection_tables(&mut self, meta: &CollMeta) -> Result<(), Status> {
        for ix in &meta.indexes {
            self.drop_table(&ix.table())?;
        }
        self.drop_table(&meta.docs_table())
    }
}

impl<K: KvWrite + 'static> WriteTxn for WriteTx<K> {
    fn create_collection(&mut self, ns: &str, options: &Document) -> Result<(), Status> {
        validate_ns(ns)?;
        if self.meta(ns)?.is_some() {
            return Err(Status::new(
                ErrorCode::NamespaceExists,
                format!("Collection {ns} already exists."),
            ));
        }
        let ident = self.next_ident()?;
        let meta = CollMeta {
            ns: ns.to_string(),
            uuid: bson::Uuid::new(),
            options: options.clone(),
            ident,
            indexes: Vec::new(),
        };
        self.save_meta(meta)
    }

    fn ensure_collection(&mut self, ns: &str) -> Result<bool, Status> {
        if self.meta(ns)?.is_some() {
            return Ok(false);
        }
        self.create_collection(ns, &Document::new())?;
        Ok(true)
    }

    fn drop_collection(&mut self, ns: &str) -> Result<bool, Status> {
        let Some(meta) = self.meta(ns)? else {
            return Ok(false);
        };
        self.drop_collection_tables(&meta)?;
        self.forget_meta(ns)?;
        Ok(true)
    }

    fn drop_database(&mut self, db: &str) -> Result<usize, Status> {
        validate_db_name(db)?;
        let metas = metas_with_prefix(&self.kv, &db_prefix(db))?;
        for meta in &metas {
            self.drop_collection_tables(meta)?;
            self.forget_meta(&meta.ns)?;
        }
        Ok(metas.len())
    }

    fn rename_collection(&mut self, from: &str, to: &str, drop_target: bool) -> Result<(), Status> {
        validate_ns(to)?;
        let Some(meta) = self.meta(from)? else {
            return Err(Status::new(
                ErrorCode::NamespaceNotFound,
                "source namespace does not exist",
            ));
        };
        if from == to {
            return Err(Status::new(
                ErrorCode::IllegalOperation,
                "Can't rename a collection to itself",
            ));
        }
        if self.meta(to)?.is_some() {
            if !drop_target {
                return Err(Status::new(ErrorCode::NamespaceExists, "target namespace exists"));
            }
            self.drop_collection(to)?;
        }
        self.forget_meta(from)?;
        let mut renamed = (*meta).clone();
        renamed.ns = to.to_string();
        self.save_meta(renamed)
    }

    fn insert(&mut self, ns: &str, doc: &RawDocument) -> Result<(), Status> {
        let meta = self.existing(ns)?;
        let (id, id_key) = id_and_key(doc)?;
        // Computing keys first means a bad document (parallel arrays) writes nothing.
        let keys = Self::keys_for(&meta, doc)?;
        let docs = meta.docs_table();
        if let Some(previous) = self.put(&docs, &id_key, doc.as_bytes())? {
            self.put(&docs, &id_key, &previous)?;
            return Err(duplicate_key(ns, ID_INDEX_NAME, &id_index().key, &[id]));
        }
        if let Some(dup) = self.unique_conflict(&meta, &keys, &id_key)? {
            self.remove(&docs, &id_key)?;
            return Err(dup);
        }
        self.add_entries(&meta, &keys, &id_key)
    }

    fn replace(&mut self, ns: &str, doc: &RawDocument) -> Result<bool, Status> {
        let Some(meta) = self.cached_meta(ns)? else {
            return Ok(false);
        };
        let (_, id_key) = id_and_key(doc)?;
        let docs = meta.docs_table();
        if meta.indexes.is_empty() {
            // No index to maintain: one write, undone if there was nothing to replace.
            if self.put(&docs, &id_key, doc.as_bytes())?.is_none() {
                self.remove(&docs, &id_key)?;
                return Ok(false);
            }
            return Ok(true);
        }
        let Some(old_bytes) = self.kv.get(&docs, &id_key)? else {
            return Ok(false);
        };
        let old = super::read::stored_doc(old_bytes, ns)?;
        let old_keys = Self::keys_for(&meta, &old)?;
        let new_keys = Self::keys_for(&meta, doc)?;
        if let Some(dup) = self.unique_conflict(&meta, &new_keys, &id_key)? {
            return Err(dup);
        }
        self.remove_entries(&meta, &old_keys, &id_key)?;
        self.add_entries(&meta, &new_keys, &id_key)?;
        self.put(&docs, &id_key, doc.as_bytes())?;
        Ok(true)
    }

    fn delete(&mut self, ns: &str, id: &Bson) -> Result<bool, Status> {
        let Some(meta) = self.cached_meta(ns)? else {
            return Ok(false);
        };
        let id_key = super::key::encode(id);
        let Some(old_bytes) = self.remove(&meta.docs_table(), &id_key)? else {
            return Ok(false);
        };
        if !meta.indexes.is_empty() {
            let old = super::read::stored_doc(old_bytes, ns)?;
            let old_keys = Self::keys_for(&meta, &old)?;
            self.remove_entries(&meta, &old_keys, &id_key)?;
        }
        Ok(true)
    }

    fn create_index(&mut self, ns: &str, spec: &Document) -> Result<bool, Status> {
        let meta = self.existing(ns)?;
        let requested = parse_index_spec(spec)?;
        // mongod takes {_id: 1}, default-named or named `_id_`, as the index that always exists.
        let id_name = requested.name == "_id_1" || requested.name == ID_INDEX_NAME;
        if id_name && same_key_pattern(&requested.key, &id_index().key) {
            return Ok(false);
        }
        let existing = std::iter::once(id_index()).chain(meta.indexes.iter().map(|i| i.spec.clone()));
        for ix in existing {
            if check_against_existing(&requested, &ix)? {
                return Ok(false);
            }
        }
        let ident = self.next_ident()?;
        let fields = key_fields(&requested.key);
        let mut ix = IndexMeta {
            spec: requested,
            ident,
            fields,
        };
        ix.spec.multikey = self.build_index(&meta, &ix)?;
        let mut updated = (*meta).clone();
        updated.indexes.push(ix);
        self.save_meta(updated)?;
        Ok(true)
    }

    fn drop_index(&mut self, ns: &str, index: IndexRef<'_>) -> Result<(), Status> {
        let meta = self.existing(ns)?;
        let is_id = match index {
            IndexRef::Name(name) => name == ID_INDEX_NAME,
            IndexRef::KeyPattern(key) => same_key_pattern(key, &id_index().key),
        };
        if is_id {
            return Err(Status::new(ErrorCode::InvalidOptions, "cannot drop _id index"));
        }
        let position = meta.indexes.iter().position(|ix| match index {
            IndexRef::Name(name) => ix.spec.name == name,
            IndexRef::KeyPattern(key) => same_key_pattern(key, &ix.spec.key),
        });
        let Some(position) = position else {
            let msg = match index {
                IndexRef::Name(name) => format!("index not found with name [{name}]"),
                IndexRef::KeyPattern(key) => format!("can't find index with key: {key}"),
            };
            return Err(Status::new(ErrorCode::IndexNotFound, msg));
        };
        let mut updated = (*meta).clone();
        let removed = updated.indexes.remove(position);
        self.drop_table(&removed.table())?;
        self.save_meta(updated)
    }

    fn commit(self: Box<Self>) -> Result<(), Status> {
        let WriteTx { mut kv, deltas, .. } = *self;
        for (table, delta) in deltas {
            if delta == TableCounters::default() {
                continue;
            }
            let mut c = counters(&kv, None, &table)?;
            c.add(delta);
            kv.put(STATS, table.as_bytes(), &c.encode())?;
        }
        kv.commit()
    }
}
