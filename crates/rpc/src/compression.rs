//! OP_COMPRESSED: wrapping a message with noop, snappy, zlib or zstd, and unwrapping it with mongod's
//! checks (a short header, an unknown compressor, a claimed size over the limit or not matching the
//! payload). Decompression never allocates more than the claimed size, itself bounded by the message limit.

use std::io::Read;

use bytes::{BufMut, BytesMut};

use crate::header::{MsgHeader, OpCode};
use crate::limits::{HEADER_LEN, MAX_MESSAGE_SIZE_BYTES};
use crate::message::{Message, patch_length};
use crate::reader::Reader;
use crate::{ErrorCode, Status, StatusResult};

/// The bytes of an OP_COMPRESSED body before the payload: originalOpcode, uncompressedSize, compressorId.
const COMPRESSION_HEADER_LEN: usize = 9;

/// A message compressor, by mongod's id and name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Compressor {
    /// `noop` (0): the payload is the message as is.
    Noop,
    /// `snappy` (1).
    Snappy,
    /// `zlib` (2).
    Zlib,
    /// `zstd` (3).
    Zstd,
}

impl Compressor {
    /// Every compressor this crate implements, in mongod's default preference order.
    pub const ALL: [Compressor; 4] = [
        Compressor::Snappy,
        Compressor::Zstd,
        Compressor::Zlib,
        Compressor::Noop,
    ];

    /// The id on the wire.
    pub const fn id(self) -> u8 {
        match self {
            Compressor::Noop => 0,
            Compressor::Snappy => 1,
            Compressor::Zlib => 2,
            Compressor::Zstd => 3,
        }
    }

    /// The compressor with this id.
    pub const fn from_id(id: u8) -> Option<Compressor> {
        match id {
            0 => Some(Compressor::Noop),
            1 => Some(Compressor::Snappy),
            2 => Some(Compressor::Zlib),
            3 => Some(Compressor::Zstd),
            _ => None,
        }
    }

    /// The name used in the hello `compression` list.
    pub const fn name(self) -> &'static str {
        match self {
            Compressor::Noop => "noop",
            Compressor::Snappy => "snappy",
            Compressor::Zlib => "zlib",
            Compressor::Zstd => "zstd",
        }
    }

    /// The compressor with this name.
    pub fn from_name(name: &str) -> Option<Compressor> {
        Compressor::ALL.into_iter().find(|c| c.name() == name)
    }

    fn compress(self, input: &[u8]) -> StatusResult<Vec<u8>> {
        let failed = |e: &dyn std::fmt::Display| {
            Status::new(
                ErrorCode::InternalError,
                format!("{} compression failed: {e}", self.name()),
            )
        };
        match self {
            Compressor::Noop => Ok(input.to_vec()),
            Compressor::Snappy => snap::raw::Encoder::new()
                .compress_vec(input)
                .map_err(|e| failed(&e)),
            Compressor::Zlib => {
                let mut out = Vec::with_capacity(input.len() / 2 + 16);
                let mut enc = flate2::read::ZlibEncoder::new(input, flate2::Compression::new(6));
                enc.read_to_end(&mut out).map_err(|e| failed(&e))?;
                Ok(out)
            }
            Compressor::Zstd => zstd::bulk::compress(input, 6).map_err(|e| failed(&e)),
        }
    }

    /// Decompresses into `out`, reading at most `expected + 1` bytes so a lying size cannot make it grow.
    fn decompress(self, input: &[u8], expected: usize, out: &mut BytesMut) -> StatusResult<()> {
        let failed = |e: &dyn std::fmt::Display| {
            Status::new(
                ErrorCode::BadValue,
                format!("{} decompression failed: {e}", self.name()),
            )
        };
        let limit = expected as u64 + 1;
        let mut writer = out.writer();
        match self {
            Compressor::Noop => writer
                .get_mut()
                .put_slice(&input[..input.len().min(expected + 1)]),
            Compressor::Snappy => {
                let len = snap::raw::decompress_len(input).map_err(|e| failed(&e))?;
                if len != expected {
                    return Err(size_mismatch());
                }
                let decoded = snap::raw::Decoder::new()
                    .decompress_vec(input)
                    .map_err(|e| failed(&e))?;
                writer.get_mut().put_slice(&decoded);
            }
            Compressor::Zlib => {
                let dec = flate2::read::ZlibDecoder::new(input);
                std::io::copy(&mut dec.take(limit), &mut writer).map_err(|e| failed(&e))?;
            }
            Compressor::Zstd => {
                let dec = zstd::stream::read::Decoder::new(input).map_err(|e| failed(&e))?;
                std::io::copy(&mut dec.take(limit), &mut writer).map_err(|e| failed(&e))?;
            }
        }
        Ok(())
    }
}

