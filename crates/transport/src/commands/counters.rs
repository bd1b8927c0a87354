//! `OpCounters`: serverStatus.opcounters, bumped by whoever runs the operation.

use std::sync::atomic::{AtomicU64, Ordering};

use bson::{Document, doc};
use docwire_service::LogicalOp;

/// Operation counts since start, with mongod's names.
#[derive(Debug, Default)]
pub struct OpCounters {
    /// Inserts (documents).
    pub insert: AtomicU64,
    /// Queries (finds).
    pub query: AtomicU64,
    /// Updates (statements).
    pub update: AtomicU64,
    /// Deletes (statements).
    pub delete: AtomicU64,
    /// getMores.
    pub getmore: AtomicU64,
    /// Commands other than the above.
    pub command: AtomicU64,
}

impl OpCounters {
    /// Counts one operation of `op`'s kind.
    pub fn record(&self, op: LogicalOp) {
        let counter = match op {
            LogicalOp::Insert => &self.insert,
            LogicalOp::Query => &self.query,
            LogicalOp::Update => &self.update,
            LogicalOp::Remove => &self.delete,
            LogicalOp::GetMore => &self.getmore,
            LogicalOp::Command | LogicalOp::KillCursors | LogicalOp::None => &self.command,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The serverStatus.opcounters document (64-bit counts, as mongod 8.0 reports them).
    pub fn to_document(&self) -> Document {
        let get = |c: &AtomicU64| i64::try_from(c.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        doc! {
            "insert": get(&self.insert),
            "query": get(&self.query),
            "update": get(&self.update),
            "delete": get(&self.delete),
            "getmore": get(&self.getmore),
            "command": get(&self.command),
        }
    }
}
