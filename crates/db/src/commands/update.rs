//! `update`: each `{q, u, upsert, multi, arrayFilters}` statement finds its documents, applies the update language
//! (an update document, or a pipeline of stages when `u` is an array), and replaces them (or inserts the
//! upsert), all in one write transaction committed before the reply.

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};
use docwire_transport::{Command, CommandRequest, RequestContext};

use super::context::{DbDeps, interrupt_check};
use super::plan::{choose_plan, collect};
use super::util::{array_filters, command_document, encode, optional_bool, target_namespace};
use super::write_result::{WriteResult, operations, run_retryable};
use crate::query::matcher::Matcher;
use crate::storage::WriteTxn;
use crate::update::{ApplyContext, UpdateSpec, check_document_size};

/// The update command.
pub struct Update(pub DbDeps);

/// What one update statement did.
pub struct UpdateOutcome {
    /// Documents matched.
    pub matched: i64,
    /// Documents changed.
    pub modified: i64,
    /// The _id of an upserted document.
    pub upserted: Option<Bson>,
    /// The document after the update (or the inserted one), for findAndModify.
    pub after: Option<Document>,
    /// The document before the update, for findAndModify.
    pub before: Option<Document>,
}

/// Runs one update statement inside `txn`; `update` is an update document or a pipeline (an array).
#[allow(clippy::too_many_arguments)]
pub fn update_one_statement(
    txn: &mut dyn WriteTxn,
    ns: &str,
    filter: &Document,
    update: &Bson,
    array_filters: &[Document],
    upsert: bool,
    multi: bool,
    sort: Option<&crate::query::sort::SortSpec>,
    check: &mut dyn FnMut() -> StatusResult<()>,
) -> StatusResult<UpdateOutcome> {
    let matcher = Matcher::parse(filter)?;
    let spec = UpdateSpec::parse_modification(update, array_filters)?;
    if multi && spec.is_replacement() {
        return Err(Status::new(
            ErrorCode::FailedToParse,
            "multi update is not supported for replacement-style update",
        ));
    }
    let now = bson::DateTime::now();
    let plan = choose_plan(&*txn, ns, &matcher, None)?;
    let limit = if multi || sort.is_some() { None } else { Some(1) };
    let mut matched = collect(&*txn, ns, &plan, &matcher, limit, check)?;
    if let Some(sort) = sort {
        matched.sort_by(|a, b| sort.compare(&a.doc, &b.doc));
        matched.truncate(1);
    }
    let mut outcome = UpdateOutcome {
        matched: 0,
        modified: 0,
        upserted: None,
        after: None,
        before: None,
    };
    if matched.is_empty() {
        if upsert {
            let doc = spec.upsert_document(filter, now)?;
            check_document_size(&doc)?;
            txn.ensure_collection(ns)?;
            txn.insert(ns, &encode(&doc)?)?;
            outcome.upserted = doc.get("_id").cloned();
            outcome.after = Some(doc);
        }
        return Ok(outcome);
    }
    for m in matched {
        outcome.matched += 1;
        let mut doc = m.doc.clone();
        // Only an update with a `$` path needs the query re-run to learn the matched array element.
        let position = if spec.uses_positional() {
            matcher.matched_array_position(&m.doc)
        } else {
            None
        };
        let changed = spec.apply_at_position(
            &mut doc,
            ApplyContext {
                is_upsert_insert: false,
                now,
            },
            position,
        )?;
        if changed {
            check_document_size(&doc)?;
            txn.replace(ns, &encode(&doc)?)?;
            outcome.modified += 1;
        }
        outcome.before = Some(m.doc);
        outcome.after = Some(doc);
    }
    Ok(outcome)
}

#[async_trait]
impl Command for Update {
    fn names(&self) -> &'static [&'static str] {
        &["update"]
    }

    fn help(&self) -> &'static str {
        "update documents"
    }

    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let (ns, _) = target_namespace(req)?;
        let command = command_document(req)?;
        let ordered = optional_bool(&command, "ordered")?.unwrap_or(true);
        let statements = operations(&command, "updates", "update")?;
        let op_ctx = &*ctx.op_ctx;
        run_retryable(&self.0, &command, reply, || {
            let mut check = interrupt_check(op_ctx);
            let mut result = WriteResult {
                n_modified: Some(0),
                ..WriteResult::default()
            };
            let mut txn = self.0.engine.begin_write()?;
            for (index, statement) in statements.iter().enumerate() {
                match run_statement(txn.as_mut(), &ns, statement, &mut check) {
                    Ok(outcome) => {
                        result.n += outcome.matched;
                        if let Some(modified) = result.n_modified.as_mut() {
                            *modified += outcome.modified;
                        }
                        if let Some(id) = outcome.upserted {
                            result.n += 1;
                            result.upserted.push(doc! {"index": index as i32, "_id": id});
                        }
                    }
                    Err(status) => {
                        result.error(index, &status);
                        if ordered || status.code().is_interruption() {
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

fn run_statement(
    txn: &mut dyn WriteTxn,
    ns: &str,
    statement: &Document,
    check: &mut dyn FnMut() -> StatusResult<()>,
) -> StatusResult<UpdateOutcome> {
    let filter = match statement.get("q") {
        Some(Bson::Document(q)) => q.clone(),
        _ => {
            return Err(Status::new(
                ErrorCode::FailedToParse,
                "BSON field 'update.updates.q' is missing but a required field",
            ));
        }
    };
    let update = match statement.get("u") {
        Some(u @ (Bson::Document(_) | Bson::Array(_))) => u.clone(),
        _ => {
            return Err(Status::new(
                ErrorCode::FailedToParse,
                "BSON field 'update.updates.u' is missing but a required field",
            ));
        }
    };
    let upsert = optional_bool(statement, "upsert")?.unwrap_or(false);
    let multi = optional_bool(statement, "multi")?.unwrap_or(false);
    let filters = array_filters(statement, "update.updates.arrayFilters")?;
    update_one_statement(txn, ns, &filter, &update, &filters, upsert, multi, None, check)
}
