//! OP_MSG parsing: a zero-copy view of a message's flags, body and document sequences.
//!
//! The parser follows mongod's `OpMsg::parse` check for check, with its error codes: the flags word
//! (Overflow 15, IllegalOpMsgFlag 223), the checksum's room (51252/51251) and value (ChecksumMismatch 288),
//! sections of kind 0 (one body; a second is 40430), kind 1 (at most two sequences, TooManyDocumentSequences
//! 233; a repeated identifier is 40431; an identifier also present in the body is 40433), kind 2 (a security
//! token: Unauthorized 13) and anything else (40432); no body is 40587; a document that runs past its
//! section is InvalidBSON 22 and a truncated section, name or flags word is Overflow 15.

use std::ops::Range;
use std::sync::LazyLock;

use bson::{Bson, Document, RawBsonRef, RawDocument, RawDocumentBuf};
use bytes::Bytes;

use crate::checksum::{CHECKSUM_LEN, crc32c_of};
use crate::header::OpCode;
use crate::limits::HEADER_LEN;
use crate::message::Message;
use crate::op_msg_flags::OpMsgFlags;
use crate::reader::{Reader, invalid_bson};
use crate::{ErrorCode, Status, StatusResult};

/// The most document sequences one OP_MSG may carry.
pub const MAX_DOCUMENT_SEQUENCES: usize = 2;

const SECTION_BODY: u8 = 0;
const SECTION_DOCUMENT_SEQUENCE: u8 = 1;
const SECTION_SECURITY_TOKEN: u8 = 2;

/// A parsed OP_MSG. It shares the message's buffer; every accessor borrows from it.
#[derive(Clone)]
pub struct OpMsg {
    buf: Bytes,
    flags: OpMsgFlags,
    body: Range<usize>,
    sequences: [SequenceIndex; MAX_DOCUMENT_SEQUENCES],
    sequence_count: usize,
}

#[derive(Clone, Default)]
struct SequenceIndex {
    identifier: Range<usize>,
    documents: Range<usize>,
    count: usize,
}

/// One kind-1 section: an identifier and the documents that follow it, borrowed from the message.
#[derive(Clone, Copy)]
pub struct DocumentSequence<'a> {
    identifier: &'a str,
    documents: &'a [u8],
    count: usize,
}

impl<'a> DocumentSequence<'a> {
    /// The sequence's identifier, e.g. `documents` for an insert.
    pub fn identifier(&self) -> &'a str {
        self.identifier
    }

    /// How many documents the sequence holds.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the sequence holds no documents.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The documents, in order, without copying.
    pub fn iter(&self) -> DocumentSequenceIter<'a> {
        DocumentSequenceIter { rest: self.documents }
    }
}

impl<'a> IntoIterator for DocumentSequence<'a> {
    type Item = &'a RawDocument;
    type IntoIter = DocumentSequenceIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl std::fmt::Debug for DocumentSequence<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentSequence")
            .field("identifier", &self.identifier)
            .field("len", &self.count)
            .finish()
    }
}

/// Iterates a document sequence's documents (validated when the message was parsed).
pub struct DocumentSequenceIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for DocumentSequenceIter<'a> {
    type Item = &'a RawDocument;
    fn next(&mut self) -> Option<&'a RawDocument> {
        let len = self
            .rest
            .get(..4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))? as usize;
        let doc = RawDocument::from_bytes(self.rest.get(..len)?).ok()?;
        self.rest = &self.rest[len..];
        Some(doc)
    }
}

