//! The OP_MSG CRC-32C checksum: computed over the whole message except its last four bytes.

use bytes::BufMut;

use crate::header::OpCode;
use crate::limits::HEADER_LEN;
use crate::message::{Message, patch_length};
use crate::op_msg_flags::OpMsgFlags;

/// The checksum's size in bytes.
pub const CHECKSUM_LEN: usize = 4;

/// The CRC-32C of `message_without_checksum` (everything the checksum covers).
pub fn crc32c_of(message_without_checksum: &[u8]) -> u32 {
    crc32c::crc32c(message_without_checksum)
}

/// Sets checksumPresent on an OP_MSG and appends its CRC-32C (after the ids are final: the header is
/// covered). Messages of other opcodes and ones that already carry a checksum are left as they are.
pub fn append_checksum(message: &mut Message) {
    if message.op_code() != OpCode::Msg || message.len() < HEADER_LEN + 4 {
        return;
    }
    let flags = OpMsgFlags(u32::from_le_bytes(flag_bytes(message)));
    if flags.checksum_present() {
        return;
    }
    let mut buf = message.make_mut();
    let flags = flags.with(OpMsgFlags::CHECKSUM_PRESENT);
    buf[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&flags.0.to_le_bytes());
    buf.put_u32_le(0);
    patch_length(&mut buf);
    let covered = buf.len() - CHECKSUM_LEN;
    let crc = crc32c_of(&buf[..covered]);
    buf[covered..].copy_from_slice(&crc.to_le_bytes());
    message.replace(buf);
}

fn flag_bytes(message: &Message) -> [u8; 4] {
    let d = message.data();
    [d[0], d[1], d[2], d[3]]
}
