//! Legacy OP_QUERY: parsed only for the handshake of drivers that still open with it (`isMaster` on
//! `admin.$cmd`), as mongod does.

use std::ops::Range;

use bson::{Document, RawBsonRef, RawDocument};
use bytes::{BufMut, Bytes};

use crate::header::OpCode;
use crate::limits::HEADER_LEN;
use crate::message::{Message, patch_length, start_buffer};
use crate::op_msg_builder::write_document;
use crate::reader::{Reader, invalid_bson};
use crate::{ErrorCode, Status, StatusResult};

/// OP_QUERY flag bits (only carried through; mongod ignores them for commands).
pub mod query_flags {
    /// The cursor is tailable.
    pub const TAILABLE_CURSOR: i32 = 1 << 1;
    /// Reads from a secondary are allowed (the legacy `slaveOk`).
    pub const SECONDARY_OK: i32 = 1 << 2;
    /// The cursor does not time out.
    pub const NO_CURSOR_TIMEOUT: i32 = 1 << 4;
    /// Wait for data on a tailable cursor.
    pub const AWAIT_DATA: i32 = 1 << 5;
    /// Stream all results.
    pub const EXHAUST: i32 = 1 << 6;
    /// Partial results from a sharded cluster are acceptable.
    pub const PARTIAL: i32 = 1 << 7;
}

/// A parsed OP_QUERY, borrowing from its message.
#[derive(Clone)]
pub struct OpQuery {
    buf: Bytes,
    flags: i32,
    full_collection_name: Range<usize>,
    number_to_skip: i32,
    number_to_return: i32,
    query: Range<usize>,
    projection: Option<Range<usize>>,
}

impl OpQuery {
    /// Parses an OP_QUERY: flags, fullCollectionName, numberToSkip, numberToReturn, query, optional
    /// returnFieldsSelector. Truncated fields are Overflow 15, bad documents InvalidBSON 22.
    pub fn parse(message: &Message) -> StatusResult<OpQuery> {
        if message.op_code() != OpCode::Query {
            return Err(Status::new(
                ErrorCode::BadValue,
                format!("{} is not an OP_QUERY", message.op_code()),
            ));
        }
        let mut r = Reader::new(message.data());
        let at = |r: &Reader<'_>| HEADER_LEN + r.position();
        let flags = r.i32("OP_QUERY flags")?;
        let ns_start = at(&r);
        let ns = r.cstr("OP_QUERY fullCollectionName")?;
        let full_collection_name = ns_start..ns_start + ns.len();
        let number_to_skip = r.i32("OP_QUERY numberToSkip")?;
        let number_to_return = r.i32("OP_QUERY numberToReturn")?;
        let q_start = at(&r);
        let query = r.document("OP_QUERY query")?;
        let query = q_start..q_start + query.as_bytes().len();
        let projection = if r.at_eof() {
            None
        } else {
            let p_start = at(&r);
            let p = r.document("OP_QUERY returnFieldsSelector")?;
            Some(p_start..p_start + p.as_bytes().len())
        };
        if !r.at_eof() {
            return Err(invalid_bson("OP_QUERY", "trailing bytes after the last document"));
        }
        Ok(OpQuery {
            buf: message.as_bytes().clone(),
            flags,
            full_collection_name,
            number_to_skip,
            number_to_return,
            query,
            projection,
        })
    }

    /// The flags word.
    pub fn flags(&self) -> i32 {
        self.flags
    }

    /// `db.collection`, e.g. `admin.$cmd` for a command.
    pub fn full_collection_name(&self) -> &str {
        std::str::from_utf8(&self.buf[self.full_collection_name.clone()]).unwrap_or_default()
    }

    /// The database part of the namespace.
    pub fn database(&self) -> &str {
        let ns = self.full_collection_name();
        ns.split_once('.').map_or(ns, |(db, _)| db)
    }

    /// Whether this is a command (`<db>.$cmd`).
    pub fn is_command(&self) -> bool {
        self.full_collection_name().ends_with(".$cmd")
    }

    /// numberToSkip.
    pub fn number_to_skip(&self) -> i32 {
        self.number_to_skip
    }

    /// numberToReturn.
    pub fn number_to_return(&self) -> i32 {
        self.number_to_return
    }

    /// The query document as sent.
    pub fn query(&self) -> &RawDocument {
        doc_at(&self.buf, self.query.clone())
    }

    /// The returnFieldsSelector, if one was sent.
    pub fn projection(&self) -> Option<&RawDocument> {
        self.projection.clone().map(|r| doc_at(&self.buf, r))
    }

    /// The command document: the query, or its `$query`/`query` field when the driver wrapped it (as
    /// it does to add `$readPreference`).
    pub fn command(&self) -> &RawDocument {
        let query = self.query();
        let wrapped = match query.iter().next() {
            Some(Ok((key, _))) if key.as_str() == "$query" => query.get("$query"),
            Some(Ok((key, _))) if key.as_str() == "query" => query.get("query"),
            _ => return query,
        };
        match wrapped {
            Ok(Some(RawBsonRef::Document(inner))) => inner,
            _ => query,
        }
    }

    /// The command name: the command document's first key (BadValue if it is empty).
    pub fn command_name(&self) -> StatusResult<&str> {
        match self.command().iter().next() {
            Some(Ok((name, _))) => Ok(name.as_str()),
            Some(Err(e)) => Err(invalid_bson("OP_QUERY query", e)),
            None => Err(Status::new(ErrorCode::BadValue, "Empty command object")),
        }
    }
}

impl std::fmt::Debug for OpQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpQuery")
            .field("flags", &self.flags)
            .field("full_collection_name", &self.full_collection_name())
            .field("query", &self.query())
            .finish()
    }
}

fn doc_at(buf: &Bytes, range: Range<usize>) -> &RawDocument {
    // Every stored range was validated by `RawDocument::from_bytes` during parse.
    RawDocument::from_bytes(&buf[range]).unwrap_or_else(|_| crate::op_msg::empty_document())
}

/// Builds an OP_QUERY (for the egress handshake with old servers and for tests).
pub fn build_op_query(
    flags: i32,
    full_collection_name: &str,
    number_to_skip: i32,
    number_to_return: i32,
    query: &Document,
) -> StatusResult<Message> {
    let mut buf = start_buffer(OpCode::Query, 128);
    buf.put_i32_le(flags);
    buf.put_slice(full_collection_name.as_bytes());
    buf.put_u8(0);
    buf.put_i32_le(number_to_skip);
    buf.put_i32_le(number_to_return);
    write_document(&mut buf, query)?;
    patch_length(&mut buf);
    Ok(Message::from_built(buf))
}