impl OpMsg {
    /// Parses an OP_MSG message with mongod's checks and codes.
    pub fn parse(message: &Message) -> StatusResult<OpMsg> {
        if message.op_code() != OpCode::Msg {
            return Err(Status::new(
                ErrorCode::BadValue,
                format!("{} is not an OP_MSG", message.op_code()),
            ));
        }
        let data = message.data();
        let mut reader = Reader::new(data);
        let flags = OpMsgFlags(reader.u32("OP_MSG flags")?);
        if flags.has_unknown_required() {
            return Err(Status::new(
                ErrorCode::IllegalOpMsgFlag,
                format!("Message contains illegal flags value: Ob{:032b}", flags.0),
            ));
        }
        let mut sections_len = data.len() - 4;
        let mut checksum = None;
        if flags.checksum_present() {
            if data.len() <= CHECKSUM_LEN + 4 {
                return Err(Status::new(
                    51252,
                    "Invalid message size for an OpMsg containing a checksum",
                ));
            }
            let tail = &data[data.len() - CHECKSUM_LEN..];
            checksum = Some(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
            if sections_len <= CHECKSUM_LEN {
                return Err(Status::new(
                    51251,
                    "Invalid message size for an OpMsg containing a checksum",
                ));
            }
            sections_len -= CHECKSUM_LEN;
        }
        // Offsets below are into the whole message: header, then the flags word, then the sections.
        let base = HEADER_LEN + 4;
        let mut sections = Reader::new(&data[4..4 + sections_len]);
        let mut body: Option<Range<usize>> = None;
        let mut sequences: [SequenceIndex; MAX_DOCUMENT_SEQUENCES] = Default::default();
        let mut sequence_count = 0;
        while !sections.at_eof() {
            let kind = sections.u8("OP_MSG section kind")?;
            match kind {
                SECTION_BODY => {
                    if body.is_some() {
                        return Err(Status::new(40430, "Multiple body sections in message"));
                    }
                    let start = base + sections.position();
                    let doc = sections.document("OP_MSG body")?;
                    body = Some(start..start + doc.as_bytes().len());
                }
                SECTION_DOCUMENT_SEQUENCE => {
                    if sequence_count >= MAX_DOCUMENT_SEQUENCES {
                        return Err(Status::new(
                            ErrorCode::TooManyDocumentSequences,
                            "Too many document sequences in OP_MSG",
                        ));
                    }
                    let size = sections.i32("document sequence size")?;
                    let remaining = usize::try_from(size).ok().and_then(|s| s.checked_sub(4));
                    let Some(remaining) = remaining else {
                        return Err(crate::reader::overflow("document sequence"));
                    };
                    let seq_start = base + sections.position();
                    let mut seq = Reader::new(sections.take(remaining, "document sequence")?);
                    let identifier = seq.cstr("document sequence identifier")?;
                    let duplicate = sequences[..sequence_count]
                        .iter()
                        .any(|s| &message.as_bytes()[s.identifier.clone()] == identifier.as_bytes());
                    if duplicate {
                        return Err(Status::new(
                            40431,
                            format!("Duplicate document sequence: {identifier}"),
                        ));
                    }
                    let docs_start = seq_start + seq.position();
                    let mut count = 0;
                    while !seq.at_eof() {
                        seq.document("document sequence")?;
                        count += 1;
                    }
                    sequences[sequence_count] = SequenceIndex {
                        identifier: seq_start..seq_start + identifier.len(),
                        documents: docs_start..seq_start + remaining,
                        count,
                    };
                    sequence_count += 1;
                }
                SECTION_SECURITY_TOKEN => {
                    return Err(Status::new(
                        ErrorCode::Unauthorized,
                        "Unsupported Security Token provided",
                    ));
                }
                other => return Err(Status::new(40432, format!("Unknown section kind {other}"))),
            }
        }
        let Some(body) = body else {
            return Err(Status::new(40587, "OP_MSG messages must have a body"));
        };
        let msg = OpMsg {
            buf: message.as_bytes().clone(),
            flags,
            body,
            sequences,
            sequence_count,
        };
        for seq in msg.sequences() {
            if path_exists(msg.body(), seq.identifier())? {
                return Err(Status::new(
                    40433,
                    format!(
                        "Duplicate field between body and document sequence {}",
                        seq.identifier()
                    ),
                ));
            }
        }
        if let Some(expected) = checksum {
            let covered = &message.as_bytes()[..message.len() - CHECKSUM_LEN];
            if crc32c_of(covered) != expected {
                return Err(Status::new(
                    ErrorCode::ChecksumMismatch,
                    "OP_MSG checksum does not match contents",
                ));
            }
        }
        Ok(msg)
    }

    /// The flags word.
    pub fn flags(&self) -> OpMsgFlags {
        self.flags
    }

    /// The body document, borrowed from the message.
    pub fn body(&self) -> &RawDocument {
        // The range was checked by `RawDocument::from_bytes` during parse; an empty document is the
        // (unreachable) fallback rather than a panic.
        RawDocument::from_bytes(&self.buf[self.body.clone()]).unwrap_or_else(|_| empty_document())
    }

    /// The body's bytes as a shared slice of the message buffer (no copy).
    pub fn body_bytes(&self) -> Bytes {
        self.buf.slice(self.body.clone())
    }

    /// The command name: the body's first key.
    pub fn command_name(&self) -> StatusResult<&str> {
        match self.body().iter().next() {
            Some(Ok((name, _))) => Ok(name.as_str()),
            Some(Err(e)) => Err(invalid_bson("OP_MSG body", e)),
            None => Err(Status::new(ErrorCode::FailedToParse, "Empty command object")),
        }
    }

    /// The `$db` field: the database the command runs against (40571 if absent).
    pub fn database(&self) -> StatusResult<&str> {
        match self.body().get("$db") {
            Ok(Some(RawBsonRef::String(db))) => Ok(db),
            Ok(Some(other)) => Err(Status::new(
                ErrorCode::TypeMismatch,
                format!("$db must be a string, not {:?}", other.element_type()),
            )),
            Ok(None) => Err(Status::new(40571, "OP_MSG requests require a $db argument")),
            Err(e) => Err(invalid_bson("OP_MSG body", e)),
        }
    }

    /// The document sequences, in message order.
    pub fn sequences(&self) -> impl Iterator<Item = DocumentSequence<'_>> {
        self.sequences[..self.sequence_count]
            .iter()
            .map(|s| DocumentSequence {
                identifier: std::str::from_utf8(&self.buf[s.identifier.clone()]).unwrap_or_default(),
                documents: &self.buf[s.documents.clone()],
                count: s.count,
            })
    }

