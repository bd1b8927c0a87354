//! `CursorSource`: what a cursor reads its batches from. A query plan implements it; tests use
//! `VecSource`.

use std::collections::VecDeque;

use bson::RawDocumentBuf;
use docwire_rpc::StatusResult;
use docwire_rpc::limits::MAX_BSON_OBJECT_SIZE;

/// How much one batch may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchLimit {
    /// At most this many documents (`batchSize`); `None` is no count limit.
    pub max_docs: Option<usize>,
    /// At most about this many bytes (a batch always holds at least one document).
    pub max_bytes: usize,
}

impl BatchLimit {
    /// mongod's first batch of a find: 101 documents, 16 MiB.
    pub const FIRST_BATCH: BatchLimit = BatchLimit {
        max_docs: Some(101),
        max_bytes: MAX_BSON_OBJECT_SIZE,
    };

    /// A getMore's batch: `batch_size` documents if given, else as many as fit in 16 MiB.
    pub fn get_more(batch_size: Option<usize>) -> BatchLimit {
        BatchLimit {
            max_docs: batch_size.filter(|n| *n > 0),
            max_bytes: MAX_BSON_OBJECT_SIZE,
        }
    }
}

/// One batch and whether the source has nothing more.
#[derive(Debug, Default)]
pub struct Batch {
    /// The documents.
    pub documents: Vec<RawDocumentBuf>,
    /// No document follows this batch.
    pub exhausted: bool,
}

/// Called while a batch is read, so long reads stop when their operation is killed or times out.
pub type InterruptCheck<'a> = &'a mut dyn FnMut() -> StatusResult<()>;

/// Produces a cursor's documents batch by batch.
pub trait CursorSource: Send {
    /// The next batch within `limit`; `check` is called now and then while reading.
    fn next_batch(&mut self, limit: BatchLimit, check: InterruptCheck<'_>) -> StatusResult<Batch>;
}

/// A source over documents already in memory.
#[derive(Debug, Default)]
pub struct VecSource {
    documents: VecDeque<RawDocumentBuf>,
}

impl VecSource {
    /// A source yielding `documents` in order.
    pub fn new(documents: impl IntoIterator<Item = RawDocumentBuf>) -> VecSource {
        VecSource {
            documents: documents.into_iter().collect(),
        }
    }
}

impl CursorSource for VecSource {
    fn next_batch(&mut self, limit: BatchLimit, _check: InterruptCheck<'_>) -> StatusResult<Batch> {
        let mut batch = Batch::default();
        let mut bytes = 0;
        while let Some(doc) = self.documents.front() {
            let len = doc.as_bytes().len();
            let full_by_count = limit.max_docs.is_some_and(|n| batch.documents.len() >= n);
            let full_by_size = !batch.documents.is_empty() && bytes + len > limit.max_bytes;
            if full_by_count || full_by_size {
                break;
            }
            bytes += len;
            if let Some(doc) = self.documents.pop_front() {
                batch.documents.push(doc);
            }
        }
        batch.exhausted = self.documents.is_empty();
        Ok(batch)
    }
}
