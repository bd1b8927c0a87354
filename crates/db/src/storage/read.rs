//! Reads over the key-value layer, shared by snapshots and write transactions: any [`View`] is a
//! [`ReadTxn`]. Documents come back as the raw bytes stored; nothing is decoded on the way.

use std::collections::{BTreeSet, HashSet};
use std::ops::Bound;
use std::sync::Arc;

use bson::{Bson, RawDocumentBuf};
use docwire_rpc::{ErrorCode, Status};

use super::catalog::CollMeta;
use super::engine::ReadTxn;
use super::index_spec::{ID_INDEX_NAME, id_index};
use super::key::{self, prefix_end};
use super::kv::{CATALOG, KvRead};
use super::namespace::db_prefix;
use super::stats::{CounterDeltas, counters, non_negative};
use super::types::{
    CollectionInfo, CollectionStats, DatabaseStats, Direction, IndexSpec, Record, RecordIter,
};

/// A state to read from: its key-value snapshot, its catalog, and any uncommitted counter deltas.
pub(crate) trait View: Send + Sync {
    /// The key-value layer.
    type Kv: KvRead;

    /// The key-value layer.
    fn kv(&self) -> &Self::Kv;

    /// The catalog entry of `ns`.
    fn meta(&self, ns: &str) -> Result<Option<Arc<CollMeta>>, Status> {
        load_meta(self.kv(), ns)
    }

    /// Counter changes not yet committed.
    fn deltas(&self) -> Option<&CounterDeltas> {
        None
    }
}

/// Reads and decodes the catalog entry of `ns` from `kv`.
pub(crate) fn load_meta<K: KvRead + ?Sized>(kv: &K, ns: &str) -> Result<Option<Arc<CollMeta>>, Status> {
    match kv.get(CATALOG, ns.as_bytes())? {
        Some(bytes) => Ok(Some(Arc::new(CollMeta::from_bytes(ns, &bytes)?))),
        None => Ok(None),
    }
}

/// Catalog entries whose namespace starts with `prefix` (all of them for ""), in namespace order.
pub(crate) fn metas_with_prefix<K: KvRead + ?Sized>(kv: &K, prefix: &str) -> Result<Vec<CollMeta>, Status> {
    let lower = Bound::Included(prefix.as_bytes().to_vec());
    let upper = match prefix_end(prefix.as_bytes()) {
        Some(end) if !prefix.is_empty() => Bound::Excluded(end),
        _ => Bound::Unbounded,
    };
    let mut out = Vec::new();
    for entry in kv.range(CATALOG, lower, upper, Direction::Forward)? {
        let (k, v) = entry?;
        let ns = String::from_utf8_lossy(&k).into_owned();
        out.push(CollMeta::from_bytes(&ns, &v)?);
    }
    Ok(out)
}

/// A stored document's bytes as a document; a malformed one is an error naming where it was found.
pub(crate) fn stored_doc(bytes: Vec<u8>, ns: &str) -> Result<RawDocumentBuf, Status> {
    RawDocumentBuf::from_bytes(bytes)
        .map_err(|e| Status::new(ErrorCode::InternalError, format!("corrupt document in {ns}: {e}")))
}

