//! `ReplSetConfig`: the set's name, its members and this member's place among them, the timings, and
//! the electionId encoding (mongod's `OID::fromTerm`).

use std::time::Duration;

use bson::oid::ObjectId;
use docwire_rpc::{ErrorCode, Status, StatusResult};

/// How a role-simulated replica set is made up and timed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplSetConfig {
    /// `--replSet`: the set's name.
    pub set_name: String,
    /// `--replSetMembers`: every member's `host:port`, in priority order (the first is preferred).
    pub members: Vec<String>,
    /// This member's index in `members`.
    pub me: usize,
    /// How often each member sends hello to each other member.
    pub heartbeat_interval: Duration,
    /// How long a member that knows no primary waits before it stands; the member at index `i` waits
    /// `(i + 1)` times this, so the preferred electable member steps up first.
    pub election_timeout: Duration,
}

impl ReplSetConfig {
    /// A config for `set_name` with `members` (comma-separated `host:port`), where this member is the
    /// one listening on `port`. InvalidReplicaSetConfig if the list is empty, repeats a member, or names
    /// no member on `port`.
    pub fn new(set_name: &str, members: &str, port: u16) -> StatusResult<ReplSetConfig> {
        let bad = |why: String| Status::new(ErrorCode::InvalidReplicaSetConfig, why);
        if set_name.is_empty() {
            return Err(bad("the replica set name is empty".into()));
        }
        let members: Vec<String> = members
            .split(',')
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
            .collect();
        if members.is_empty() {
            return Err(bad("--replSetMembers lists no member".into()));
        }
        for (i, member) in members.iter().enumerate() {
            if members[..i].contains(member) {
                return Err(bad(format!("{member} is listed twice in --replSetMembers")));
            }
        }
        let suffix = format!(":{port}");
        let me = members.iter().position(|m| m.ends_with(&suffix)).ok_or_else(|| {
            bad(format!(
                "no member of {members:?} is on this server's port {port}"
            ))
        })?;
        Ok(ReplSetConfig {
            set_name: set_name.to_owned(),
            members,
            me,
            heartbeat_interval: Duration::from_millis(500),
            election_timeout: Duration::from_millis(1000),
        })
    }

    /// This member's `host:port`.
    pub fn me(&self) -> &str {
        self.members.get(self.me).map_or("", String::as_str)
    }

    /// The other members' indexes.
    pub fn others(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.members.len()).filter(|&i| i != self.me)
    }
}

/// The electionId of `term`: `7fffffff` then the term, big-endian (mongod's `OID::fromTerm`), so
/// electionIds order as their terms do.
pub fn election_id(term: u64) -> ObjectId {
    let mut bytes = [0u8; 12];
    bytes[..4].copy_from_slice(&[0x7f, 0xff, 0xff, 0xff]);
    bytes[4..].copy_from_slice(&term.to_be_bytes());
    ObjectId::from_bytes(bytes)
}

/// The term an electionId carries (see [`election_id`]).
pub fn term_of(id: &ObjectId) -> u64 {
    let bytes = id.bytes();
    let mut term = [0u8; 8];
    term.copy_from_slice(&bytes[4..]);
    u64::from_be_bytes(term)
}
