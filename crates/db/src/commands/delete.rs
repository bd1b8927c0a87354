//! `delete`: each `{q, limit}` statement (limit 0 = all, 1 = one) removes its documents, in one write
//! transaction committed before the reply.

use async_trait::async_trait;
use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};
use docwire_transport::{Command, CommandRequest, RequestContext};

use super::context::{DbDeps, interrupt_check};
use super::plan::{choose_plan, collect};
use super::util::{command_document, optional_bool, optional_count, target_namespace};
use super::write_result::{WriteResult, operations, run_retryable};
use crate::query::matcher::Matcher;

/// The delete command.
pub struct Delete(pub DbDeps);

#[async_trait]
impl Command for Delete {
    fn names(&self) -> &'static [&'static str] {
        &["delete"]
    }

    fn help(&self) -> &'static str {
        "delete documents"
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
        let statements = operations(&command, "deletes", "delete")?;
        let op_ctx = &*ctx.op_ctx;
        run_retryable(&self.0, &command, reply, || {
            let mut check = interrupt_check(op_ctx);
            let mut result = WriteResult::default();
            let mut txn = self.0.engine.begin_write()?;
            for (index, statement) in statements.iter().enumerate() {
                let outcome = (|| -> StatusResult<i64> {
                    let filter = match statement.get("q") {
                        Some(Bson::Document(q)) => q.clone(),
                        _ => {
                            return Err(Status::new(
                                ErrorCode::FailedToParse,
                                "BSON field 'delete.deletes.q' is missing but a required field",
                            ));
                        }
                    };
                    let limit = match optional_count(statement, "limit")? {
                        Some(0) => None,
                        Some(1) => Some(1),
                        None => {
                            return Err(Status::new(
                                ErrorCode::FailedToParse,
                                "BSON field 'delete.deletes.limit' is missing but a required field",
                            ));
                        }
                        Some(other) => {
                            return Err(Status::new(
                                ErrorCode::FailedToParse,
                                format!("The limit field in delete objects must be 0 or 1. Got {other}"),
                            ));
                        }
                    };
                    delete_matching(txn.as_mut(), &ns, &filter, limit, &mut check)
                })();
                match outcome {
                    Ok(n) => result.n += n,
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

/// Deletes the documents `filter` matches (at most `limit`); returns how many.
pub fn delete_matching(
    txn: &mut dyn crate::storage::WriteTxn,
    ns: &str,
    filter: &Document,
    limit: Option<usize>,
    check: &mut dyn FnMut() -> StatusResult<()>,
) -> StatusResult<i64> {
    let matcher = Matcher::parse(filter)?;
    let plan = choose_plan(&*txn, ns, &matcher, None)?;
    let matched = collect(&*txn, ns, &plan, &matcher, limit, check)?;
    let mut n = 0;
    for m in matched {
        if let Some(id) = m.doc.get("_id")
            && txn.delete(ns, id)?
        {
            n += 1;
        }
    }
    Ok(n)
}
