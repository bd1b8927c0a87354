//! Retryable writes: a write that carries `lsid` + `txnNumber` and was already applied is not applied
//! again; the stored reply is returned (drivers retry after network errors, and the proxy relies on it).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use bson::{Bson, Document};

/// How many (session, txnNumber) results are remembered; the oldest are forgotten first.
const CAPACITY: usize = 100_000;

/// Replies of applied retryable writes, by (lsid, txnNumber).
#[derive(Default)]
pub struct RetryableWrites {
    // A std Mutex: lookups and inserts are short and never cross an await.
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    replies: HashMap<(Vec<u8>, i64), Document>,
    order: VecDeque<(Vec<u8>, i64)>,
}

/// The retry identity of a command: its lsid (as bytes) and txnNumber, when it has both.
pub fn retry_key(command: &Document) -> Option<(Vec<u8>, i64)> {
    let lsid = command.get_document("lsid").ok()?;
    let txn = match command.get("txnNumber")? {
        Bson::Int64(n) => *n,
        Bson::Int32(n) => i64::from(*n),
        _ => return None,
    };
    Some((lsid.to_vec().ok()?, txn))
}

impl RetryableWrites {
    /// The stored reply for `key`, if that write was applied.
    pub fn get(&self, key: &(Vec<u8>, i64)) -> Option<Document> {
        self.lock().replies.get(key).cloned()
    }

    /// Remembers the reply of an applied write.
    pub fn record(&self, key: (Vec<u8>, i64), reply: Document) {
        let mut state = self.lock();
        if state.replies.insert(key.clone(), reply).is_none() {
            state.order.push_back(key);
        }
        while state.order.len() > CAPACITY {
            if let Some(old) = state.order.pop_front() {
                state.replies.remove(&old);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
