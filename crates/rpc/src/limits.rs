//! Size limits of the wire protocol, with mongod's values.

/// The largest message mongod accepts or sends (`maxMessageSizeBytes`).
pub const MAX_MESSAGE_SIZE_BYTES: usize = 48_000_000;

/// The largest document a user may store or send (`maxBsonObjectSize`, 16 MiB).
pub const MAX_BSON_OBJECT_SIZE: usize = 16 * 1024 * 1024;

/// The largest document the server builds internally (16 MiB + 16 KiB), leaving room for reply wrappers.
pub const MAX_BSON_OBJECT_INTERNAL_SIZE: usize = MAX_BSON_OBJECT_SIZE + 16 * 1024;

/// The most write operations one write command may carry (`maxWriteBatchSize`).
pub const MAX_WRITE_BATCH_SIZE: usize = 100_000;

/// The length of the standard message header.
pub const HEADER_LEN: usize = 16;
