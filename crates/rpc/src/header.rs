//! The 16-byte message header and the opcodes it names.

use std::fmt;

use crate::limits::HEADER_LEN;

/// A wire-protocol opcode.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum OpCode {
    /// OP_REPLY (1): the legacy reply to OP_QUERY.
    Reply,
    /// OP_UPDATE (2001), removed in MongoDB 6.0.
    Update,
    /// OP_INSERT (2002), removed in MongoDB 6.0.
    Insert,
    /// OP_QUERY (2004): still used for the first `isMaster` of some drivers.
    Query,
    /// OP_GET_MORE (2005), removed in MongoDB 6.0.
    GetMore,
    /// OP_DELETE (2006), removed in MongoDB 6.0.
    Delete,
    /// OP_KILL_CURSORS (2007), removed in MongoDB 6.0.
    KillCursors,
    /// OP_COMPRESSED (2012): a compressed wrapper around another message.
    Compressed,
    /// OP_MSG (2013): the message every modern command uses.
    Msg,
    /// Any other number.
    Unknown(i32),
}

impl OpCode {
    /// The number on the wire.
    pub const fn code(self) -> i32 {
        match self {
            OpCode::Reply => 1,
            OpCode::Update => 2001,
            OpCode::Insert => 2002,
            OpCode::Query => 2004,
            OpCode::GetMore => 2005,
            OpCode::Delete => 2006,
            OpCode::KillCursors => 2007,
            OpCode::Compressed => 2012,
            OpCode::Msg => 2013,
            OpCode::Unknown(n) => n,
        }
    }

    /// The opcode for a number.
    pub const fn from_code(code: i32) -> OpCode {
        match code {
            1 => OpCode::Reply,
            2001 => OpCode::Update,
            2002 => OpCode::Insert,
            2004 => OpCode::Query,
            2005 => OpCode::GetMore,
            2006 => OpCode::Delete,
            2007 => OpCode::KillCursors,
            2012 => OpCode::Compressed,
            2013 => OpCode::Msg,
            n => OpCode::Unknown(n),
        }
    }
}

impl fmt::Display for OpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpCode::Reply => f.write_str("OP_REPLY"),
            OpCode::Update => f.write_str("OP_UPDATE"),
            OpCode::Insert => f.write_str("OP_INSERT"),
            OpCode::Query => f.write_str("OP_QUERY"),
            OpCode::GetMore => f.write_str("OP_GET_MORE"),
            OpCode::Delete => f.write_str("OP_DELETE"),
            OpCode::KillCursors => f.write_str("OP_KILL_CURSORS"),
            OpCode::Compressed => f.write_str("OP_COMPRESSED"),
            OpCode::Msg => f.write_str("OP_MSG"),
            OpCode::Unknown(n) => write!(f, "opcode {n}"),
        }
    }
}

/// The standard header every message starts with (all fields little-endian int32).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MsgHeader {
    /// Total message length in bytes, the header included.
    pub message_length: i32,
    /// The sender's id for this message.
    pub request_id: i32,
    /// The request id this message answers (0 for requests).
    pub response_to: i32,
    /// What follows the header.
    pub op_code: OpCode,
}

impl MsgHeader {
    /// Reads a header from its 16 bytes.
    pub fn from_bytes(b: &[u8; HEADER_LEN]) -> MsgHeader {
        let field = |i: usize| i32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        MsgHeader {
            message_length: field(0),
            request_id: field(4),
            response_to: field(8),
            op_code: OpCode::from_code(field(12)),
        }
    }

    /// The header's 16 bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&self.message_length.to_le_bytes());
        out[4..8].copy_from_slice(&self.request_id.to_le_bytes());
        out[8..12].copy_from_slice(&self.response_to.to_le_bytes());
        out[12..16].copy_from_slice(&self.op_code.code().to_le_bytes());
        out
    }
}
