//! Legacy OP_REPLY: the answer to an OP_QUERY handshake, and its parser for the egress client.

use std::ops::Range;

use bson::{Document, RawDocument};
use bytes::{BufMut, Bytes};

use crate::header::OpCode;
use crate::limits::HEADER_LEN;
use crate::message::{Message, patch_length, start_buffer};
use crate::reader::Reader;
use crate::{ErrorCode, Status, StatusResult};

/// OP_REPLY responseFlags bits.
pub mod reply_flags {
    /// The getMore's cursor id was not found.
    pub const CURSOR_NOT_FOUND: i32 = 1;
    /// The query failed; the one document is `{$err: ...}`.
    pub const QUERY_FAILURE: i32 = 1 << 1;
    /// The server supports the AwaitData option (mongod always sets it).
    pub const AWAIT_CAPABLE: i32 = 1 << 3;
}

/// Builds an OP_REPLY carrying `documents`; ids are set by the sender.
pub fn build_op_reply<'d>(
    response_flags: i32,
    cursor_id: i64,
    starting_from: i32,
    documents: impl IntoIterator<Item = &'d RawDocument>,
) -> Message {
    let mut buf = start_buffer(OpCode::Reply, 256);
    buf.put_i32_le(response_flags);
    buf.put_i64_le(cursor_id);
    buf.put_i32_le(starting_from);
    let count_at = buf.len();
    buf.put_i32_le(0);
    let mut count: i32 = 0;
    for doc in documents {
        buf.put_slice(doc.as_bytes());
        count += 1;
    }
    buf[count_at..count_at + 4].copy_from_slice(&count.to_le_bytes());
    patch_length(&mut buf);
    Message::from_built(buf)
}

/// A parsed OP_REPLY.
#[derive(Clone, Debug)]
pub struct OpReply {
    buf: Bytes,
    /// responseFlags.
    pub response_flags: i32,
    /// The cursor id (0 for a command reply).
    pub cursor_id: i64,
    /// startingFrom.
    pub starting_from: i32,
    documents: Vec<Range<usize>>,
}

impl OpReply {
    /// Parses an OP_REPLY; numberReturned must match the documents present.
    pub fn parse(message: &Message) -> StatusResult<OpReply> {
        if message.op_code() != OpCode::Reply {
            return Err(Status::new(
                ErrorCode::BadValue,
                format!("{} is not an OP_REPLY", message.op_code()),
            ));
        }
        let mut r = Reader::new(message.data());
        let response_flags = r.i32("OP_REPLY responseFlags")?;
        let cursor_id = r.i64("OP_REPLY cursorID")?;
        let starting_from = r.i32("OP_REPLY startingFrom")?;
        let number_returned = r.i32("OP_REPLY numberReturned")?;
        let mut documents = Vec::new();
        while !r.at_eof() {
            let start = HEADER_LEN + r.position();
            let doc = r.document("OP_REPLY documents")?;
            documents.push(start..start + doc.as_bytes().len());
        }
        if usize::try_from(number_returned).ok() != Some(documents.len()) {
            return Err(Status::new(
                ErrorCode::ProtocolError,
                format!(
                    "OP_REPLY numberReturned {number_returned} but {} documents",
                    documents.len()
                ),
            ));
        }
        Ok(OpReply {
            buf: message.as_bytes().clone(),
            response_flags,
            cursor_id,
            starting_from,
            documents,
        })
    }

    /// The returned documents.
    pub fn documents(&self) -> impl Iterator<Item = &RawDocument> {
        self.documents.iter().map(|r| {
            RawDocument::from_bytes(&self.buf[r.clone()]).unwrap_or_else(|_| crate::op_msg::empty_document())
        })
    }

    /// The single document of a command reply, decoded.
    pub fn command_reply(&self) -> StatusResult<Document> {
        let mut docs = self.documents();
        match (docs.next(), docs.next()) {
            (Some(doc), None) => Document::try_from(doc)
                .map_err(|e| Status::new(ErrorCode::InvalidBSON, format!("invalid OP_REPLY document: {e}"))),
            _ => Err(Status::new(
                ErrorCode::ProtocolError,
                format!(
                    "a command OP_REPLY must hold one document, not {}",
                    self.documents.len()
                ),
            )),
        }
    }
}
