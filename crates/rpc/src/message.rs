//! `Message`: one whole wire message (header included) in a shared, immutable buffer.

use bytes::{BufMut, Bytes, BytesMut};

use crate::header::{MsgHeader, OpCode};
use crate::limits::{HEADER_LEN, MAX_MESSAGE_SIZE_BYTES};
use crate::{ErrorCode, Status, StatusResult};

/// One wire message. Cloning shares the buffer; parsed views (`OpMsg`, `OpQuery`) borrow from it.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    buf: Bytes,
}

impl Message {
    /// Wraps a framed message, checking that its header's length matches the buffer and is within
    /// mongod's limits (ProtocolError 17 otherwise).
    pub fn from_bytes(buf: Bytes) -> StatusResult<Message> {
        if buf.len() < HEADER_LEN {
            return Err(Status::new(
                ErrorCode::ProtocolError,
                format!("message of {} bytes is shorter than its header", buf.len()),
            ));
        }
        let claimed = i32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
        if claimed < 0 || claimed as usize != buf.len() || buf.len() > MAX_MESSAGE_SIZE_BYTES {
            return Err(Status::new(
                ErrorCode::ProtocolError,
                format!(
                    "message length {claimed} does not match its {} bytes or is out of range",
                    buf.len()
                ),
            ));
        }
        Ok(Message { buf })
    }

    /// Builds a message from an opcode and the bytes after the header; ids are set later by the sender.
    pub fn from_parts(op_code: OpCode, request_id: i32, response_to: i32, data: &[u8]) -> Message {
        let mut buf = BytesMut::with_capacity(HEADER_LEN + data.len());
        let header = MsgHeader {
            message_length: (HEADER_LEN + data.len()) as i32,
            request_id,
            response_to,
            op_code,
        };
        buf.put_slice(&header.to_bytes());
        buf.put_slice(data);
        Message { buf: buf.freeze() }
    }

    /// Wraps a buffer that a builder in this crate wrote (its header already correct).
    pub(crate) fn from_built(buf: BytesMut) -> Message {
        Message { buf: buf.freeze() }
    }

    /// The parsed header.
    pub fn header(&self) -> MsgHeader {
        let mut h = [0u8; HEADER_LEN];
        h.copy_from_slice(&self.buf[..HEADER_LEN]);
        MsgHeader::from_bytes(&h)
    }

    /// The opcode.
    pub fn op_code(&self) -> OpCode {
        self.header().op_code
    }

    /// The sender's request id.
    pub fn request_id(&self) -> i32 {
        self.header().request_id
    }

    /// The request id this message answers.
    pub fn response_to(&self) -> i32 {
        self.header().response_to
    }

    /// Total length in bytes, the header included.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether the message has nothing after its header.
    pub fn is_empty(&self) -> bool {
        self.buf.len() == HEADER_LEN
    }

    /// The bytes after the header.
    pub fn data(&self) -> &[u8] {
        &self.buf[HEADER_LEN..]
    }

    /// The whole message, header included.
    pub fn as_bytes(&self) -> &Bytes {
        &self.buf
    }

    /// The whole message as its buffer.
    pub fn into_bytes(self) -> Bytes {
        self.buf
    }

    /// Sets the request id and responseTo in place (copying only if the buffer is shared). A checksum,
    /// which covers the header, must be appended after this.
    pub fn set_ids(&mut self, request_id: i32, response_to: i32) {
        let mut buf = self.make_mut();
        buf[4..8].copy_from_slice(&request_id.to_le_bytes());
        buf[8..12].copy_from_slice(&response_to.to_le_bytes());
        self.buf = buf.freeze();
    }

    /// The buffer as mutable bytes: free when this is its only owner, else one copy.
    pub(crate) fn make_mut(&mut self) -> BytesMut {
        let buf = std::mem::take(&mut self.buf);
        match buf.try_into_mut() {
            Ok(unique) => unique,
            Err(shared) => BytesMut::from(&shared[..]),
        }
    }

    pub(crate) fn replace(&mut self, buf: BytesMut) {
        self.buf = buf.freeze();
    }
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let h = self.header();
        f.debug_struct("Message")
            .field("op_code", &h.op_code)
            .field("request_id", &h.request_id)
            .field("response_to", &h.response_to)
            .field("len", &self.buf.len())
            .finish()
    }
}

/// Writes the final length into a buffer whose first 16 bytes are a header.
pub(crate) fn patch_length(buf: &mut BytesMut) {
    let len = buf.len() as i32;
    buf[0..4].copy_from_slice(&len.to_le_bytes());
}

/// Starts a buffer with a header (length patched later) for `op_code`.
pub(crate) fn start_buffer(op_code: OpCode, capacity: usize) -> BytesMut {
    let mut buf = BytesMut::with_capacity(capacity.max(HEADER_LEN));
    let header = MsgHeader {
        message_length: 0,
        request_id: 0,
        response_to: 0,
        op_code,
    };
    buf.put_slice(&header.to_bytes());
    buf
}
