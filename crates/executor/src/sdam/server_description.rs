//! `ServerDescription`: what one hello reply says about one server (the SDAM specification's model).

use std::time::Duration;

use bson::oid::ObjectId;
use bson::{Bson, Document};

/// A server's role, as the SDAM specification names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerType {
    /// Not (yet) known: no reply, or an error.
    Unknown,
    /// A mongod that is not in a replica set.
    Standalone,
    /// A mongos.
    Mongos,
    /// Named as primary by another member, not yet confirmed.
    PossiblePrimary,
    /// The replica-set primary.
    RSPrimary,
    /// A secondary.
    RSSecondary,
    /// An arbiter.
    RSArbiter,
    /// A hidden, starting or recovering member.
    RSOther,
    /// A member not yet initiated (`isreplicaset: true`).
    RSGhost,
}

impl ServerType {
    /// The specification's name.
    pub fn name(self) -> &'static str {
        match self {
            ServerType::Unknown => "Unknown",
            ServerType::Standalone => "Standalone",
            ServerType::Mongos => "Mongos",
            ServerType::PossiblePrimary => "PossiblePrimary",
            ServerType::RSPrimary => "RSPrimary",
            ServerType::RSSecondary => "RSSecondary",
            ServerType::RSArbiter => "RSArbiter",
            ServerType::RSOther => "RSOther",
            ServerType::RSGhost => "RSGhost",
        }
    }

    /// Whether the server holds data (counts for logicalSessionTimeoutMinutes and reads).
    pub fn is_data_bearing(self) -> bool {
        matches!(
            self,
            ServerType::Standalone | ServerType::Mongos | ServerType::RSPrimary | ServerType::RSSecondary
        )
    }
}

/// A server's topologyVersion: a process id and a counter that grows with every state change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopologyVersion {
    /// The server process.
    pub process_id: ObjectId,
    /// Changes within that process.
    pub counter: i64,
}

impl TopologyVersion {
    /// Reads `{processId, counter}`.
    pub fn from_document(doc: &Document) -> Option<TopologyVersion> {
        Some(TopologyVersion {
            process_id: doc.get_object_id("processId").ok()?,
            counter: int(doc.get("counter"))?,
        })
    }

    /// Whether `self` is older than `current` (same process, lower counter); other processes are newer.
    pub fn is_older_than(&self, current: &TopologyVersion) -> bool {
        self.process_id == current.process_id && self.counter < current.counter
    }
}

/// One server as last seen.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerDescription {
    /// `host:port`, lower case.
    pub address: String,
    /// Its role.
    pub server_type: ServerType,
    /// Why it is Unknown, if it is because of an error.
    pub error: Option<String>,
    /// The round trip of the hello that made this description.
    pub round_trip_time: Option<Duration>,
    /// Wire versions.
    pub min_wire_version: i32,
    /// See `min_wire_version`.
    pub max_wire_version: i32,
    /// The address the server calls itself.
    pub me: Option<String>,
    /// Members it lists (hosts, passives, arbiters).
    pub hosts: Vec<String>,
    /// The replica set's name.
    pub set_name: Option<String>,
    /// The config version.
    pub set_version: Option<i64>,
    /// The primary's election id.
    pub election_id: Option<ObjectId>,
    /// Who it thinks the primary is.
    pub primary: Option<String>,
    /// Its topologyVersion.
    pub topology_version: Option<TopologyVersion>,
    /// Session timeout.
    pub logical_session_timeout_minutes: Option<i64>,
    /// Member tags, for read preferences.
    pub tags: Document,
}

fn int(value: Option<&Bson>) -> Option<i64> {
    match value? {
        Bson::Int32(v) => Some(i64::from(*v)),
        Bson::Int64(v) => Some(*v),
        Bson::Double(v) if v.fract() == 0.0 => Some(*v as i64),
        _ => None,
    }
}

fn truthy(doc: &Document, key: &str) -> bool {
    match doc.get(key) {
        Some(Bson::Boolean(v)) => *v,
        Some(other) => int(Some(other)).is_some_and(|v| v != 0),
        None => false,
    }
}

fn lower_list(doc: &Document, key: &str) -> Vec<String> {
    doc.get_array(key)
        .map(|hosts| {
            hosts
                .iter()
                .filter_map(Bson::as_str)
                .map(str::to_lowercase)
                .collect()
        })
        .unwrap_or_default()
}

impl ServerDescription {
    /// A server not yet heard from.
    pub fn unknown(address: &str) -> ServerDescription {
        ServerDescription {
            address: address.to_lowercase(),
            server_type: ServerType::Unknown,
            error: None,
            round_trip_time: None,
            min_wire_version: 0,
            max_wire_version: 0,
            me: None,
            hosts: Vec::new(),
            set_name: None,
            set_version: None,
            election_id: None,
            primary: None,
            topology_version: None,
            logical_session_timeout_minutes: None,
            tags: Document::new(),
        }
    }

    /// An Unknown server because of `error`, keeping the error's topologyVersion if it had one.
    pub fn with_error(
        address: &str,
        error: impl Into<String>,
        tv: Option<TopologyVersion>,
    ) -> ServerDescription {
        ServerDescription {
            error: Some(error.into()),
            topology_version: tv,
            ..ServerDescription::unknown(address)
        }
    }

    /// What the hello `reply` from `address` says.
    pub fn from_hello(address: &str, reply: &Document, rtt: Option<Duration>) -> ServerDescription {
        let mut sd = ServerDescription::unknown(address);
        sd.round_trip_time = rtt;
        sd.topology_version = reply
            .get_document("topologyVersion")
            .ok()
            .and_then(TopologyVersion::from_document);
        if !truthy(reply, "ok") {
            sd.error = Some(reply.get_str("errmsg").unwrap_or("hello failed").to_owned());
            return sd;
        }
        sd.min_wire_version = int(reply.get("minWireVersion")).unwrap_or(0) as i32;
        sd.max_wire_version = int(reply.get("maxWireVersion")).unwrap_or(0) as i32;
        sd.me = reply.get_str("me").ok().map(str::to_lowercase);
        sd.hosts = lower_list(reply, "hosts");
        sd.hosts.extend(lower_list(reply, "passives"));
        sd.hosts.extend(lower_list(reply, "arbiters"));
        sd.set_name = reply.get_str("setName").ok().map(str::to_owned);
        sd.set_version = int(reply.get("setVersion"));
        sd.election_id = reply.get_object_id("electionId").ok();
        sd.primary = reply.get_str("primary").ok().map(str::to_lowercase);
        sd.logical_session_timeout_minutes = int(reply.get("logicalSessionTimeoutMinutes"));
        sd.tags = reply.get_document("tags").cloned().unwrap_or_default();
        let primary = truthy(reply, "isWritablePrimary") || truthy(reply, "ismaster");
        sd.server_type = if truthy(reply, "isreplicaset") {
            ServerType::RSGhost
        } else if reply.get_str("msg").ok() == Some("isdbgrid") {
            ServerType::Mongos
        } else if sd.set_name.is_some() {
            if truthy(reply, "hidden") {
                ServerType::RSOther
            } else if primary {
                ServerType::RSPrimary
            } else if truthy(reply, "secondary") {
                ServerType::RSSecondary
            } else if truthy(reply, "arbiterOnly") {
                ServerType::RSArbiter
            } else {
                ServerType::RSOther
            }
        } else {
            ServerType::Standalone
        };
        sd
    }
}
