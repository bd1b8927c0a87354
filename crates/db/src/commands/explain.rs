//! `explain` of find, count, delete and update (the plan their filter gets: IDHACK, IXSCAN or COLLSCAN),
//! and of aggregate (the pipeline's first $match plan and its stages).

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};
use docwire_transport::{Command, CommandRequest, RequestContext};

use super::context::DbDeps;
use super::plan::choose_plan;
use super::util::command_document;
use crate::query::matcher::Matcher;

/// The explain command.
pub struct Explain(pub DbDeps);

#[async_trait]
impl Command for Explain {
    fn names(&self) -> &'static [&'static str] {
        &["explain"]
    }

    fn help(&self) -> &'static str {
        "explain how a command would run"
    }

    async fn run(
        &self,
        _: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let command = command_document(req)?;
        let Some(Bson::Document(inner)) = command.get("explain") else {
            return Err(Status::new(
                ErrorCode::FailedToParse,
                "explain command requires a nested object",
            ));
        };
        let Some((name, Bson::String(coll))) = inner.iter().next() else {
            return Err(Status::new(
                ErrorCode::FailedToParse,
                "explain: the explained command must name a collection",
            ));
        };
        let ns = format!("{}.{coll}", req.database);
        let filter = explained_filter(name, inner)?;
        let matcher = Matcher::parse(&filter)?;
        let read = self.0.engine.begin_read()?;
        let plan = choose_plan(read.as_ref(), &ns, &matcher, inner.get("hint"))?;
        let mut planner = doc! {
            "namespace": &ns,
            "parsedQuery": filter,
            "winningPlan": plan.explain(),
            "rejectedPlans": [],
        };
        if name == "aggregate" {
            planner.insert(
                "pipeline",
                inner.get("pipeline").cloned().unwrap_or(Bson::Array(Vec::new())),
            );
        }
        let mut command_echo = inner.clone();
        command_echo.insert("$db", req.database);
        reply.set_command_reply(doc! {
            "explainVersion": "1",
            "queryPlanner": planner,
            "command": command_echo,
            "serverInfo": {"host": "localhost", "version": docwire_transport::commands::SERVER_VERSION},
            "ok": 1.0,
        });
        Ok(())
    }
}

/// The filter the explained command runs with.
fn explained_filter(name: &str, inner: &Document) -> StatusResult<Document> {
    let get = |field: &str| inner.get_document(field).ok().cloned().unwrap_or_default();
    Ok(match name {
        "find" => get("filter"),
        "count" | "distinct" => get("query"),
        "findAndModify" | "findandmodify" => get("query"),
        "aggregate" => match inner.get_array("pipeline").ok().and_then(|p| p.first()) {
            Some(Bson::Document(stage)) => stage.get_document("$match").ok().cloned().unwrap_or_default(),
            _ => Document::new(),
        },
        "delete" => first_statement(inner, "deletes"),
        "update" => first_statement(inner, "updates"),
        other => {
            return Err(Status::new(
                ErrorCode::CommandNotFound,
                format!("Explain failed due to unknown command: {other}"),
            ));
        }
    })
}

fn first_statement(inner: &Document, field: &str) -> Document {
    match inner.get_array(field).ok().and_then(|a| a.first()) {
        Some(Bson::Document(statement)) => statement.get_document("q").ok().cloned().unwrap_or_default(),
        _ => Document::new(),
    }
}
