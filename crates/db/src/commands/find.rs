//! `find`, `getMore` and `killCursors`: a query's first batch, later batches from its cursor (streamed
//! with moreToCome when the request allowed exhaust), and killing cursors.

use std::sync::Arc;

use async_trait::async_trait;
use bson::{Bson, Document, RawBsonRef, doc};
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};
use docwire_service::{LogicalOp, RecordedCommand};
use docwire_transport::{Command, CommandRequest, RequestContext};

use super::context::{DbDeps, interrupt_check};
use super::plan::{FindShape, execute_find};
use super::util::{
    command_document, cursor_owner, optional_bool, optional_count, optional_document, target_namespace,
};
use crate::cursor::{BatchLimit, CursorOptions, CursorOwner, CursorSource, batch_reply};
use crate::query::matcher::Matcher;
use crate::query::projection::Projection;
use crate::query::sort::SortSpec;

/// The find command.
pub struct Find(pub DbDeps);

/// The top-level fields a find reads (its shape, batch options and cursor options).
const FIND_FIELDS: &[&str] = &[
    "filter",
    "sort",
    "projection",
    "skip",
    "limit",
    "batchSize",
    "singleBatch",
    "hint",
    "noCursorTimeout",
    "comment",
];

/// The fields of a find request that it reads, decoded; the rest (lsid, `$db`, read concern,
/// cluster time...) stays raw. currentOp already has the whole command: the command layer records
/// every request's body (with a find's `op: "query"` and `ns: <db>.<coll>`) before it runs. A request
/// with document sequences is merged whole, as every other command reads it.
fn find_fields(req: &CommandRequest<'_>) -> StatusResult<Document> {
    if req.op_msg.is_some_and(|msg| msg.sequences().next().is_some()) {
        return command_document(req);
    }
    let invalid =
        |e: bson::error::Error| Status::new(ErrorCode::InvalidBSON, format!("invalid command document: {e}"));
    let mut fields = Document::new();
    for element in req.body {
        let (key, value) = element.map_err(invalid)?;
        if FIND_FIELDS.contains(&key.as_str()) {
            // A repeated field keeps its last value, as decoding the whole command did.
            fields.insert(key.as_str(), Bson::try_from(value).map_err(invalid)?);
        }
    }
    Ok(fields)
}

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
    source: Box<dyn CursorSource>,
    first: BatchLimit,
    single_batch: bool,
) -> StatusResult<(Vec<bson::RawDocumentBuf>, i64)> {
    start_cursor(deps, ctx, ns, source, first, single_batch, || {
        let options = CursorOptions {
            no_timeout: optional_bool(command, "noCursorTimeout")?.unwrap_or(false),
            comment: command.get("comment").cloned(),
        };
        Ok((options, cursor_owner(ctx, command)))
    })
}

/// Reads the first batch; only when documents remain does it ask `registration` for the cursor's
/// options and owner and register the cursor (a query answered in one batch registers nothing).
fn start_cursor(
    deps: &DbDeps,
    ctx: &RequestContext<'_>,
    ns: &str,
    mut source: Box<dyn CursorSource>,
    first: BatchLimit,
    single_batch: bool,
    registration: impl FnOnce() -> StatusResult<(CursorOptions, CursorOwner)>,
) -> StatusResult<(Vec<bson::RawDocumentBuf>, i64)> {
    let mut check = interrupt_check(ctx.op_ctx);
    let batch = source.next_batch(first, &mut check)?;
    if batch.exhausted || single_batch {
        return Ok((batch.documents, 0));
    }
    let (options, owner) = registration()?;
    let id = deps.cursors.register(ns, owner, options, source);
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
        let command = find_fields(req)?;
        let shape = find_shape(&command)?;
        let batch_size = optional_count(&command, "batchSize")?.map(|b| b as usize);
        let single_batch = optional_bool(&command, "singleBatch")?.unwrap_or(false);
        // Its type is checked only when a cursor is registered (it means nothing otherwise).
        let no_timeout = optional_bool(&command, "noCursorTimeout");
        let comment = command.get("comment").cloned();
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
        let (documents, id) = start_cursor(&self.0, ctx, &ns, source, first, single_batch, || {
            let options = CursorOptions {
                no_timeout: no_timeout?.unwrap_or(false),
                comment,
            };
            Ok((options, request_cursor_owner(ctx, req)))
        })?;
        reply.set_raw_command_reply(batch_reply("firstBatch", &documents, id, &ns)?);
        Ok(())
    }
}

/// Who owns a cursor a request opens: its connection, and its `lsid` read from the request body
/// (what [`cursor_owner`] reads from the decoded command).
fn request_cursor_owner(ctx: &RequestContext<'_>, req: &CommandRequest<'_>) -> CursorOwner {
    let lsid = match req.field("lsid") {
        Some(RawBsonRef::Document(lsid)) => Document::try_from(lsid).ok(),
        _ => None,
    };
    CursorOwner {
        connection_id: ctx.client.client().connection_id(),
        lsid,
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
        // currentOp shows the cursor's namespace; the command stays the command layer's record (raw bytes,
        // redacted when shown) rather than a re-encoding of the decoded one.
        let recorded = ctx
            .op_ctx
            .command()
            .unwrap_or_else(|| RecordedCommand::from(&command));
        ctx.op_ctx.set_command(LogicalOp::GetMore, ns.as_str(), recorded);
        let batch_size = optional_count(&command, "batchSize")?.map(|b| b as usize);
        let owner = cursor_owner(ctx, &command);
        let mut pinned = self.0.cursors.check_out(id, &ns, &owner)?;
        let batch = {
            let mut check = interrupt_check(ctx.op_ctx);
            pinned.next_batch(BatchLimit::get_more(batch_size), &mut check)?
        };
        let next_id = if batch.exhausted { 0 } else { id };
        drop(pinned);
        reply.set_raw_command_reply(batch_reply("nextBatch", &batch.documents, next_id, &ns)?);
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
