//! Reply builders: a command reply body, OP_MSG document sequences, mongod's status augmentation, and
//! the next invocation that drives an exhaust stream.

use bson::{Document, RawBsonRef, RawDocument, RawDocumentBuf};
use bytes::BytesMut;

use crate::op_msg_builder::{DocumentSequenceBuilder, OpMsgBuilder};
use crate::op_msg_flags::OpMsgFlags;
use crate::op_reply::{build_op_reply, reply_flags};
use crate::status::is_truthy;
use crate::{ErrorCode, Message, Status, StatusResult};

/// The wire format of a reply, chosen by the request's opcode.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReplyProtocol {
    /// OP_MSG replies (to OP_MSG requests).
    OpMsg,
    /// OP_REPLY replies (to legacy OP_QUERY requests).
    OpReply,
}

/// Builds one command reply. The body is a document the handler fills (or sets whole); document
/// sequences (OP_MSG only) are written as they are built; `done` produces the message.
pub struct ReplyBuilder {
    protocol: ReplyProtocol,
    op_msg: OpMsgBuilder,
    body: Document,
    // An already-encoded body; when set it is the reply, and `body` is unused.
    raw_body: Option<RawDocumentBuf>,
    next_invocation: Option<Document>,
}

/// A finished reply: the message to send and, for exhaust, the command to run next.
#[derive(Debug)]
pub struct BuiltReply {
    /// The reply message (ids 0: the sender sets them).
    pub message: Message,
    /// The command the server runs next without a new request (exhaust), if any.
    pub next_invocation: Option<Document>,
}

impl ReplyBuilder {
    /// A builder for `protocol`.
    pub fn new(protocol: ReplyProtocol) -> ReplyBuilder {
        ReplyBuilder {
            protocol,
            op_msg: OpMsgBuilder::new(OpMsgFlags::NONE),
            body: Document::new(),
            raw_body: None,
            next_invocation: None,
        }
    }

    /// The protocol this builder writes.
    pub fn protocol(&self) -> ReplyProtocol {
        self.protocol
    }

    /// The body being built, for handlers that append fields one by one (turns a raw body into a
    /// decoded one first).
    pub fn body_mut(&mut self) -> &mut Document {
        if let Some(raw) = self.raw_body.take() {
            self.body = Document::try_from(raw.as_ref()).unwrap_or_default();
        }
        &mut self.body
    }

    /// Sets the whole reply body, adding `ok: 1.0` when the reply has no `ok` (mongod's augmentation:
    /// an `ok` already present is left as it is).
    pub fn set_command_reply(&mut self, mut reply: Document) {
        if !reply.contains_key("ok") {
            reply.insert("ok", 1.0);
        }
        self.body = reply;
        self.raw_body = None;
    }

    /// Sets an already-encoded reply body (no re-encoding), adding `ok: 1.0` when it has none.
    pub fn set_raw_command_reply(&mut self, mut reply: RawDocumentBuf) {
        if !matches!(reply.get("ok"), Ok(Some(_))) {
            reply.append(bson::cstr!("ok"), 1.0);
        }
        self.raw_body = Some(reply);
    }

    /// Sets the reply for a status: `{ok: 1.0}` for OK, else mongod's error shape. Sequences already
    /// begun are discarded, as an error reply carries none.
    pub fn set_command_status(&mut self, status: &Status) {
        self.reset_sequences();
        if status.code() == ErrorCode::OK {
            self.set_command_reply(Document::new());
        } else {
            self.body = status.to_reply_document();
            self.raw_body = None;
        }
    }

    /// Sets the reply from a handler's result.
    pub fn set_command_result(&mut self, result: Result<Document, Status>) {
        match result {
            Ok(doc) => self.set_command_reply(doc),
            Err(status) => self.set_command_status(&status),
        }
    }

    /// Begins a document sequence in the reply (OP_MSG only; 50875 for an OP_REPLY).
    pub fn begin_document_sequence(&mut self, identifier: &str) -> StatusResult<DocumentSequenceBuilder<'_>> {
        match self.protocol {
            ReplyProtocol::OpMsg => Ok(self.op_msg.begin_document_sequence(identifier)),
            ReplyProtocol::OpReply => Err(Status::new(50875, "Only OpMsg may use document sequences")),
        }
    }

    /// Asks the server to run `command` again after this reply (exhaust); honoured only when the
    /// request allowed exhaust.
    pub fn set_next_invocation(&mut self, command: Document) {
        self.next_invocation = Some(command);
    }

    /// The next invocation set so far.
    pub fn next_invocation(&self) -> Option<&Document> {
        self.next_invocation.as_ref()
    }

    /// Whether the body says the command succeeded.
    pub fn is_ok(&self) -> bool {
        match &self.raw_body {
            Some(raw) => {
                matches!(
                    raw.get("ok"),
                    Ok(Some(RawBsonRef::Double(d))) if d != 0.0
                ) || matches!(raw.get("ok"), Ok(Some(RawBsonRef::Int32(i))) if i != 0)
                    || matches!(raw.get("ok"), Ok(Some(RawBsonRef::Int64(i))) if i != 0)
                    || matches!(raw.get("ok"), Ok(Some(RawBsonRef::Boolean(true))))
            }
            None => self.body.get("ok").is_some_and(is_truthy),
        }
    }

    fn reset_sequences(&mut self) {
        self.op_msg = OpMsgBuilder::new(OpMsgFlags::NONE);
    }

    /// Finishes the reply message; a body built field by field without `ok` gets `ok: 1.0`.
    pub fn done(mut self) -> StatusResult<BuiltReply> {
        if self.raw_body.is_none() && !self.body.contains_key("ok") {
            self.body.insert("ok", 1.0);
        }
        let raw_owned;
        let body: &RawDocument = match &self.raw_body {
            Some(raw) => raw,
            None => {
                raw_owned = RawDocumentBuf::try_from(&self.body)
                    .map_err(|e| Status::new(ErrorCode::BadValue, format!("cannot serialize reply: {e}")))?;
                &raw_owned
            }
        };
        let message = match self.protocol {
            ReplyProtocol::OpMsg => self.op_msg.finish_with_raw_body(body),
            ReplyProtocol::OpReply => build_op_reply(reply_flags::AWAIT_CAPABLE, 0, 0, [body]),
        };
        Ok(BuiltReply {
            message,
            next_invocation: self.next_invocation,
        })
    }
}

/// Sets or clears moreToCome on a built OP_MSG reply (exhaust streaming); other messages are unchanged.
pub fn set_more_to_come(message: &mut Message, more_to_come: bool) {
    if message.op_code() != crate::OpCode::Msg || message.data().len() < 4 {
        return;
    }
    let d = message.data();
    let flags = OpMsgFlags(u32::from_le_bytes([d[0], d[1], d[2], d[3]]));
    let flags = if more_to_come {
        flags.with(OpMsgFlags::MORE_TO_COME)
    } else {
        flags.without(OpMsgFlags::MORE_TO_COME)
    };
    let mut buf: BytesMut = message.make_mut();
    buf[16..20].copy_from_slice(&flags.0.to_le_bytes());
    message.replace(buf);
}
