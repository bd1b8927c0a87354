//! Decoded catalog entries for read snapshots. Every query reads its collection's catalog entry
//! (once to plan, again to read); decoding it (options, index specs) cost more than the lookup it
//! served. An engine keeps the entries it decoded keyed by namespace *and stored bytes*, so a
//! changed entry is never served stale; a snapshot also remembers the last entry it read (a snapshot
//! never changes, so that needs no check at all).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use docwire_rpc::Status;

use super::catalog::CollMeta;
use super::kv::{CATALOG, KvRead};

/// Entries kept per engine before the cache starts over (a bound for servers that create and drop
/// many collections; a miss only costs one decode).
const MAX_ENTRIES: usize = 1024;

/// A decoded catalog entry and the stored bytes it was decoded from.
type Decoded = (Vec<u8>, Arc<CollMeta>);

/// An engine's decoded catalog entries, by namespace.
#[derive(Default)]
pub(crate) struct MetaCache {
    entries: Mutex<HashMap<String, Decoded>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded maps stay consistent even if a holder panicked: every update is a single insert.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl MetaCache {
    /// The entry stored as `bytes` for `ns`, decoded once per distinct value.
    fn decode(&self, ns: &str, bytes: Vec<u8>) -> Result<Arc<CollMeta>, Status> {
        if let Some((stored, meta)) = lock(&self.entries).get(ns)
            && *stored == bytes
        {
            return Ok(meta.clone());
        }
        let meta = Arc::new(CollMeta::from_bytes(ns, &bytes)?);
        let mut entries = lock(&self.entries);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(ns.to_owned(), (bytes, meta.clone()));
        Ok(meta)
    }
}

/// A snapshot's catalog reader: the engine's cache plus the last entry this snapshot read.
pub(crate) struct SnapshotMetas {
    shared: Arc<MetaCache>,
    last: Mutex<Option<Arc<CollMeta>>>,
}

impl SnapshotMetas {
    /// A reader for a new snapshot over `shared`.
    pub fn new(shared: Arc<MetaCache>) -> SnapshotMetas {
        SnapshotMetas {
            shared,
            last: Mutex::new(None),
        }
    }

    /// The catalog entry of `ns` in the snapshot `kv`.
    pub fn meta<K: KvRead + ?Sized>(&self, kv: &K, ns: &str) -> Result<Option<Arc<CollMeta>>, Status> {
        if let Some(meta) = lock(&self.last).as_ref()
            && meta.ns == ns
        {
            return Ok(Some(meta.clone()));
        }
        let Some(bytes) = kv.get(CATALOG, ns.as_bytes())? else {
            return Ok(None);
        };
        let meta = self.shared.decode(ns, bytes)?;
        *lock(&self.last) = Some(meta.clone());
        Ok(Some(meta))
    }
}
