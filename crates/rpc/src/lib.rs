//! The MongoDB wire protocol: message header, OP_MSG, legacy OP_QUERY/OP_REPLY, OP_COMPRESSED, error codes
//! and `Status`, reply builders and a framed codec.
//!
//! Parsing is zero-copy: a [`Message`] owns one `bytes::Bytes` buffer and every parsed view (an [`OpMsg`]'s
//! body and document sequences, an [`OpQuery`]'s query) is a `bson::RawDocument` borrowed from it. Nothing is
//! decoded until a command asks for it. Every parse failure is a [`Status`] carrying mongod's error code, so a
//! server can answer a bad message exactly as mongod would.

mod checksum;
mod codec;
mod compression;
mod decode_all;
mod error_code;
mod header;
pub mod limits;
mod message;
mod op_msg;
mod op_msg_builder;
mod op_msg_flags;
pub mod op_query;
pub mod op_reply;
mod reader;
mod reply_builder;
mod status;

pub use checksum::{CHECKSUM_LEN, append_checksum, crc32c_of, set_op_msg_flags, strip_checksum};
pub use codec::{CodecError, MessageCodec};
pub use compression::{Compressor, compress_message, decompress_message, negotiate};
pub use decode_all::decode_all;
pub use error_code::ErrorCode;
pub use header::{MsgHeader, OpCode};
pub use message::Message;
pub use op_msg::{DocumentSequence, DocumentSequenceIter, MAX_DOCUMENT_SEQUENCES, OpMsg};
pub use op_msg_builder::{DocumentSequenceBuilder, OpMsgBuilder};
pub use op_msg_flags::OpMsgFlags;
pub use op_query::{OpQuery, build_op_query};
pub use op_reply::{OpReply, build_op_reply};
pub use reply_builder::{BuiltReply, ReplyBuilder, ReplyProtocol, set_more_to_come};
pub use status::{Status, StatusResult};
