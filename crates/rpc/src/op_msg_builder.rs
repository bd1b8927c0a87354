//! OP_MSG building: document sequences first, then the body, written straight into one buffer.

use bson::{Document, RawDocument};
use bytes::{BufMut, BytesMut};

use crate::header::OpCode;
use crate::message::{Message, patch_length, start_buffer};
use crate::op_msg_flags::OpMsgFlags;
use crate::{ErrorCode, Status, StatusResult};

/// Builds one OP_MSG. Sequences are written as they are begun; `finish_*` writes the body and the header.
/// Request ids are left 0 for the sender to set; a checksum is appended by the sender after that.
pub struct OpMsgBuilder {
    buf: BytesMut,
}

impl Default for OpMsgBuilder {
    fn default() -> Self {
        OpMsgBuilder::new(OpMsgFlags::NONE)
    }
}

impl OpMsgBuilder {
    /// A builder for a message with these flags (checksumPresent is ignored: append the checksum later).
    pub fn new(flags: OpMsgFlags) -> OpMsgBuilder {
        OpMsgBuilder::with_capacity(flags, 256)
    }

    /// A builder with room for `capacity` bytes before it grows.
    pub fn with_capacity(flags: OpMsgFlags, capacity: usize) -> OpMsgBuilder {
        let mut buf = start_buffer(OpCode::Msg, capacity);
        buf.put_u32_le(flags.without(OpMsgFlags::CHECKSUM_PRESENT).0);
        OpMsgBuilder { buf }
    }

    /// Begins a kind-1 section; documents appended to the returned builder go into it, and dropping the
    /// builder closes the section.
    pub fn begin_document_sequence(&mut self, identifier: &str) -> DocumentSequenceBuilder<'_> {
        self.buf.put_u8(1);
        let size_offset = self.buf.len();
        self.buf.put_i32_le(0);
        self.buf.put_slice(identifier.as_bytes());
        self.buf.put_u8(0);
        DocumentSequenceBuilder {
            buf: &mut self.buf,
            size_offset,
        }
    }

    /// Adds a whole document sequence of raw documents.
    pub fn document_sequence<'d>(
        &mut self,
        identifier: &str,
        documents: impl IntoIterator<Item = &'d RawDocument>,
    ) -> &mut Self {
        let mut seq = self.begin_document_sequence(identifier);
        for doc in documents {
            seq.append_raw(doc);
        }
        drop(seq);
        self
    }

    /// Writes `body` as the kind-0 section and finishes the message.
    pub fn finish_with_raw_body(mut self, body: &RawDocument) -> Message {
        self.buf.put_u8(0);
        self.buf.put_slice(body.as_bytes());
        patch_length(&mut self.buf);
        Message::from_built(self.buf)
    }

    /// Serializes `body` as the kind-0 section and finishes the message.
    pub fn finish_with_body(mut self, body: &Document) -> StatusResult<Message> {
        self.buf.put_u8(0);
        write_document(&mut self.buf, body)?;
        patch_length(&mut self.buf);
        Ok(Message::from_built(self.buf))
    }
}

/// Appends documents to one open document sequence; the section's size is written when it is dropped.
pub struct DocumentSequenceBuilder<'b> {
    buf: &'b mut BytesMut,
    size_offset: usize,
}

impl DocumentSequenceBuilder<'_> {
    /// Appends a raw document (a byte copy, no re-encoding).
    pub fn append_raw(&mut self, doc: &RawDocument) -> &mut Self {
        self.buf.put_slice(doc.as_bytes());
        self
    }

    /// Serializes and appends a document.
    pub fn append(&mut self, doc: &Document) -> StatusResult<&mut Self> {
        write_document(self.buf, doc)?;
        Ok(self)
    }
}

impl Drop for DocumentSequenceBuilder<'_> {
    fn drop(&mut self) {
        let size = (self.buf.len() - self.size_offset) as i32;
        self.buf[self.size_offset..self.size_offset + 4].copy_from_slice(&size.to_le_bytes());
    }
}

/// Serializes a document onto the end of `buf`.
pub(crate) fn write_document(buf: &mut BytesMut, doc: &Document) -> StatusResult<()> {
    doc.to_writer((&mut *buf).writer())
        .map_err(|e| Status::new(ErrorCode::BadValue, format!("cannot serialize document: {e}")))
}