fn owned(bound: Bound<&[u8]>) -> Bound<Vec<u8>> {
    match bound {
        Bound::Included(b) => Bound::Included(b.to_vec()),
        Bound::Excluded(b) => Bound::Excluded(b.to_vec()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Key-byte bounds on an index for value bounds on its leading field (inverted when descending).
fn index_bounds(
    lower: Bound<&Bson>,
    upper: Bound<&Bson>,
    descending: bool,
) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let enc = |v: &Bson| {
        let mut out = Vec::new();
        key::encode_component(v, descending, &mut out);
        out
    };
    // "Every key starting with e": from e (inclusive) to the prefix's end (exclusive).
    let starts_at = |e: Vec<u8>| Bound::Included(e);
    let after_all = |e: Vec<u8>| prefix_end(&e).map_or(Bound::Unbounded, Bound::Included);
    let before_all = |e: Vec<u8>| Bound::Excluded(e);
    let up_to_all = |e: Vec<u8>| prefix_end(&e).map_or(Bound::Unbounded, Bound::Excluded);
    let (value_low, value_high) = if descending {
        (upper, lower)
    } else {
        (lower, upper)
    };
    // Ascending: a lower value bound is a lower byte bound. Descending: the value's upper bound is.
    let low = match value_low {
        Bound::Unbounded => Bound::Unbounded,
        Bound::Included(v) => starts_at(enc(v)),
        Bound::Excluded(v) => after_all(enc(v)),
    };
    let high = match value_high {
        Bound::Unbounded => Bound::Unbounded,
        Bound::Included(v) => up_to_all(enc(v)),
        Bound::Excluded(v) => before_all(enc(v)),
    };
    (low, high)
}

impl<V: View> ReadTxn for V {
    fn list_database_names(&self) -> Result<Vec<String>, Status> {
        let names: BTreeSet<String> = metas_with_prefix(self.kv(), "")?
            .into_iter()
            .filter_map(|m| m.ns.split_once('.').map(|(db, _)| db.to_string()))
            .collect();
        Ok(names.into_iter().collect())
    }

    fn list_collections(&self, db: &str) -> Result<Vec<CollectionInfo>, Status> {
        Ok(metas_with_prefix(self.kv(), &db_prefix(db))?
            .iter()
            .map(CollMeta::info)
            .collect())
    }

    fn collection(&self, ns: &str) -> Result<Option<CollectionInfo>, Status> {
        Ok(self.meta(ns)?.map(|m| m.info()))
    }

    fn collection_exists(&self, ns: &str) -> Result<bool, Status> {
        Ok(self.meta(ns)?.is_some())
    }

    fn find_by_id(&self, ns: &str, id: &Bson) -> Result<Option<RawDocumentBuf>, Status> {
        self.find_by_key(ns, &key::encode(id))
    }

    fn find_by_key(&self, ns: &str, key: &[u8]) -> Result<Option<RawDocumentBuf>, Status> {
        let Some(meta) = self.meta(ns)? else {
            return Ok(None);
        };
        match self.kv().get(&meta.docs_table(), key)? {
            Some(bytes) => Ok(Some(stored_doc(bytes, ns)?)),
            None => Ok(None),
        }
    }

    fn scan(&self, ns: &str, resume: Bound<&[u8]>, direction: Direction) -> Result<RecordIter<'_>, Status> {
        let Some(meta) = self.meta(ns)? else {
            return Ok(Box::new(std::iter::empty()));
        };
        let (lower, upper) = match direction {
            Direction::Forward => (owned(resume), Bound::Unbounded),
            Direction::Backward => (Bound::Unbounded, owned(resume)),
        };
        let ns = ns.to_string();
        let entries = self.kv().range(&meta.docs_table(), lower, upper, direction)?;
        Ok(Box::new(entries.map(move |entry| {
            let (key, bytes) = entry?;
            Ok(Record {
                key,
                doc: stored_doc(bytes, &ns)?,
            })
        })))
    }

    fn list_indexes(&self, ns: &str) -> Result<Vec<IndexSpec>, Status> {
        match self.meta(ns)? {
            Some(meta) => Ok(meta.info().indexes),
            None => Err(Status::new(
                ErrorCode::NamespaceNotFound,
                format!("ns does not exist: {ns}"),
            )),
        }
    }

    fn index_scan(
        &self,
        ns: &str,
        index: &str,
        lower: Bound<&Bson>,
        upper: Bound<&Bson>,
        direction: Direction,
    ) -> Result<RecordIter<'_>, Status> {
        let Some(meta) = self.meta(ns)? else {
            return Ok(Box::new(std::iter::empty()));
        };
        let docs = meta.docs_table();
        let ns = ns.to_string();
        if index == ID_INDEX_NAME {
            let (low, high) = index_bounds(lower, upper, false);
            let entries = self.kv().range(&docs, low, high, direction)?;
            return Ok(Box::new(entries.map(move |entry| {
                let (key, bytes) = entry?;
                Ok(Record {
                    key,
                    doc: stored_doc(bytes, &ns)?,
                })
            })));
        }
        let Some(ix) = meta.index(index) else {
            return Err(Status::new(
                ErrorCode::IndexNotFound,
                format!("index not found with name [{index}]"),
            ));
        };
        let descending = ix.fields.first().is_some_and(|(_, d)| *d);
        let (low, high) = index_bounds(lower, upper, descending);
        let entries = self.kv().range(&ix.table(), low, high, direction)?;
        let mut seen = ix.spec.multikey.then(HashSet::new);
        let get = self.kv().getter(&docs)?;
        Ok(Box::new(entries.filter_map(move |entry| {
            let fetch = |id_key: Vec<u8>| -> Result<Record, Status> {
                match get(&id_key)? {
                    Some(bytes) => Ok(Record {
                        key: id_key,
                        doc: stored_doc(bytes, &ns)?,
                    }),
                    None => Err(Status::new(
                        ErrorCode::InternalError,
                        format!("index entry in {ns} points to a missing document"),
                    )),
                }
            };
            match entry {
                Err(e) => Some(Err(e)),
                Ok((_, id_key)) => {
                    if let Some(seen) = seen.as_mut()
                        && !seen.insert(id_key.clone())
                    {
                        return None;
                    }
                    Some(fetch(id_key))
                }
            }
        })))
    }

    fn collection_stats(&self, ns: &str) -> Result<CollectionStats, Status> {
        let Some(meta) = self.meta(ns)? else {
            return Ok(CollectionStats {
                ns: ns.to_string(),
                ..CollectionStats::default()
            });
        };
        collection_stats_of(self.kv(), self.deltas(), &meta)
    }

    fn database_stats(&self, db: &str) -> Result<DatabaseStats, Status> {
        let mut out = DatabaseStats {
            db: db.to_string(),
            ..DatabaseStats::default()
        };
        for meta in metas_with_prefix(self.kv(), &db_prefix(db))? {
            let c = collection_stats_of(self.kv(), self.deltas(), &meta)?;
            out.collections += 1;
            out.objects += c.count;
            out.data_size += c.size;
            out.storage_size += c.storage_size;
            out.indexes += c.nindexes;
            out.index_size += c.total_index_size;
        }
        out.avg_obj_size = out.data_size.checked_div(out.objects).unwrap_or(0);
        Ok(out)
    }
}

fn collection_stats_of<K: KvRead + ?Sized>(
    kv: &K,
    deltas: Option<&CounterDeltas>,
    meta: &CollMeta,
) -> Result<CollectionStats, Status> {
    let docs = counters(kv, deltas, &meta.docs_table())?;
    let count = non_negative(docs.entries);
    let size = non_negative(docs.value_bytes);
    // The _id index is the document table's keys.
    let mut index_sizes = vec![(id_index().name, non_negative(docs.key_bytes))];
    for ix in &meta.indexes {
        let c = counters(kv, deltas, &ix.table())?;
        index_sizes.push((ix.spec.name.clone(), non_negative(c.key_bytes + c.value_bytes)));
    }
    Ok(CollectionStats {
        ns: meta.ns.clone(),
        count,
        size,
        avg_obj_size: size.checked_div(count).unwrap_or(0),
        storage_size: non_negative(docs.key_bytes + docs.value_bytes),
        nindexes: index_sizes.len() as u64,
        total_index_size: index_sizes.iter().map(|(_, s)| s).sum(),
        index_sizes,
    })
}
