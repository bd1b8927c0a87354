//! currentOp and killOp: mongod's `inprog` report of live operations, and killing one by opid.

use bson::{Bson, Document, doc};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::client::Client;
use crate::operation_context::{OperationHandle, OperationId};
use crate::recorded_command::RecordedCommand;
use crate::service_context::ServiceContext;

/// mongod's limit on the `command` shown in currentOp, in BSON bytes; larger ones are truncated.
pub const MAX_CURRENT_OP_COMMAND_BYTES: usize = 1000;

/// The kind of operation, reported as currentOp's `op` with mongod's names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogicalOp {
    /// Nothing recorded yet (`none`).
    #[default]
    None,
    /// A command (`command`).
    Command,
    /// A legacy query (`query`).
    Query,
    /// An update (`update`).
    Update,
    /// An insert (`insert`).
    Insert,
    /// A delete (`remove`).
    Remove,
    /// A getMore (`getmore`).
    GetMore,
    /// A killCursors (`killcursors`).
    KillCursors,
}

impl LogicalOp {
    /// How mongod classifies a command by its name (currentOp's `op`, opcounters).
    pub fn of_command(name: &str) -> LogicalOp {
        match name {
            "insert" => LogicalOp::Insert,
            "find" => LogicalOp::Query,
            "update" | "findAndModify" | "findandmodify" => LogicalOp::Update,
            "delete" => LogicalOp::Remove,
            "getMore" => LogicalOp::GetMore,
            "killCursors" => LogicalOp::KillCursors,
            _ => LogicalOp::Command,
        }
    }

    /// mongod's name for this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            LogicalOp::None => "none",
            LogicalOp::Command => "command",
            LogicalOp::Query => "query",
            LogicalOp::Update => "update",
            LogicalOp::Insert => "insert",
            LogicalOp::Remove => "remove",
            LogicalOp::GetMore => "getmore",
            LogicalOp::KillCursors => "killcursors",
        }
    }
}

impl ServiceContext {
    /// mongod's `inprog` documents: one per Client running an operation, and with `include_idle` one
    /// (`active: false`) per Client without one.
    pub fn current_op(&self, include_idle: bool) -> Vec<Document> {
        let now = self.now();
        let mut inprog = Vec::new();
        for client in self.clients() {
            let locked = client.lock();
            let operation = locked.operation().cloned();
            if operation.is_none() && !include_idle {
                continue;
            }
            let mut report = doc! { "type": "op" };
            report.insert("desc", client.description());
            report.insert("connectionId", connection_id(&client));
            if let Some(remote) = client.remote_address() {
                report.insert("client", remote);
            }
            if let Some(metadata) = locked.metadata() {
                if let Some(app_name) = metadata.app_name() {
                    report.insert("appName", app_name);
                }
                report.insert("clientMetadata", metadata.document().clone());
            }
            drop(locked);
            report.insert("active", operation.is_some());
            if let Some(operation) = operation {
                append_operation(&mut report, &operation, now);
            }
            inprog.push(report);
        }
        inprog
    }

    /// The currentOp command's reply: `{inprog: [...], ok: 1}`.
    pub fn current_op_reply(&self, include_idle: bool) -> Document {
        let inprog: Vec<Bson> = self
            .current_op(include_idle)
            .into_iter()
            .map(Bson::Document)
            .collect();
        doc! { "inprog": inprog, "ok": 1.0 }
    }

    /// Runs `{killOp: 1, op: <opid>}`: kills that operation with Interrupted and answers
    /// `{info: "attempting to kill op", ok: 1}` — also for an opid that is not running, as mongod does.
    pub fn kill_op_command(&self, command: &Document) -> StatusResult<Document> {
        let opid = match command.get("op") {
            Some(Bson::Int32(n)) => i64::from(*n),
            Some(Bson::Int64(n)) => *n,
            Some(Bson::Double(d)) if d.fract() == 0.0 => *d as i64,
            Some(_) => {
                return Err(Status::new(
                    ErrorCode::TypeMismatch,
                    "killOp: 'op' must be a number",
                ));
            }
            None => return Err(Status::new(ErrorCode::BadValue, "Did not provide \"op\" field")),
        };
        if let Ok(opid) = u32::try_from(opid) {
            self.kill_operation_by_id(OperationId::from(opid), ErrorCode::Interrupted);
        }
        Ok(doc! { "info": "attempting to kill op", "ok": 1.0 })
    }
}

