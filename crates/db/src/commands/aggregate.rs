//! `aggregate`: the pipeline over a collection (its leading $match chooses the plan), results returned
//! through a cursor like find's; `explain: true` describes the plan and the stages instead.

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};
use docwire_transport::{Command, CommandRequest, RequestContext};

use super::context::{DbDeps, interrupt_check};
use super::find::open_cursor;
use super::plan::{choose_plan, collect};
use super::util::{command_document, decode, encode, optional_bool, optional_count};
use crate::cursor::{BatchLimit, VecSource, batch_reply};
use crate::pipeline::{CollectionSource, Pipeline};
use crate::query::matcher::Matcher;
use crate::storage::{Direction, StorageEngine};

/// The aggregate command.
pub struct Aggregate(pub DbDeps);

/// Reads a $lookup's foreign collections from the engine (a missing collection reads as empty).
struct StorageCollections<'a> {
    engine: &'a dyn StorageEngine,
    db: &'a str,
}

impl CollectionSource for StorageCollections<'_> {
    fn documents(&self, collection: &str) -> StatusResult<Vec<Document>> {
        let read = self.engine.begin_read()?;
        let ns = format!("{}.{collection}", self.db);
        let mut out = Vec::new();
        for record in read.scan(&ns, std::ops::Bound::Unbounded, Direction::Forward)? {
            out.push(decode(&record?.doc)?);
        }
        Ok(out)
    }
}

#[async_trait]
impl Command for Aggregate {
    fn names(&self) -> &'static [&'static str] {
        &["aggregate"]
    }

    fn help(&self) -> &'static str {
        "run an aggregation pipeline"
    }

    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let command = command_document(req)?;
        let collection = match command.get("aggregate") {
            Some(Bson::String(c)) if !c.is_empty() => c.clone(),
            Some(Bson::Int32(1)) | Some(Bson::Int64(1)) | Some(Bson::Double(_)) => {
                return Err(Status::new(
                    ErrorCode::InvalidNamespace,
                    "collection-less aggregations ({aggregate: 1}) are not supported",
                ));
            }
            _ => {
                return Err(Status::new(
                    ErrorCode::InvalidNamespace,
                    "aggregate requires a collection name",
                ));
            }
        };
        let ns = format!("{}.{collection}", req.database);
        crate::storage::validate_ns(&ns)?;
        let stages: Vec<Document> = match command.get("pipeline") {
            Some(Bson::Array(stages)) => stages
                .iter()
                .map(|s| match s {
                    Bson::Document(d) => Ok(d.clone()),
                    _ => Err(Status::new(
                        ErrorCode::TypeMismatch,
                        "Each element of the 'pipeline' array must be an object",
                    )),
                })
                .collect::<StatusResult<_>>()?,
            _ => {
                return Err(Status::new(
                    ErrorCode::TypeMismatch,
                    "'pipeline' option must be specified as an array",
                ));
            }
        };
        let pipeline = Pipeline::parse(&stages)?;
        let filter = pipeline.leading_match().cloned().unwrap_or_default();
        let matcher = Matcher::parse(&filter)?;
        let explain = optional_bool(&command, "explain")?.unwrap_or(false);
        let batch_size = match command.get("cursor") {
            Some(Bson::Document(cursor)) => optional_count(cursor, "batchSize")?.map(|b| b as usize),
            None if explain => None,
            _ => {
                return Err(Status::new(
                    ErrorCode::FailedToParse,
                    "The 'cursor' option is required, except for aggregate with the explain argument",
                ));
            }
        };
        let engine = self.0.engine.as_ref();
        let read = engine.begin_read()?;
        let plan = choose_plan(read.as_ref(), &ns, &matcher, command.get("hint"))?;
        if explain {
            reply.set_command_reply(doc! {
                "explainVersion": "1",
                "queryPlanner": {"namespace": &ns, "parsedQuery": filter, "winningPlan": plan.explain(), "rejectedPlans": []},
                "stages": pipeline.explain().get("stages").cloned().unwrap_or(Bson::Array(Vec::new())),
                "ok": 1.0,
            });
            return Ok(());
        }
        let results = {
            let mut check = interrupt_check(ctx.op_ctx);
            // The leading $match picks the documents (through an index when one fits); it runs again in
            // the pipeline, which is harmless.
            let input = collect(read.as_ref(), &ns, &plan, &matcher, None, &mut check)?;
            drop(read);
            let documents = input.into_iter().map(|m| m.doc).collect();
            let source = StorageCollections {
                engine,
                db: req.database,
            };
            pipeline.run(documents, &source, &mut check)?
        };
        let raw = results.iter().map(encode).collect::<StatusResult<Vec<_>>>()?;
        let mut first = BatchLimit::FIRST_BATCH;
        if let Some(b) = batch_size {
            first.max_docs = Some(b);
        }
        let (documents, id) = open_cursor(
            &self.0,
            ctx,
            &command,
            &ns,
            Box::new(VecSource::new(raw)),
            first,
            false,
        )?;
        reply.set_raw_command_reply(batch_reply("firstBatch", &documents, id, &ns)?);
        Ok(())
    }
}
