//! `currentOp`: the live operations (`inprog`), with idle connections when `$all` is true and mongod's
//! simple filter: every other top-level field must equal the report's value at that (dotted) path.

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use docwire_rpc::{ReplyBuilder, StatusResult};

use crate::command::{Command, CommandRequest};
use crate::commands::util::{require_admin, truthy};
use crate::service_entry_point::RequestContext;

/// Fields of the command that are options, not filters.
const OPTIONS: &[&str] = &[
    "currentOp",
    "comment",
    "maxTimeMS",
    "lsid",
    "apiVersion",
    "apiStrict",
];

/// The currentOp command.
pub struct CurrentOp;

#[async_trait]
impl Command for CurrentOp {
    fn names(&self) -> &'static [&'static str] {
        &["currentOp"]
    }

    fn help(&self) -> &'static str {
        "list the operations in progress: { currentOp: 1, $all: <bool>, <field>: <value>, ... }"
    }

    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        require_admin(request)?;
        let cmd = request.merged()?;
        let include_idle = cmd.get("$all").is_some_and(truthy);
        let filters: Vec<(&String, &Bson)> = cmd
            .iter()
            .filter(|(k, _)| !k.starts_with('$') && !OPTIONS.contains(&k.as_str()))
            .collect();
        let inprog: Vec<Bson> = ctx
            .op_ctx
            .service_context()
            .current_op(include_idle)
            .into_iter()
            .filter(|report| {
                filters
                    .iter()
                    .all(|(path, want)| lookup(report, path) == Some(*want))
            })
            .map(Bson::Document)
            .collect();
        reply.set_command_reply(doc! {"inprog": inprog, "ok": 1.0});
        Ok(())
    }
}

/// The value at a dotted path.
fn lookup<'d>(doc: &'d Document, path: &str) -> Option<&'d Bson> {
    let (head, rest) = match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    let value = doc.get(head)?;
    match (rest, value) {
        (None, v) => Some(v),
        (Some(rest), Bson::Document(inner)) => lookup(inner, rest),
        _ => None,
    }
}
