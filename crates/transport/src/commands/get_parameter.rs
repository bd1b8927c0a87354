//! `getParameter`: server parameters by name, or all of them with `getParameter: "*"`; an unknown
//! name alone is InvalidOptions "no option found to get", as in mongod.

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};

use crate::command::{Command, CommandRequest};
use crate::commands::util::{require_admin, truthy};
use crate::service_entry_point::RequestContext;

/// The getParameter command.
pub struct GetParameter {
    parameters: Document,
}

impl GetParameter {
    /// The built-in parameters, overridden and extended by `extra`.
    pub fn new(extra: Document) -> GetParameter {
        let mut parameters = doc! {
            "featureCompatibilityVersion": {"version": "8.0"},
            "cursorTimeoutMillis": 600_000_i64,
            "localLogicalSessionTimeoutMinutes": 30,
            "logLevel": 0,
            "quiet": false,
            "transactionLifetimeLimitSeconds": 60,
        };
        parameters.extend(extra);
        // getParameter "*" lists them in name order, as mongod's map does.
        let mut sorted: Vec<(String, Bson)> = parameters.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        GetParameter {
            parameters: sorted.into_iter().collect(),
        }
    }
}

#[async_trait]
impl Command for GetParameter {
    fn names(&self) -> &'static [&'static str] {
        &["getParameter"]
    }

    fn help(&self) -> &'static str {
        "get administrative option(s)\nexample:\n{ getParameter:1, notablescan:1 }\npass a document \
         as the value for getParameter to request options\nexample:\n\
         { getParameter:{showDetails: true}, notablescan:1 }\n{ getParameter:'*' }"
    }

    async fn run(
        &self,
        _ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        require_admin(request)?;
        let cmd = request.merged()?;
        let (all, show_details) = match cmd.get("getParameter") {
            Some(Bson::String(s)) => (s == "*", false),
            Some(Bson::Document(opts)) => (
                opts.get("allParameters").is_some_and(truthy),
                opts.get("showDetails").is_some_and(truthy),
            ),
            _ => (false, false),
        };
        let mut body = Document::new();
        for (name, value) in &self.parameters {
            if all || cmd.contains_key(name) {
                let shown = if show_details {
                    Bson::Document(doc! {
                        "value": value.clone(),
                        "settableAtRuntime": true,
                        "settableAtStartup": true,
                    })
                } else {
                    value.clone()
                };
                body.insert(name, shown);
            }
        }
        if body.is_empty() {
            return Err(Status::new(ErrorCode::InvalidOptions, "no option found to get"));
        }
        body.insert("ok", 1.0);
        reply.set_command_reply(body);
        Ok(())
    }
}
