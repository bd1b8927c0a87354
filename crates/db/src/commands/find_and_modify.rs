//! `findAndModify`: update (with an update document or a pipeline) or remove one document (the first by
//! `sort`) and return it as it was or, with `new`, as it became; `upsert` inserts when nothing matches.

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};
use docwire_transport::{Command, CommandRequest, RequestContext};

use super::context::{DbDeps, interrupt_check};
use super::plan::{choose_plan, collect};
use super::update::update_one_statement;
use super::util::{array_filters, command_document, optional_bool, optional_document, target_namespace};
use super::write_result::run_retryable;
use crate::query::matcher::Matcher;
use crate::query::projection::Projection;
use crate::query::sort::SortSpec;

/// The findAndModify command (also `findandmodify`).
pub struct FindAndModify(pub DbDeps);

#[async_trait]
impl Command for FindAndModify {
    fn names(&self) -> &'static [&'static str] {
        &["findAndModify", "findandmodify"]
    }

    fn help(&self) -> &'static str {
        "atomically update or remove one document and return it"
    }

    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let (ns, _) = target_namespace(req)?;
        let command = command_document(req)?;
        let query = optional_document(&command, "query")?.unwrap_or_default();
        let sort = match optional_document(&command, "sort")? {
            Some(s) => Some(SortSpec::parse_find(&s)?).filter(|s| !s.is_empty()),
            None => None,
        };
        let fields = match optional_document(&command, "fields")? {
            Some(f) => Some(Projection::parse(&f)?),
            None => None,
        };
        let remove = optional_bool(&command, "remove")?.unwrap_or(false);
        let new = optional_bool(&command, "new")?.unwrap_or(false);
        let upsert = optional_bool(&command, "upsert")?.unwrap_or(false);
        let filters = array_filters(&command, "findAndModify.arrayFilters")?;
        let update = match command.get("update") {
            Some(u @ (Bson::Document(_) | Bson::Array(_))) => Some(u.clone()),
            None => None,
            Some(_) => {
                return Err(Status::new(
                    ErrorCode::FailedToParse,
                    "Update argument must be either an object or an array",
                ));
            }
        };
        match (remove, &update) {
            (true, Some(_)) => {
                return Err(Status::new(
                    ErrorCode::FailedToParse,
                    "Cannot specify both an update and remove=true",
                ));
            }
            (false, None) => {
                return Err(Status::new(
                    ErrorCode::FailedToParse,
                    "Either an update or remove=true must be specified",
                ));
            }
            (true, None) if upsert || new => {
                return Err(Status::new(
                    ErrorCode::FailedToParse,
                    "Cannot specify both upsert=true and remove=true",
                ));
            }
            _ => {}
        }
        let op_ctx = &*ctx.op_ctx;
        run_retryable(&self.0, &command, reply, || {
            let mut check = interrupt_check(op_ctx);
            let mut txn = self.0.engine.begin_write()?;
            let project = |d: Document| fields.as_ref().map_or(d.clone(), |p| p.apply(&d));
            let result = if remove {
                let matcher = Matcher::parse(&query)?;
                let plan = choose_plan(&*txn, &ns, &matcher, None)?;
                let mut matched = collect(
                    &*txn,
                    &ns,
                    &plan,
                    &matcher,
                    if sort.is_some() { None } else { Some(1) },
                    &mut check,
                )?;
                if let Some(sort) = &sort {
                    matched.sort_by(|a, b| sort.compare(&a.doc, &b.doc));
                }
                match matched.into_iter().next() {
                    Some(m) => {
                        if let Some(id) = m.doc.get("_id") {
                            txn.delete(&ns, id)?;
                        }
                        doc! {"lastErrorObject": {"n": 1}, "value": project(m.doc), "ok": 1.0}
                    }
                    None => doc! {"lastErrorObject": {"n": 0}, "value": Bson::Null, "ok": 1.0},
                }
            } else {
                let update = update.unwrap_or_else(|| Bson::Document(Document::new()));
                let outcome = update_one_statement(
                    txn.as_mut(),
                    &ns,
                    &query,
                    &update,
                    &filters,
                    upsert,
                    false,
                    sort.as_ref(),
                    &mut check,
                )?;
                let mut last_error = doc! {"n": outcome.matched.max(i64::from(outcome.upserted.is_some()))};
                last_error.insert("updatedExisting", outcome.matched > 0);
                if let Some(id) = &outcome.upserted {
                    last_error.insert("upserted", id.clone());
                }
                let value = if new {
                    outcome.after.map(project)
                } else {
                    outcome.before.map(project)
                };
                doc! {"lastErrorObject": last_error, "value": value.map_or(Bson::Null, Bson::Document), "ok": 1.0}
            };
            txn.commit()?;
            Ok(result)
        })
    }
}
