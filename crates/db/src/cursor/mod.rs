//! Cursors: the registry of open cursors (`CursorManager`, a ServiceContext decoration), what a cursor
//! reads from (`CursorSource`), and mongod's rules — ids, ownership, the idle timeout
//! (cursorTimeoutMillis, 10 minutes; `noCursorTimeout` honoured), killing when their session ends, and
//! CursorNotFound 43 for unknown ids — and the cursor reply, written from raw documents.

mod manager;
mod reply;
mod source;

pub use manager::{
    CursorId, CursorManager, CursorOptions, CursorOwner, DEFAULT_CURSOR_TIMEOUT, KillCursorsResult,
    PinnedCursor,
};
pub use reply::batch_reply;
pub use source::{Batch, BatchLimit, CursorSource, InterruptCheck, VecSource};
