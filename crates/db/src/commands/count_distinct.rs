//! `count` and `distinct`.

use async_trait::async_trait;
use bson::{Bson, doc};
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};
use docwire_transport::{Command, CommandRequest, RequestContext};

use super::context::{DbDeps, interrupt_check};
use super::plan::{choose_plan, collect};
use super::util::{command_document, optional_count, optional_document, target_namespace};
use crate::query::compare::bson_equal;
use crate::query::matcher::Matcher;
use crate::query::path::{Candidate, FieldPath, LeafArrays, candidates};

/// The count command.
pub struct Count(pub DbDeps);

#[async_trait]
impl Command for Count {
    fn names(&self) -> &'static [&'static str] {
        &["count"]
    }

    fn help(&self) -> &'static str {
        "count the documents matching a query"
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
        let skip = optional_count(&command, "skip")?.unwrap_or(0) as usize;
        let limit = optional_count(&command, "limit")?
            .filter(|l| *l > 0)
            .map(|l| l as usize);
        let matcher = Matcher::parse(&query)?;
        let read = self.0.engine.begin_read()?;
        let n = if matcher.is_empty() {
            // The stored count, as mongod answers a count without a query from collection metadata.
            read.collection_stats(&ns)?.count as usize
        } else {
            let plan = choose_plan(read.as_ref(), &ns, &matcher, command.get("hint"))?;
            let mut check = interrupt_check(ctx.op_ctx);
            collect(
                read.as_ref(),
                &ns,
                &plan,
                &matcher,
                limit.map(|l| l + skip),
                &mut check,
            )?
            .len()
        };
        let n = n.saturating_sub(skip);
        let n = limit.map_or(n, |l| n.min(l));
        reply.set_command_reply(doc! {"n": n as i64, "ok": 1.0});
        Ok(())
    }
}

/// The distinct command.
pub struct Distinct(pub DbDeps);

#[async_trait]
impl Command for Distinct {
    fn names(&self) -> &'static [&'static str] {
        &["distinct"]
    }

    fn help(&self) -> &'static str {
        "the distinct values of a field"
    }

    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let (ns, _) = target_namespace(req)?;
        let command = command_document(req)?;
        let key = match command.get("key") {
            Some(Bson::String(k)) => k.clone(),
            _ => {
                return Err(Status::new(
                    ErrorCode::FailedToParse,
                    "BSON field 'distinct.key' is missing but a required field",
                ));
            }
        };
        let query = optional_document(&command, "query")?.unwrap_or_default();
        let matcher = Matcher::parse(&query)?;
        let read = self.0.engine.begin_read()?;
        let plan = choose_plan(read.as_ref(), &ns, &matcher, None)?;
        let mut check = interrupt_check(ctx.op_ctx);
        let matched = collect(read.as_ref(), &ns, &plan, &matcher, None, &mut check)?;
        let path = FieldPath::new(&key);
        let mut values: Vec<Bson> = Vec::new();
        for m in &matched {
            // distinct unwinds arrays: each element is a value of its own.
            for candidate in candidates(&m.doc, &path, LeafArrays::Expand) {
                if let Candidate::Value { value, .. } = candidate {
                    if matches!(value, Bson::Array(_)) {
                        continue;
                    }
                    if !values.iter().any(|v| bson_equal(v, value)) {
                        values.push(value.clone());
                    }
                }
            }
        }
        values.sort_by(crate::query::compare::compare_bson);
        reply.set_command_reply(doc! {"values": values, "ok": 1.0});
        Ok(())
    }
}