fn size_mismatch() -> Status {
    Status::new(
        ErrorCode::BadValue,
        "Decompressing message returned less data than expected",
    )
}

/// Wraps `message` in OP_COMPRESSED with `compressor`, keeping its ids. When the result would not be
/// smaller, the message is returned as it is (mongod sends such replies uncompressed).
pub fn compress_message(message: &Message, compressor: Compressor) -> StatusResult<Message> {
    if message.op_code() == OpCode::Compressed {
        return Ok(message.clone());
    }
    let payload = compressor.compress(message.data())?;
    let total = HEADER_LEN + COMPRESSION_HEADER_LEN + payload.len();
    if total >= message.len() && compressor != Compressor::Noop {
        return Ok(message.clone());
    }
    let mut buf = BytesMut::with_capacity(total);
    let header = MsgHeader {
        message_length: total as i32,
        request_id: message.request_id(),
        response_to: message.response_to(),
        op_code: OpCode::Compressed,
    };
    buf.put_slice(&header.to_bytes());
    buf.put_i32_le(message.op_code().code());
    buf.put_i32_le(message.data().len() as i32);
    buf.put_u8(compressor.id());
    buf.put_slice(&payload);
    patch_length(&mut buf);
    Ok(Message::from_built(buf))
}

/// Unwraps an OP_COMPRESSED message: the original message (same ids) and the compressor it used, so
/// the reply can use the same one. Other messages are returned as they are with `None`.
pub fn decompress_message(message: &Message) -> StatusResult<(Message, Option<Compressor>)> {
    if message.op_code() != OpCode::Compressed {
        return Ok((message.clone(), None));
    }
    let data = message.data();
    if data.len() < COMPRESSION_HEADER_LEN {
        return Err(Status::new(
            ErrorCode::BadValue,
            "Invalid compressed message header",
        ));
    }
    let mut r = Reader::new(data);
    let original_op_code = r.i32("originalOpcode")?;
    let uncompressed_size = r.i32("uncompressedSize")?;
    let compressor_id = r.u8("compressorId")?;
    let Some(compressor) = Compressor::from_id(compressor_id) else {
        return Err(Status::new(
            ErrorCode::InternalError,
            format!("Compression algorithm specified in message is not available: id {compressor_id}"),
        ));
    };
    let expected = match usize::try_from(uncompressed_size) {
        Ok(size) if size + HEADER_LEN <= MAX_MESSAGE_SIZE_BYTES => size,
        _ => {
            return Err(Status::new(
                ErrorCode::BadValue,
                "Decompressed message would be larger than maximum message size",
            ));
        }
    };
    if OpCode::from_code(original_op_code) == OpCode::Compressed {
        return Err(Status::new(
            ErrorCode::BadValue,
            "OP_COMPRESSED cannot wrap another OP_COMPRESSED",
        ));
    }
    let payload = &data[COMPRESSION_HEADER_LEN..];
    // Start small: the claimed size is only a claim until the payload decodes to it.
    let mut out = BytesMut::with_capacity(HEADER_LEN + expected.min(payload.len().saturating_mul(4) + 64));
    let header = MsgHeader {
        message_length: 0,
        request_id: message.request_id(),
        response_to: message.response_to(),
        op_code: OpCode::from_code(original_op_code),
    };
    out.put_slice(&header.to_bytes());
    compressor.decompress(payload, expected, &mut out)?;
    if out.len() - HEADER_LEN != expected {
        return Err(size_mismatch());
    }
    patch_length(&mut out);
    Ok((Message::from_built(out), Some(compressor)))
}

/// Negotiates compression as mongod does: the offered names this side supports, in the offer's order.
pub fn negotiate<'a>(
    offered: impl IntoIterator<Item = &'a str>,
    supported: &[Compressor],
) -> Vec<Compressor> {
    let mut chosen = Vec::new();
    for name in offered {
        if let Some(c) = Compressor::from_name(name)
            && supported.contains(&c)
            && !chosen.contains(&c)
        {
            chosen.push(c);
        }
    }
    chosen
}