    /// The document sequence with this identifier.
    pub fn sequence(&self, identifier: &str) -> Option<DocumentSequence<'_>> {
        self.sequences().find(|s| s.identifier() == identifier)
    }

    /// The body decoded, with each document sequence added as an array under its identifier (a dotted
    /// identifier nests), for handlers that want one document.
    pub fn merged(&self) -> StatusResult<Document> {
        let mut doc = Document::try_from(self.body()).map_err(|e| invalid_bson("OP_MSG body", e))?;
        for seq in self.sequences() {
            let mut docs = Vec::with_capacity(seq.len());
            for raw in seq.iter() {
                docs.push(Bson::Document(
                    Document::try_from(raw).map_err(|e| invalid_bson("document sequence", e))?,
                ));
            }
            insert_at_path(&mut doc, seq.identifier(), Bson::Array(docs));
        }
        Ok(doc)
    }
}

impl std::fmt::Debug for OpMsg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpMsg")
            .field("flags", &self.flags)
            .field("body", &self.body())
            .field("sequences", &self.sequences().collect::<Vec<_>>())
            .finish()
    }
}

pub(crate) fn empty_document() -> &'static RawDocument {
    static EMPTY: LazyLock<RawDocumentBuf> = LazyLock::new(RawDocumentBuf::new);
    &EMPTY
}

/// mongod's `extractElementAtPathOrArrayAlongPath` as a yes/no: the dotted path leads to a value, or to
/// an array part way along it.
fn path_exists(doc: &RawDocument, path: &str) -> StatusResult<bool> {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let value = doc.get(head).map_err(|e| invalid_bson("OP_MSG body", e))?;
    match (value, rest) {
        (None, _) => Ok(false),
        (Some(_), None) => Ok(true),
        (Some(RawBsonRef::Array(_)), Some(_)) => Ok(true),
        (Some(RawBsonRef::Document(sub)), Some(rest)) => path_exists(sub, rest),
        (Some(_), Some(_)) => Ok(false),
    }
}

/// Sets `value` at a dotted path, making sub-documents as needed (a non-document in the way is replaced).
fn insert_at_path(doc: &mut Document, path: &str, value: Bson) {
    match path.split_once('.') {
        None => {
            doc.insert(path, value);
        }
        Some((head, rest)) => {
            if !matches!(doc.get(head), Some(Bson::Document(_))) {
                doc.insert(head, Document::new());
            }
            if let Some(Bson::Document(sub)) = doc.get_mut(head) {
                insert_at_path(sub, rest, value);
            }
        }
    }
}