fn connection_id(client: &Client) -> Bson {
    match i32::try_from(client.connection_id()) {
        Ok(id) => Bson::Int32(id),
        Err(_) => Bson::Int64(i64::try_from(client.connection_id()).unwrap_or(i64::MAX)),
    }
}

fn append_operation(report: &mut Document, operation: &OperationHandle, now: crate::ClockTime) {
    let running = now.saturating_duration_since(operation.start_time());
    report.insert("opid", i64::from(operation.id().as_u32()));
    if operation.kill_code().is_some() {
        report.insert("killPending", true);
    }
    report.insert(
        "secs_running",
        i64::try_from(running.as_secs()).unwrap_or(i64::MAX),
    );
    report.insert(
        "microsecs_running",
        i64::try_from(running.as_micros()).unwrap_or(i64::MAX),
    );
    let command = {
        let description = operation.description();
        report.insert("op", description.logical_op.as_str());
        report.insert("ns", description.namespace.as_str());
        description.command.clone()
    };
    // Decoded here, outside the operation's lock: recording it cost the operation only a reference.
    report.insert("command", shown_command(command.as_ref()));
}

/// The recorded command as currentOp shows it: decoded and redacted, then truncated.
fn shown_command(command: Option<&RecordedCommand>) -> Document {
    match command {
        Some(command) => truncated_command(command.to_document()),
        None => Document::new(),
    }
}

/// The command as currentOp shows it: whole up to 1,000 BSON bytes (measured after redaction), else
/// mongod's `{"$truncated": <its text cut to 1,000 bytes>, comment?}`.
fn truncated_command(command: Document) -> Document {
    let size = command.to_vec().map(|bytes| bytes.len()).unwrap_or(usize::MAX);
    if size <= MAX_CURRENT_OP_COMMAND_BYTES {
        return command;
    }
    let text = command.to_string();
    let mut end = MAX_CURRENT_OP_COMMAND_BYTES.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut truncated = doc! { "$truncated": &text[..end] };
    if let Some(comment) = command.get("comment") {
        truncated.insert("comment", comment.clone());
    }
    truncated
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn blank_pwd(command: &mut Document) {
        if command.contains_key("pwd") {
            command.insert("pwd", "###");
        }
    }

    #[test]
    fn small_commands_are_shown_whole_and_large_ones_truncated() {
        let small = doc! {"find": "c", "filter": {"a": 1}};
        assert_eq!(shown_command(Some(&RecordedCommand::from(&small))), small);
        let large = doc! {"insert": "c", "documents": ["é".repeat(800)], "comment": "bulk"};
        let shown = shown_command(Some(&RecordedCommand::from(&large)));
        let text = shown.get_str("$truncated").unwrap();
        assert!(text.len() <= MAX_CURRENT_OP_COMMAND_BYTES && text.len() >= MAX_CURRENT_OP_COMMAND_BYTES - 3);
        assert!(text.starts_with("{ \"insert\": \"c\""));
        assert_eq!(shown.get_str("comment").unwrap(), "bulk");
        assert_eq!(shown_command(None), doc! {});
    }

    #[test]
    fn the_limit_applies_to_the_redacted_command() {
        // Over the limit as received, under it once the password is blanked: shown whole, redacted.
        let command = doc! {"createUser": "u", "pwd": "p".repeat(1_200), "comment": "c"};
        let recorded = RecordedCommand::from(&command).with_redaction(blank_pwd);
        assert!(recorded.len() > MAX_CURRENT_OP_COMMAND_BYTES);
        assert_eq!(
            shown_command(Some(&recorded)),
            doc! {"createUser": "u", "pwd": "###", "comment": "c"}
        );
        // Truncated text is cut from the redacted form too.
        let large = doc! {"createUser": "u", "pwd": "secret", "roles": ["r".repeat(1_200)]};
        let shown = shown_command(Some(&RecordedCommand::from(&large).with_redaction(blank_pwd)));
        let text = shown.get_str("$truncated").unwrap();
        assert!(text.contains("\"###\"") && !text.contains("secret"), "{text}");
    }
}
