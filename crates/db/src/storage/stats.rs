//! Per-table counters (entries, key bytes, value bytes) kept in the STATS table and adjusted by each
//! write transaction, so collStats and dbStats never scan.

use std::collections::HashMap;

use docwire_rpc::Status;

use super::kv::{KvRead, STATS};

/// Counts for one table; deltas may be negative.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TableCounters {
    /// Number of entries.
    pub entries: i64,
    /// Sum of key lengths.
    pub key_bytes: i64,
    /// Sum of value lengths.
    pub value_bytes: i64,
}

impl TableCounters {
    /// The counters as stored: three little-endian i64.
    pub fn encode(&self) -> [u8; 24] {
        let mut out = [0u8; 24];
        out[..8].copy_from_slice(&self.entries.to_le_bytes());
        out[8..16].copy_from_slice(&self.key_bytes.to_le_bytes());
        out[16..].copy_from_slice(&self.value_bytes.to_le_bytes());
        out
    }

    /// Reads stored counters; anything malformed reads as zeros (they are advisory).
    pub fn decode(bytes: &[u8]) -> TableCounters {
        let field = |i: usize| {
            bytes
                .get(i * 8..i * 8 + 8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, i64::from_le_bytes)
        };
        TableCounters {
            entries: field(0),
            key_bytes: field(1),
            value_bytes: field(2),
        }
    }

    /// Adds `other` to these counters.
    pub fn add(&mut self, other: TableCounters) {
        self.entries += other.entries;
        self.key_bytes += other.key_bytes;
        self.value_bytes += other.value_bytes;
    }
}

/// Pending changes to counters, by table name.
pub(crate) type CounterDeltas = HashMap<String, TableCounters>;

/// A table's counters as committed plus this transaction's pending deltas.
pub(crate) fn counters<K: KvRead + ?Sized>(
    kv: &K,
    deltas: Option<&CounterDeltas>,
    table: &str,
) -> Result<TableCounters, Status> {
    let mut c = kv
        .get(STATS, table.as_bytes())?
        .map(|b| TableCounters::decode(&b))
        .unwrap_or_default();
    if let Some(d) = deltas.and_then(|d| d.get(table)) {
        c.add(*d);
    }
    Ok(c)
}

/// Non-negative `u64` of a counter (a counter that drifted below zero reads as 0).
pub(crate) fn non_negative(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}
