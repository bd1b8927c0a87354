//! The MongoDB wire protocol: message header, OP_MSG, legacy OP_QUERY/OP_REPLY, OP_COMPRESSED, error codes
//! and `Status`, reply builders and a framed codec.
//!
//! Parsing is zero-copy: a [`Message`] owns one `bytes::Bytes` buffer and every parsed view (an [`OpMsg`]'s
//! body and document sequences, an [`OpQuery`]'s query) is a `bson::RawDocument` borrowed from it. Nothing is
//! decoded until a command asks for it. Every parse failure is a [`Status`] carrying mongod's error code, so a
//! server can answer a bad message exactly as mongod would.

mod error_code;
mod status;

pub use error_code::ErrorCode;
pub use status::{Status, StatusResult};
