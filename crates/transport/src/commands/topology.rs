//! `TopologyState`: the topology version hello reports (`{processId, counter}`) and the wake-up that
//! awaitable hellos wait for when it changes.

use bson::{Document, oid::ObjectId};
use tokio::sync::watch;

/// The server's topology version. The processId is made once per process; the counter grows each time
/// the topology (what hello would answer) changes, waking every awaitable hello.
#[derive(Debug)]
pub struct TopologyState {
    process_id: ObjectId,
    counter: watch::Sender<i64>,
}

impl Default for TopologyState {
    fn default() -> Self {
        TopologyState::new()
    }
}

impl TopologyState {
    /// A new process's topology version: a fresh processId and counter 0.
    pub fn new() -> TopologyState {
        TopologyState {
            process_id: ObjectId::new(),
            counter: watch::Sender::new(0),
        }
    }

    /// This process's id.
    pub fn process_id(&self) -> ObjectId {
        self.process_id
    }

    /// The current counter.
    pub fn counter(&self) -> i64 {
        *self.counter.borrow()
    }

    /// `{processId, counter}` as hello reports it.
    pub fn topology_version(&self) -> Document {
        topology_version_document(self.process_id, self.counter())
    }

    /// Marks a topology change: bumps the counter and wakes every waiting hello. Returns the new counter.
    pub fn bump(&self) -> i64 {
        let mut new = 0;
        self.counter.send_modify(|c| {
            *c += 1;
            new = *c;
        });
        new
    }

    /// Waits until the counter differs from `counter`; returns the new one.
    pub async fn changed_from(&self, counter: i64) -> i64 {
        let mut rx = self.counter.subscribe();
        match rx.wait_for(|c| *c != counter).await {
            Ok(c) => *c,
            // The sender lives as long as `self`, so this is not reached; answer as if changed.
            Err(_) => self.counter(),
        }
    }
}

/// `{processId, counter}`.
pub(crate) fn topology_version_document(process_id: ObjectId, counter: i64) -> Document {
    let mut doc = Document::new();
    doc.insert("processId", process_id);
    doc.insert("counter", counter);
    doc
}
