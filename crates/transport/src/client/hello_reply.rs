//! What the egress handshake learned about a peer, from its hello / isMaster reply.

use bson::{Bson, Document};
use docwire_rpc::{Compressor, ErrorCode, Status, StatusResult};

/// The wire versions this client speaks: OP_MSG needs 6 (MongoDB 3.6); the newest is 25 (MongoDB 8.0).
pub const CLIENT_MIN_WIRE_VERSION: i32 = 6;
/// See [`CLIENT_MIN_WIRE_VERSION`].
pub const CLIENT_MAX_WIRE_VERSION: i32 = 25;

/// A peer's handshake reply, validated and kept.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HelloReply {
    /// The peer's minWireVersion.
    pub min_wire_version: i32,
    /// The peer's maxWireVersion.
    pub max_wire_version: i32,
    /// The replica set name, if the peer is in one.
    pub set_name: Option<String>,
    /// isWritablePrimary (or the legacy `ismaster`).
    pub is_writable_primary: bool,
    /// Whether the peer is a secondary.
    pub secondary: bool,
    /// The replica set's hosts.
    pub hosts: Vec<String>,
    /// The compressors both sides support, in the order the peer answered.
    pub compression: Vec<Compressor>,
    /// The whole reply.
    pub raw: Document,
}

impl HelloReply {
    /// Validates a reply: `ok`, and wire versions that overlap with this client's.
    pub fn from_reply(reply: Document) -> StatusResult<HelloReply> {
        if let Some(status) = Status::from_reply_document(&reply) {
            return Err(status);
        }
        let int = |key: &str| match reply.get(key) {
            Some(Bson::Int32(v)) => *v,
            Some(Bson::Int64(v)) => i32::try_from(*v).unwrap_or(i32::MAX),
            Some(Bson::Double(v)) => *v as i32,
            _ => 0,
        };
        let (min_wire_version, max_wire_version) = (int("minWireVersion"), int("maxWireVersion"));
        if max_wire_version < CLIENT_MIN_WIRE_VERSION || min_wire_version > CLIENT_MAX_WIRE_VERSION {
            return Err(Status::new(
                ErrorCode::IncompatibleServerVersion,
                format!(
                    "Server wire versions [{min_wire_version}, {max_wire_version}] do not overlap with this \
                     client's [{CLIENT_MIN_WIRE_VERSION}, {CLIENT_MAX_WIRE_VERSION}]"
                ),
            ));
        }
        let flag = |key: &str| matches!(reply.get(key), Some(Bson::Boolean(true)));
        let strings = |key: &str| -> Vec<String> {
            reply
                .get_array(key)
                .map(|a| a.iter().filter_map(Bson::as_str).map(str::to_owned).collect())
                .unwrap_or_default()
        };
        Ok(HelloReply {
            min_wire_version,
            max_wire_version,
            set_name: reply.get_str("setName").ok().map(str::to_owned),
            is_writable_primary: flag("isWritablePrimary") || flag("ismaster"),
            secondary: flag("secondary"),
            hosts: strings("hosts"),
            compression: strings("compression")
                .iter()
                .filter_map(|n| Compressor::from_name(n))
                .collect(),
            raw: reply,
        })
    }
}
