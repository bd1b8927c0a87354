//! `DbDeps`: what every db command needs (the storage engine, the cursor manager, the retryable-write
//! record), and the interrupt check that ties long reads to the running operation.

use std::sync::Arc;

use docwire_rpc::StatusResult;
use docwire_service::OperationContext;

use super::retryable::RetryableWrites;
use crate::cursor::CursorManager;
use crate::storage::StorageEngine;

/// The db commands' shared state.
#[derive(Clone)]
pub struct DbDeps {
    /// The storage engine.
    pub engine: Arc<dyn StorageEngine>,
    /// Open cursors.
    pub cursors: Arc<CursorManager>,
    /// Results of retryable writes already applied.
    pub retryable: Arc<RetryableWrites>,
}

/// An interrupt check for an operation: killOp and maxTimeMS stop long scans through it.
pub fn interrupt_check(op_ctx: &OperationContext) -> impl FnMut() -> StatusResult<()> + '_ {
    move || op_ctx.check_for_interrupt()
}
