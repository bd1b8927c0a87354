//! `Status`: an error as a value, carrying a mongod error code, a reason, and optional reply extras.

use std::fmt;

use bson::{Bson, Document, doc};

use crate::ErrorCode;

/// The result of an operation that fails with a mongod-shaped error.
pub type StatusResult<T> = Result<T, Status>;

/// A failed outcome: an [`ErrorCode`], a human-readable reason (`errmsg`), and optional extras that go
/// into the error reply (mongod's ErrorExtraInfo fields and `errorLabels`).
#[derive(Clone, PartialEq)]
pub struct Status {
    code: ErrorCode,
    reason: String,
    // Boxed so the common case (no extras) keeps `Status` two words plus a string.
    extras: Option<Box<Extras>>,
}

#[derive(Clone, PartialEq, Default)]
struct Extras {
    extra_info: Document,
    error_labels: Vec<String>,
}

impl Status {
    /// A status with `code` and `reason`.
    pub fn new(code: impl Into<ErrorCode>, reason: impl Into<String>) -> Status {
        Status {
            code: code.into(),
            reason: reason.into(),
            extras: None,
        }
    }

    /// The error code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The reason, reported as `errmsg`.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The extra fields mongod adds to this error's reply (for example `keyPattern` and `keyValue` for
    /// DuplicateKey), empty when there are none.
    pub fn extra_info(&self) -> Option<&Document> {
        self.extras
            .as_ref()
            .map(|e| &e.extra_info)
            .filter(|d| !d.is_empty())
    }

    /// The `errorLabels` this error carries.
    pub fn error_labels(&self) -> &[String] {
        self.extras
            .as_ref()
            .map(|e| e.error_labels.as_slice())
            .unwrap_or(&[])
    }

    /// Adds fields that the error reply carries beside `errmsg`, `code` and `codeName`.
    pub fn with_extra_info(mut self, info: Document) -> Status {
        let extras = self.extras.get_or_insert_with(Box::default);
        extras.extra_info.extend(info);
        self
    }

    /// Adds an error label (e.g. `RetryableWriteError`); a label already present is not repeated.
    pub fn with_error_label(mut self, label: impl Into<String>) -> Status {
        let label = label.into();
        let extras = self.extras.get_or_insert_with(Box::default);
        if !extras.error_labels.contains(&label) {
            extras.error_labels.push(label);
        }
        self
    }

    /// A copy of this status with `context` prepended to the reason, as mongod's `withContext`.
    pub fn with_context(mut self, context: impl fmt::Display) -> Status {
        self.reason = format!("{context} :: caused by :: {}", self.reason);
        self
    }

    /// The error reply mongod sends for this status: `{ok: 0.0, errmsg, code, codeName, ...extras,
    /// errorLabels?}`.
    pub fn to_reply_document(&self) -> Document {
        let mut reply = doc! {
            "ok": 0.0,
            "errmsg": self.reason.as_str(),
            "code": self.code.code(),
            "codeName": self.code.code_name(),
        };
        if let Some(extras) = &self.extras {
            for (key, value) in &extras.extra_info {
                reply.insert(key.clone(), value.clone());
            }
            if !extras.error_labels.is_empty() {
                let labels = extras
                    .error_labels
                    .iter()
                    .map(|l| Bson::String(l.clone()))
                    .collect();
                reply.insert("errorLabels", Bson::Array(labels));
            }
        }
        reply
    }

    /// Reads a status from a command reply: `None` when `ok` is truthy, else the error it reports.
    pub fn from_reply_document(reply: &Document) -> Option<Status> {
        if reply.get("ok").is_some_and(is_truthy) {
            return None;
        }
        let code = reply
            .get("code")
            .and_then(number_as_i32)
            .unwrap_or(ErrorCode::UnknownError.code());
        let reason = reply.get_str("errmsg").unwrap_or("unknown error");
        let mut status = Status::new(code, reason);
        if let Ok(labels) = reply.get_array("errorLabels") {
            for label in labels.iter().filter_map(Bson::as_str) {
                status = status.with_error_label(label);
            }
        }
        Some(status)
    }
}

/// Whether a reply's `ok` value counts as success (a non-zero number or `true`), as drivers read it.
pub(crate) fn is_truthy(value: &Bson) -> bool {
    match value {
        Bson::Boolean(b) => *b,
        Bson::Double(d) => *d != 0.0,
        Bson::Int32(i) => *i != 0,
        Bson::Int64(i) => *i != 0,
        _ => false,
    }
}

fn number_as_i32(value: &Bson) -> Option<i32> {
    match value {
        Bson::Int32(i) => Some(*i),
        Bson::Int64(i) => i32::try_from(*i).ok(),
        Bson::Double(d) if d.fract() == 0.0 && d.abs() <= f64::from(i32::MAX) => Some(*d as i32),
        _ => None,
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.code, self.reason)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.reason)
    }
}

impl std::error::Error for Status {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_reply_has_mongod_shape() {
        let status = Status::new(ErrorCode::CommandNotFound, "no such command: 'foo'");
        assert_eq!(
            status.to_reply_document(),
            doc! {"ok": 0.0, "errmsg": "no such command: 'foo'", "code": 59, "codeName": "CommandNotFound"}
        );
    }

    #[test]
    fn extras_and_labels_follow_code_name() {
        let status = Status::new(ErrorCode::DuplicateKey, "E11000 duplicate key error")
            .with_extra_info(doc! {"keyPattern": {"_id": 1}, "keyValue": {"_id": 1}})
            .with_error_label("RetryableWriteError")
            .with_error_label("RetryableWriteError");
        let reply = status.to_reply_document();
        let keys: Vec<&str> = reply.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "ok",
                "errmsg",
                "code",
                "codeName",
                "keyPattern",
                "keyValue",
                "errorLabels"
            ]
        );
        assert_eq!(reply.get_array("errorLabels").unwrap().len(), 1);
    }

    #[test]
    fn reply_round_trips_through_status() {
        let status = Status::new(11601, "operation was interrupted").with_error_label("X");
        let back = Status::from_reply_document(&status.to_reply_document()).unwrap();
        assert_eq!(back.code(), ErrorCode::Interrupted);
        assert_eq!(back.reason(), "operation was interrupted");
        assert_eq!(back.error_labels(), ["X"]);
        assert!(Status::from_reply_document(&doc! {"ok": 1}).is_none());
    }

    #[test]
    fn context_is_prepended() {
        let s = Status::new(ErrorCode::BadValue, "x").with_context("while parsing");
        assert_eq!(s.reason(), "while parsing :: caused by :: x");
    }
}
