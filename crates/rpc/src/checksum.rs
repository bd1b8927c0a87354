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

/// Removes an OP_MSG's checksum (clearing checksumPresent) so the message can be sent again with new ids
/// (the checksum covers the header). Other messages, and ones without a checksum, are left as they are.
pub fn strip_checksum(message: &mut Message) {
    if message.op_code() != OpCode::Msg || message.len() < HEADER_LEN + 4 + CHECKSUM_LEN {
        return;
    }
    let flags = OpMsgFlags(u32::from_le_bytes(flag_bytes(message)));
    if !flags.checksum_present() {
        return;
    }
    let mut buf = message.make_mut();
    let flags = flags.without(OpMsgFlags::CHECKSUM_PRESENT);
    buf[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&flags.0.to_le_bytes());
    buf.truncate(buf.len() - CHECKSUM_LEN);
    patch_length(&mut buf);
    message.replace(buf);
}

/// Replaces an OP_MSG's flag bits (other than checksumPresent, which only [`append_checksum`] and
/// [`strip_checksum`] change); other opcodes are left as they are.
pub fn set_op_msg_flags(message: &mut Message, flags: OpMsgFlags) {
    if message.op_code() != OpCode::Msg || message.len() < HEADER_LEN + 4 {
        return;
    }
    let current = OpMsgFlags(u32::from_le_bytes(flag_bytes(message)));
    let keep = current.0 & OpMsgFlags::CHECKSUM_PRESENT.0;
    let wanted = (flags.0 & !OpMsgFlags::CHECKSUM_PRESENT.0) | keep;
    if wanted == current.0 {
        return;
    }
    let mut buf = message.make_mut();
    buf[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&wanted.to_le_bytes());
    message.replace(buf);
}
