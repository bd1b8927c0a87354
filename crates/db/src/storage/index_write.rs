//! Index maintenance inside a write transaction: the keys a document contributes, unique checks,
//! adding and removing entries (marking indexes multikey), and building an index over existing
//! documents. Entries of a unique index are `key -> record key`; others are `key ++ record key ->
//! record key`, so equal keys stay distinct and ordered by _id.

use std::ops::Bound;

use bson::RawDocument;
use docwire_rpc::Status;

use super::catalog::{CollMeta, IndexMeta};
use super::dup_key::duplicate_key;
use super::index_keys::{IndexKey, index_keys};
use super::kv::KvWrite;
use super::read::stored_doc;
use super::types::Direction;
use super::write::WriteTx;

/// Documents read per batch while building an index (the build writes between batches).
const BUILD_BATCH: usize = 512;

impl<K: KvWrite> WriteTx<K> {
    /// Keys of `doc` for every secondary index, in the collection's index order.
    pub(super) fn keys_for(meta: &CollMeta, doc: &RawDocument) -> Result<Vec<Vec<IndexKey>>, Status> {
        meta.indexes
            .iter()
            .map(|ix| index_keys(doc, &ix.fields, ix.spec.sparse))
            .collect()
    }

    /// The first key of a unique index that another document already holds.
    pub(super) fn unique_conflict(
        &self,
        meta: &CollMeta,
        keys: &[Vec<IndexKey>],
        id_key: &[u8],
    ) -> Result<Option<Status>, Status> {
        for (ix, ix_keys) in meta.indexes.iter().zip(keys) {
            if !ix.spec.unique {
                continue;
            }
            for k in ix_keys {
                if let Some(owner) = self.kv.get(&ix.table(), &k.bytes)?
                    && owner != id_key
                {
                    return Ok(Some(duplicate_key(
                        &meta.ns,
                        &ix.spec.name,
                        &ix.spec.key,
                        &k.values,
                    )));
                }
            }
        }
        Ok(None)
    }

    pub(super) fn entry_key(ix: &IndexMeta, k: &IndexKey, id_key: &[u8]) -> Vec<u8> {
        if ix.spec.unique {
            k.bytes.clone()
        } else {
            let mut out = Vec::with_capacity(k.bytes.len() + id_key.len());
            out.extend_from_slice(&k.bytes);
            out.extend_from_slice(id_key);
            out
        }
    }

    /// Writes entries for `keys` and marks indexes multikey as needed.
    pub(super) fn add_entries(
        &mut self,
        meta: &CollMeta,
        keys: &[Vec<IndexKey>],
        id_key: &[u8],
    ) -> Result<(), Status> {
        let mut newly_multikey = Vec::new();
        for (i, (ix, ix_keys)) in meta.indexes.iter().zip(keys).enumerate() {
            let table = ix.table();
            for k in ix_keys {
                self.put(&table, &Self::entry_key(ix, k, id_key), id_key)?;
            }
            if ix_keys.len() > 1 && !ix.spec.multikey {
                newly_multikey.push(i);
            }
        }
        if !newly_multikey.is_empty() {
            let mut updated = meta.clone();
            for i in newly_multikey {
                if let Some(ix) = updated.indexes.get_mut(i) {
                    ix.spec.multikey = true;
                }
            }
            self.save_meta(updated)?;
        }
        Ok(())
    }

    pub(super) fn remove_entries(
        &mut self,
        meta: &CollMeta,
        keys: &[Vec<IndexKey>],
        id_key: &[u8],
    ) -> Result<(), Status> {
        for (ix, ix_keys) in meta.indexes.iter().zip(keys) {
            let table = ix.table();
            for k in ix_keys {
                self.remove(&table, &Self::entry_key(ix, k, id_key))?;
            }
        }
        Ok(())
    }

    /// Fills a new index's table from the collection's documents; on failure the table is dropped.
    pub(super) fn build_index(&mut self, meta: &CollMeta, ix: &IndexMeta) -> Result<bool, Status> {
        let result = self.fill_index(meta, ix);
        if result.is_err() {
            self.drop_table(&ix.table())?;
        }
        result
    }

    pub(super) fn fill_index(&mut self, meta: &CollMeta, ix: &IndexMeta) -> Result<bool, Status> {
        let docs = meta.docs_table();
        let table = ix.table();
        let mut multikey = false;
        let mut resume: Bound<Vec<u8>> = Bound::Unbounded;
        loop {
            let batch: Vec<(Vec<u8>, Vec<u8>)> = self
                .kv
                .range(&docs, resume.clone(), Bound::Unbounded, Direction::Forward)?
                .take(BUILD_BATCH)
                .collect::<Result<_, _>>()?;
            let Some((last, _)) = batch.last() else {
                return Ok(multikey);
            };
            resume = Bound::Excluded(last.clone());
            for (id_key, bytes) in batch {
                let doc = stored_doc(bytes, &meta.ns)?;
                let keys = index_keys(&doc, &ix.fields, ix.spec.sparse)?;
                multikey |= keys.len() > 1;
                for k in &keys {
                    if ix.spec.unique
                        && let Some(owner) = self.kv.get(&table, &k.bytes)?
                        && owner != id_key
                    {
                        return Err(duplicate_key(&meta.ns, &ix.spec.name, &ix.spec.key, &k.values));
                    }
                    self.put(&table, &Self::entry_key(ix, k, &id_key), &id_key)?;
                }
            }
        }
    }
}
