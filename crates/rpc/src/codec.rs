//! A framed codec for `tokio_util::codec`: whole messages in and out, with the claimed length checked
//! against the limit before any buffer is grown for it.

use bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::limits::{HEADER_LEN, MAX_MESSAGE_SIZE_BYTES};
use crate::{ErrorCode, Message, Status};

/// Why a framed stream failed: the transport, or a frame mongod would refuse (ProtocolError 17).
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// Reading or writing the stream failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The peer sent a frame outside the protocol's limits; the session must end.
    #[error("{0}")]
    Protocol(Status),
}

impl CodecError {
    /// This error as a mongod status (I/O errors are HostUnreachable, as mongod reports socket errors).
    pub fn to_status(&self) -> Status {
        match self {
            CodecError::Io(e) => Status::new(ErrorCode::HostUnreachable, format!("Connection error: {e}")),
            CodecError::Protocol(s) => s.clone(),
        }
    }
}

/// Splits a byte stream into [`Message`]s and writes them back out.
#[derive(Clone, Debug)]
pub struct MessageCodec {
    max_message_size: usize,
}

impl Default for MessageCodec {
    fn default() -> Self {
        MessageCodec {
            max_message_size: MAX_MESSAGE_SIZE_BYTES,
        }
    }
}

impl MessageCodec {
    /// A codec refusing messages longer than `max_message_size` bytes.
    pub fn new(max_message_size: usize) -> MessageCodec {
        MessageCodec { max_message_size }
    }

    /// The largest message this codec accepts.
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }
}

impl Decoder for MessageCodec {
    type Item = Message;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Message>, CodecError> {
        let Some(len_bytes) = src.get(..4) else {
            src.reserve(HEADER_LEN);
            return Ok(None);
        };
        let claimed = i32::from_le_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]);
        let len = match usize::try_from(claimed) {
            Ok(len) if (HEADER_LEN..=self.max_message_size).contains(&len) => len,
            _ => {
                return Err(CodecError::Protocol(Status::new(
                    ErrorCode::ProtocolError,
                    format!(
                        "recv(): message msgLen {claimed} is invalid. Min {HEADER_LEN} Max: {}",
                        self.max_message_size
                    ),
                )));
            }
        };
        if src.len() < len {
            // The length is within limits, so growing to it is safe.
            src.reserve(len - src.len());
            return Ok(None);
        }
        let frame = src.split_to(len).freeze();
        Message::from_bytes(frame).map(Some).map_err(CodecError::Protocol)
    }
}

impl Encoder<Message> for MessageCodec {
    type Error = CodecError;

    fn encode(&mut self, item: Message, dst: &mut BytesMut) -> Result<(), CodecError> {
        let mut bytes = item.into_bytes();
        dst.reserve(bytes.len());
        while bytes.has_remaining() {
            let chunk = bytes.chunk();
            dst.extend_from_slice(chunk);
            let n = chunk.len();
            bytes.advance(n);
        }
        Ok(())
    }
}
