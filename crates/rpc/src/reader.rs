//! A bounds-checked little-endian reader over a byte slice; running off the end is mongod's Overflow 15.

use bson::RawDocument;

use crate::{ErrorCode, Status, StatusResult};

/// Reads fields front to back; every read checks the bounds first and never panics.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }

    /// How far into the slice the reader is.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn at_eof(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub(crate) fn take(&mut self, len: usize, what: &str) -> StatusResult<&'a [u8]> {
        if len > self.remaining() {
            return Err(overflow(what));
        }
        let out = &self.data[self.pos..self.pos + len];
        self.pos += len;
        Ok(out)
    }

    pub(crate) fn u8(&mut self, what: &str) -> StatusResult<u8> {
        Ok(self.take(1, what)?[0])
    }

    pub(crate) fn u32(&mut self, what: &str) -> StatusResult<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn i32(&mut self, what: &str) -> StatusResult<i32> {
        Ok(self.u32(what)? as i32)
    }

    pub(crate) fn i64(&mut self, what: &str) -> StatusResult<i64> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_le_bytes(a))
    }

    /// A NUL-terminated string; the NUL is consumed but not returned.
    pub(crate) fn cstr(&mut self, what: &str) -> StatusResult<&'a str> {
        let rest = &self.data[self.pos..];
        let Some(nul) = rest.iter().position(|&b| b == 0) else {
            return Err(overflow(what));
        };
        let s = std::str::from_utf8(&rest[..nul])
            .map_err(|_| Status::new(ErrorCode::InvalidBSON, format!("{what} is not valid UTF-8")))?;
        self.pos += nul + 1;
        Ok(s)
    }

    /// One BSON document whose length prefix, bounds and terminator are checked (InvalidBSON 22 if not).
    pub(crate) fn document(&mut self, what: &str) -> StatusResult<&'a RawDocument> {
        let rest = &self.data[self.pos..];
        let len = match rest.get(..4) {
            Some(b) => i32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            None => return Err(invalid_bson(what, "too short to hold a document length")),
        };
        if len < 5 || len as usize > rest.len() {
            return Err(invalid_bson(
                what,
                "document length runs past the end of its section",
            ));
        }
        let doc = RawDocument::from_bytes(&rest[..len as usize]).map_err(|e| invalid_bson(what, e))?;
        self.pos += len as usize;
        Ok(doc)
    }
}

pub(crate) fn overflow(what: &str) -> Status {
    Status::new(
        ErrorCode::Overflow,
        format!("not enough bytes left to read {what}"),
    )
}

pub(crate) fn invalid_bson(what: &str, why: impl std::fmt::Display) -> Status {
    Status::new(ErrorCode::InvalidBSON, format!("invalid BSON in {what}: {why}"))
}
