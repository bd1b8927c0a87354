//! `RecordedCommand`: the command an operation runs, kept as the request's raw BSON bytes (a shared slice
//! of the received message, so recording it is a reference-count increment) and decoded only when
//! something reads it, such as currentOp. Recording happens on every request; reading almost never.

use std::fmt;

use bson::{Document, RawDocument};
use bytes::Bytes;

/// A redaction applied to the decoded command before anyone sees it (the transport's blanking of
/// passwords and SASL payloads); a plain function so that recording stays allocation-free.
pub type Redaction = fn(&mut Document);

/// The command an operation runs, as raw BSON, with the redaction to apply once it is decoded.
#[derive(Clone, Default)]
pub struct RecordedCommand {
    bytes: Bytes,
    redaction: Option<Redaction>,
}

impl RecordedCommand {
    /// A command from its BSON bytes (for OP_MSG, `OpMsg::body_bytes`: no copy). The bytes are checked
    /// only when decoded; a command that does not decode reads as an empty document.
    pub fn new(bytes: Bytes) -> RecordedCommand {
        RecordedCommand {
            bytes,
            redaction: None,
        }
    }

    /// A command copied from a borrowed raw document (for requests whose bytes are not shared).
    pub fn from_raw(command: &RawDocument) -> RecordedCommand {
        RecordedCommand::new(Bytes::copy_from_slice(command.as_bytes()))
    }

    /// Blanks what `redaction` blanks whenever the command is decoded.
    pub fn with_redaction(mut self, redaction: Redaction) -> RecordedCommand {
        self.redaction = Some(redaction);
        self
    }

    /// The command's size in BSON bytes, as received.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The command decoded and redacted; an empty document when the bytes are not a valid document
    /// (a request that got this far parsed, so that is only reachable through [`new`](Self::new)).
    pub fn to_document(&self) -> Document {
        let mut command = RawDocument::from_bytes(&self.bytes)
            .ok()
            .and_then(|raw| Document::try_from(raw).ok())
            .unwrap_or_default();
        if let Some(redact) = self.redaction {
            redact(&mut command);
        }
        command
    }
}

impl From<&Document> for RecordedCommand {
    /// Encodes `command` (an empty record if it cannot be encoded); for callers that built one.
    fn from(command: &Document) -> RecordedCommand {
        RecordedCommand::new(command.to_vec().map(Bytes::from).unwrap_or_default())
    }
}

impl From<Document> for RecordedCommand {
    /// Encodes `command`; see the `&Document` conversion.
    fn from(command: Document) -> RecordedCommand {
        RecordedCommand::from(&command)
    }
}

impl fmt::Debug for RecordedCommand {
    /// The size and whether it is redacted, never the content: it may hold secrets until redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedCommand")
            .field("len", &self.bytes.len())
            .field("redacted", &self.redaction.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use bson::doc;

    fn blank_pwd(command: &mut Document) {
        if command.contains_key("pwd") {
            command.insert("pwd", "###");
        }
    }

    #[test]
    fn decodes_the_bytes_and_applies_the_redaction_when_read() {
        let command = doc! {"createUser": "u", "pwd": "secret", "comment": "c"};
        let recorded = RecordedCommand::from(&command);
        assert_eq!(recorded.len(), command.to_vec().unwrap().len());
        assert_eq!(recorded.to_document(), command);
        let redacted = recorded.with_redaction(blank_pwd).to_document();
        assert_eq!(redacted, doc! {"createUser": "u", "pwd": "###", "comment": "c"});
        assert!(!format!("{:?}", RecordedCommand::from(&command)).contains("secret"));
    }

    #[test]
    fn bytes_that_are_not_a_document_read_as_empty() {
        assert_eq!(
            RecordedCommand::new(Bytes::from_static(b"\x07\0\0\0")).to_document(),
            doc! {}
        );
        assert!(RecordedCommand::default().is_empty());
        assert_eq!(RecordedCommand::default().to_document(), doc! {});
    }
}
