//! The reply of a write command: `n`, `nModified`, `upserted`, `writeErrors` in mongod's shapes, and
//! the retryable-write wrapper every write command runs through.

use bson::{Bson, Document, doc};
use docwire_rpc::{ReplyBuilder, Status, StatusResult};

use super::context::DbDeps;
use super::retryable::retry_key;

/// Accumulates a write command's outcome.
#[derive(Default)]
pub struct WriteResult {
    /// Documents inserted, matched or deleted.
    pub n: i64,
    /// Documents changed by updates (present only for update).
    pub n_modified: Option<i64>,
    /// Upserted `{index, _id}` entries.
    pub upserted: Vec<Document>,
    /// `{index, code, errmsg, ...}` entries.
    pub write_errors: Vec<Document>,
}

impl WriteResult {
    /// Records a failed operation at `index` in the batch.
    pub fn error(&mut self, index: usize, status: &Status) {
        let mut entry = doc! {"index": index as i32, "code": status.code().code()};
        if let Some(extra) = status.extra_info() {
            entry.extend(extra.clone());
        }
        entry.insert("errmsg", status.reason());
        self.write_errors.push(entry);
    }

    /// The reply document.
    pub fn into_reply(self) -> Document {
        let mut reply = doc! {"n": self.n};
        if let Some(modified) = self.n_modified {
            reply.insert("nModified", modified);
        }
        if !self.upserted.is_empty() {
            reply.insert(
                "upserted",
                self.upserted.into_iter().map(Bson::Document).collect::<Vec<_>>(),
            );
        }
        if !self.write_errors.is_empty() {
            reply.insert(
                "writeErrors",
                self.write_errors
                    .into_iter()
                    .map(Bson::Document)
                    .collect::<Vec<_>>(),
            );
        }
        reply.insert("ok", 1.0);
        reply
    }
}

/// Runs a write once per (lsid, txnNumber): a retry of an applied write gets the stored reply.
pub fn run_retryable(
    deps: &DbDeps,
    command: &Document,
    reply: &mut ReplyBuilder,
    write: impl FnOnce() -> StatusResult<Document>,
) -> StatusResult<()> {
    let key = retry_key(command);
    if let Some(key) = &key
        && let Some(stored) = deps.retryable.get(key)
    {
        reply.set_command_reply(stored);
        return Ok(());
    }
    let result = write()?;
    if let Some(key) = key {
        deps.retryable.record(key, result.clone());
    }
    reply.set_command_reply(result);
    Ok(())
}

/// The operations of a write command: its document sequence (or body array) named `field`.
pub fn operations(command: &Document, field: &str, command_name: &str) -> StatusResult<Vec<Document>> {
    let items = match command.get(field) {
        Some(Bson::Array(items)) => items,
        Some(_) | None => {
            return Err(Status::new(
                docwire_rpc::ErrorCode::FailedToParse,
                format!("BSON field '{command_name}.{field}' is missing but a required field"),
            ));
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Bson::Document(d) => out.push(d.clone()),
            _ => {
                return Err(Status::new(
                    docwire_rpc::ErrorCode::TypeMismatch,
                    format!("BSON field '{command_name}.{field}' is the wrong type, expected type 'object'"),
                ));
            }
        }
    }
    if out.len() > docwire_rpc::limits::MAX_WRITE_BATCH_SIZE {
        return Err(Status::new(
            docwire_rpc::ErrorCode::InvalidLength,
            format!(
                "Write batch sizes must be between 1 and 100000. Got {} operations.",
                out.len()
            ),
        ));
    }
    Ok(out)
}
