//! `find`, `getMore` and `killCursors`: a query's first batch, later batches from its cursor (streamed
//! with moreToCome when the request allowed exhaust), and killing cursors.

use std::sync::Arc;

use async_trait::async_trait;
use bson::{Bson, Document, RawBsonRef, doc};
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};
use docwire_service::LogicalOp;
use docwire_transport::{Command, CommandRequest, RequestContext};

use super::context::{DbDeps, interrupt_check};
use super::plan::{FindShape, execute_find};
use super::util::{
    command_document, cursor_owner, cursor_reply, optional_bool, optional_count, optional_document,
    target_namespace,
};
use crate::cursor::{BatchLimit, CursorOptions, CursorSource};
use crate::query::matcher::Matcher;
use crate::query::projection::Projection;
use crate::query::sort::SortSpec;

/// The find command.
pub struct Find(pub DbDeps);

/// Parses a find's filter, sort, projection, skip, limit and hint.
pub fn find_shape(command: &Document) -> StatusResult<FindShape> {
    let filter = optional_document(command, "filter")?.unwrap_or_default();
    let sort = match optional_document(command, "sort")? {
        Some(spec) => Some(SortSpec::parse_find(&spec)?).filter(|s| !s.is_empty()),
        None => None,
    };
    let projection = match optional_document(command, "projection")? {
        Some(spec) => Some(Projection::parse(&spec)?)
            .filter(|p| !p.is_identity())
            .map(Arc::new),
        None => None,
    };
    let skip = optional_count(command, "skip")?.unwrap_or(0) as usize;
    let limit = optional_count(command, "limit")?
        .filter(|l| *l > 0)
        .map(|l| l as usize);
    Ok(FindShape {
        matcher: Arc::new(Matcher::parse(&filter)?),
        sort,
        projection,
        skip,
        limit,
        hint: command.get("hint").cloned(),
    })
}

/// Opens a cursor over `source`: the first batch and the cursor id (0 when it is exhausted).
pub fn open_cursor(
    deps: &DbDeps,
    ctx: &RequestContext<'_>,
    command: &Document,
    ns: &str,
    mut source: Box<dyn CursorSource>,
    first: BatchLimit,
    single_batch: bool,
) -> StatusResult<(Vec<bson::RawDocumentBuf>, i64)> {
    let mut check = interrupt_check(ctx.op_ctx);
    let batch = source.next_batch(first, &mut check)?;
    if batch.exhausted || single_batch {
        return Ok((batch.documents, 0));
    }
    let options = CursorOptions {
        no_timeout: optional_bool(command, "noCursorTimeout")?.unwrap_or(false),
        comment: command.get("comment").cloned(),
    };
    let id = deps
        .cursors
        .register(ns, cursor_owner(ctx, command), options, source);
    Ok((batch.documents, id))
}

#[async_trait]
impl Command for Find {
    fn names(&self) -> &'static [&'static str] {
        &["find"]
    }

    fn help(&self) -> &'static str {
        "query for documents"
    }

    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let (ns, _) = target_namespace(req)?;
        let command = command_document(req)?;
        // currentOp shows a find as mongod does: a query on its collection (not `<db>.$cmd`).
        ctx.op_ctx
            .set_command(LogicalOp::Query, ns.as_str(), command.clone());
        let shape = find_shape(&command)?;
        let batch_size = optional_count(&command, "batchSize")?.map(|b| b as usize);
        let single_batch = optional_bool(&command, "singleBatch")?.unwrap_or(false);
        let limit = shape.limit;
        let (source, _) = {
            let mut check = interrupt_check(ctx.op_ctx);
            execute_find(&self.0.engine, &ns, shape, &mut check)?
        };
        let mut first = BatchLimit::FIRST_BATCH;
        if let Some(b) = batch_size {
            first.max_docs = Some(b);
        }
        if let Some(l) = limit {
            first.max_docs = Some(first.max_docs.map_or(l, |b| b.min(l)));
        }
        let (documents, id) = open_cursor(&self.0, ctx, &command, &ns, source, first, single_batch)?;
        reply.set_raw_command_reply(cursor_reply("firstBatch", documents, id, &ns));
        Ok(())
    }
}

/// The getMore command.
pub struct GetMore(pub DbDeps);

#[async_trait]
impl Command for GetMore {
    fn names(&self) -> &'static [&'static str] {
        &["getMore"]
    }

    fn help(&self) -> &'static str {
        "get the next batch of a cursor"
    }

    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let id = match req.field("getMore") {
            Some(RawBsonRef::Int64(id)) => id,
            Some(RawBsonRef::Int32(id)) => i64::from(id),
            _ => {
                return Err(Status::new(
                    ErrorCode::TypeMismatch,
                    "BSON field 'getMore.getMore' is the wrong type, expected type 'long'",
                ));
            }
        };
        let collection = match req.field("collection") {
            Some(RawBsonRef::String(c)) => c,
            _ => {
                return Err(Status::new(
                    ErrorCode::TypeMismatch,
                    "BSON field 'getMore.collection' is missing but a required field",
                ));
            }
        };
        let ns = format!("{}.{collection}", req.database);
        let command = command_document(req)?;
        ctx.op_ctx
            .set_command(LogicalOp::GetMore, ns.as_str(), command.clone());
        let batch_size = optional_count(&command, "batchSize")?.map(|b| b as usize);
        let owner = cursor_owner(ctx, &command);
        let mut pinned = self.0.cursors.check_out(id, &ns, &owner)?;
        let batch = {
            let mut check = interrupt_check(ctx.op_ctx);
            pinned.next_batch(BatchLimit::get_more(batch_size), &mut check)?
        };
        let next_id = if batch.exhausted { 0 } else { id };
        drop(pinned);
        reply.set_raw_command_reply(cursor_reply("nextBatch", batch.documents, next_id, &ns));
        if next_id != 0 && req.exhaust_allowed {
            // Exhaust: the state machine runs this same getMore (lsid and all) again and streams the batches.
            let mut again = command.clone();
            again.insert("$db", req.database);
            reply.set_next_invocation(again);
        }
        Ok(())
    }
}

/// The killCursors command.
pub struct KillCursors(pub DbDeps);

#[async_trait]
impl Command for KillCursors {
    fn names(&self) -> &'static [&'static str] {
        &["killCursors"]
    }

    fn help(&self) -> &'static str {
        "kill cursors"
    }

    async fn run(
        &self,
        _: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        target_namespace(req)?;
        let command = command_document(req)?;
        let ids: Vec<i64> = match command.get("cursors") {
            Some(Bson::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Bson::Int64(i) => Ok(*i),
                    Bson::Int32(i) => Ok(i64::from(*i)),
                    _ => Err(Status::new(
                        ErrorCode::TypeMismatch,
                        "BSON field 'killCursors.cursors' must hold longs",
                    )),
                })
                .collect::<StatusResult<_>>()?,
            _ => {
                return Err(Status::new(
                    ErrorCode::FailedToParse,
                    "BSON field 'killCursors.cursors' is missing but a required field",
                ));
            }
        };
        let result = self.0.cursors.kill(&ids);
        reply.set_command_reply(doc! {
            "cursorsKilled": result.killed,
            "cursorsNotFound": result.not_found,
            "cursorsAlive": result.alive,
            "cursorsUnknown": result.unknown,
            "ok": 1.0,
        });
        Ok(())
    }
}
