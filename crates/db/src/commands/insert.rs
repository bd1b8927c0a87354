//! `insert`: documents from the `documents` sequence (or array), each given an _id if it has none, in
//! one write transaction committed (durably) before the reply; ordered stops at the first error.

use async_trait::async_trait;
use bson::RawDocumentBuf;
use docwire_rpc::limits::MAX_BSON_OBJECT_SIZE;
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};
use docwire_transport::{Command, CommandRequest, RequestContext};

use super::context::DbDeps;
use super::util::{decode, encode, optional_bool, target_namespace};
use super::write_result::{WriteResult, operations, run_retryable};
use crate::storage::ensure_id;

/// The insert command.
pub struct Insert(pub DbDeps);

#[async_trait]
impl Command for Insert {
    fn names(&self) -> &'static [&'static str] {
        &["insert"]
    }

    fn help(&self) -> &'static str {
        "insert documents"
    }

    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let (ns, _) = target_namespace(req)?;
        // The body alone: the documents stay raw (a document sequence is never decoded).
        let command = decode(req.body)?;
        let ordered = optional_bool(&command, "ordered")?.unwrap_or(true);
        let documents: Vec<RawDocumentBuf> = match req.op_msg.and_then(|m| m.sequence("documents")) {
            Some(sequence) => sequence.iter().map(ToOwned::to_owned).collect(),
            None => operations(&command, "documents", "insert")?
                .iter()
                .map(encode)
                .collect::<StatusResult<_>>()?,
        };
        if documents.len() > docwire_rpc::limits::MAX_WRITE_BATCH_SIZE {
            return Err(Status::new(
                ErrorCode::InvalidLength,
                format!(
                    "Write batch sizes must be between 1 and 100000. Got {} operations.",
                    documents.len()
                ),
            ));
        }
        let op_ctx = &*ctx.op_ctx;
        run_retryable(&self.0, &command, reply, || {
            let mut result = WriteResult::default();
            let mut txn = self.0.engine.begin_write()?;
            txn.ensure_collection(&ns)?;
            for (index, doc) in documents.iter().enumerate() {
                op_ctx.check_for_interrupt()?;
                let outcome = prepare(doc).and_then(|raw| txn.insert(&ns, &raw));
                match outcome {
                    Ok(()) => result.n += 1,
                    Err(status) => {
                        result.error(index, &status);
                        if ordered {
                            break;
                        }
                    }
                }
            }
            txn.commit()?;
            Ok(result.into_reply())
        })
    }
}

/// The document as stored: _id first (generated when absent), within the size limit.
fn prepare(doc: &bson::RawDocument) -> StatusResult<RawDocumentBuf> {
    if doc.as_bytes().len() > MAX_BSON_OBJECT_SIZE {
        return Err(Status::new(
            ErrorCode::BSONObjectTooLarge,
            format!(
                "object to insert too large. size in bytes: {}, max size: {MAX_BSON_OBJECT_SIZE}",
                doc.as_bytes().len()
            ),
        ));
    }
    let (raw, _) = ensure_id(doc)?;
    Ok(raw)
}
