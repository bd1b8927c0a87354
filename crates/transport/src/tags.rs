//! Session tags: mongod's bits (db/client.h). New sessions start pending; `endAllSessions(mask)` spares
//! sessions whose tags match the mask, and pending ones.

/// No tags.
pub const EMPTY_TAG_MASK: u32 = 0;
/// Keep this session open across endAllSessions.
pub const KEEP_OPEN: u32 = 1;
/// An internal client of the latest version; kept open.
pub const LATEST_VERSION_INTERNAL_CLIENT_KEEP_OPEN: u32 = 2;
/// An external client (a driver) that finished its handshake; kept open.
pub const EXTERNAL_CLIENT_KEEP_OPEN: u32 = 4;
/// The session has not finished its handshake yet.
pub const PENDING: u32 = 1 << 31;
