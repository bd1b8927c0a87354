//! `TopologyDescription`: the SDAM state machine. Hello replies and application errors go in; server
//! types, the set name, the max setVersion/electionId and the topology type come out.

use std::collections::BTreeMap;

use bson::oid::ObjectId;
use docwire_transport::client::{CLIENT_MAX_WIRE_VERSION, CLIENT_MIN_WIRE_VERSION};

use super::server_description::{ServerDescription, ServerType};

/// The topology's kind, as the SDAM specification names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopologyType {
    /// Not yet known.
    Unknown,
    /// One server, used directly.
    Single,
    /// A replica set whose primary is not known.
    ReplicaSetNoPrimary,
    /// A replica set with a known primary.
    ReplicaSetWithPrimary,
    /// mongoses.
    Sharded,
}

impl TopologyType {
    /// The specification's name.
    pub fn name(self) -> &'static str {
        match self {
            TopologyType::Unknown => "Unknown",
            TopologyType::Single => "Single",
            TopologyType::ReplicaSetNoPrimary => "ReplicaSetNoPrimary",
            TopologyType::ReplicaSetWithPrimary => "ReplicaSetWithPrimary",
            TopologyType::Sharded => "Sharded",
        }
    }
}

/// One server in the topology: its description and its connection-pool generation.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerEntry {
    /// The latest description.
    pub description: ServerDescription,
    /// Bumped whenever the server's pool is cleared; errors from older generations are stale.
    pub pool_generation: u64,
}

/// What a client knows about the deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct TopologyDescription {
    /// The kind of deployment.
    pub topology_type: TopologyType,
    /// The replica set's name, once known (or given).
    pub set_name: Option<String>,
    /// The highest setVersion seen from a primary.
    pub max_set_version: Option<i64>,
    /// The highest electionId seen from a primary.
    pub max_election_id: Option<ObjectId>,
    /// The servers by address.
    pub servers: BTreeMap<String, ServerEntry>,
    /// How many seeds the client was given (a lone standalone seed becomes Single).
    seed_count: usize,
}

/// How the client was told to connect.
#[derive(Clone, Debug, Default)]
pub struct TopologySettings {
    /// The seed list.
    pub seeds: Vec<String>,
    /// `replicaSet=`.
    pub set_name: Option<String>,
    /// `directConnection=true`.
    pub direct_connection: bool,
}

impl TopologyDescription {
    /// The starting topology for `settings`.
    pub fn new(settings: &TopologySettings) -> TopologyDescription {
        let topology_type = if settings.direct_connection {
            TopologyType::Single
        } else if settings.set_name.is_some() {
            TopologyType::ReplicaSetNoPrimary
        } else {
            TopologyType::Unknown
        };
        let servers = settings
            .seeds
            .iter()
            .map(|seed| {
                let sd = ServerDescription::unknown(seed);
                (
                    sd.address.clone(),
                    ServerEntry {
                        description: sd,
                        pool_generation: 0,
                    },
                )
            })
            .collect();
        TopologyDescription {
            topology_type,
            set_name: settings.set_name.clone(),
            max_set_version: None,
            max_election_id: None,
            servers,
            seed_count: settings.seeds.len(),
        }
    }

    /// A server's description.
    pub fn server(&self, address: &str) -> Option<&ServerDescription> {
        self.servers.get(address).map(|entry| &entry.description)
    }

    /// The primary's address, if one is known.
    pub fn primary(&self) -> Option<&str> {
        self.servers
            .values()
            .find(|e| e.description.server_type == ServerType::RSPrimary)
            .map(|e| e.description.address.as_str())
    }

    /// Whether every known server speaks a wire version this client does.
    pub fn is_compatible(&self) -> bool {
        self.servers.values().all(|e| {
            let sd = &e.description;
            sd.server_type == ServerType::Unknown
                || (sd.min_wire_version <= CLIENT_MAX_WIRE_VERSION
                    && sd.max_wire_version >= CLIENT_MIN_WIRE_VERSION)
        })
    }

    /// The smallest session timeout of the data-bearing servers; `None` if any lacks one.
    pub fn logical_session_timeout_minutes(&self) -> Option<i64> {
        let mut data = self
            .servers
            .values()
            .map(|e| &e.description)
            .filter(|sd| sd.server_type.is_data_bearing())
            .peekable();
        data.peek()?;
        data.map(|sd| sd.logical_session_timeout_minutes)
            .try_fold(i64::MAX, |min, v| v.map(|v| min.min(v)))
    }

    fn set(&mut self, sd: ServerDescription) {
        if let Some(entry) = self.servers.get_mut(&sd.address) {
            entry.description = sd;
        }
    }

    fn add_unknown(&mut self, address: &str) {
        if !self.servers.contains_key(address) {
            self.servers.insert(
                address.to_owned(),
                ServerEntry {
                    description: ServerDescription::unknown(address),
                    pool_generation: 0,
                },
            );
        }
    }

    fn check_if_has_primary(&mut self) {
        self.topology_type = if self.primary().is_some() {
            TopologyType::ReplicaSetWithPrimary
        } else {
            TopologyType::ReplicaSetNoPrimary
        };
    }

    /// Clears `address`'s pool (its generation goes up).
    pub fn clear_pool(&mut self, address: &str) {
        if let Some(entry) = self.servers.get_mut(address) {
            entry.pool_generation += 1;
        }
    }

    /// Applies a new description of one server (from a hello reply or an error): the SDAM transitions.
    pub fn update(&mut self, sd: ServerDescription) {
        let Some(current) = self.servers.get(&sd.address) else {
            return;
        };
        // A reply older than what we know (same process, lower counter) says nothing new.
        if let (Some(new), Some(old)) = (&sd.topology_version, &current.description.topology_version)
            && new.is_older_than(old)
        {
            return;
        }
        let address = sd.address.clone();
        let server_type = sd.server_type;
        self.set(sd.clone());
        match self.topology_type {
            TopologyType::Single => {
                if self.set_name.is_some() && self.set_name != sd.set_name {
                    self.set(ServerDescription::with_error(
                        &address,
                        "replica set name does not match",
                        None,
                    ));
                }
            }
            TopologyType::Unknown => match server_type {
                ServerType::Standalone => {
                    if self.seed_count == 1 {
                        self.topology_type = TopologyType::Single;
                    } else {
                        self.servers.remove(&address);
                    }
                }
                ServerType::Mongos => self.topology_type = TopologyType::Sharded,
                ServerType::RSPrimary => self.update_from_primary(sd),
                ServerType::RSSecondary | ServerType::RSArbiter | ServerType::RSOther => {
                    self.topology_type = TopologyType::ReplicaSetNoPrimary;
                    self.update_without_primary(sd);
                }
                _ => {}
            },
            TopologyType::Sharded => {
                if !matches!(server_type, ServerType::Unknown | ServerType::Mongos) {
                    self.servers.remove(&address);
                }
            }
            TopologyType::ReplicaSetNoPrimary => match server_type {
                ServerType::Standalone | ServerType::Mongos => {
                    self.servers.remove(&address);
                }
                ServerType::RSPrimary => self.update_from_primary(sd),
                ServerType::RSSecondary | ServerType::RSArbiter | ServerType::RSOther => {
                    self.update_without_primary(sd)
                }
                _ => {}
            },
            TopologyType::ReplicaSetWithPrimary => match server_type {
                ServerType::Standalone | ServerType::Mongos => {
                    self.servers.remove(&address);
                    self.check_if_has_primary();
                }
                ServerType::RSPrimary => self.update_from_primary(sd),
                ServerType::RSSecondary | ServerType::RSArbiter | ServerType::RSOther => {
                    self.update_with_primary_from_member(sd)
                }
                _ => self.check_if_has_primary(),
            },
        }
    }

    fn update_without_primary(&mut self, sd: ServerDescription) {
        match &self.set_name {
            None => self.set_name = sd.set_name.clone(),
            Some(name) if sd.set_name.as_ref() != Some(name) => {
                self.servers.remove(&sd.address);
                return;
            }
            Some(_) => {}
        }
        for host in &sd.hosts {
            self.add_unknown(host);
        }
        if let Some(primary) = &sd.primary
            && let Some(entry) = self.servers.get_mut(primary)
            && entry.description.server_type == ServerType::Unknown
        {
            entry.description.server_type = ServerType::PossiblePrimary;
        }
        if sd.me.as_ref().is_some_and(|me| *me != sd.address) {
            self.servers.remove(&sd.address);
        }
    }

    fn update_with_primary_from_member(&mut self, sd: ServerDescription) {
        if self.set_name != sd.set_name || sd.me.as_ref().is_some_and(|me| *me != sd.address) {
            self.servers.remove(&sd.address);
            self.check_if_has_primary();
            return;
        }
        if self.primary().is_none() {
            self.topology_type = TopologyType::ReplicaSetNoPrimary;
            if let Some(primary) = &sd.primary
                && let Some(entry) = self.servers.get_mut(primary)
                && entry.description.server_type == ServerType::Unknown
            {
                entry.description.server_type = ServerType::PossiblePrimary;
            }
        }
    }

    fn update_from_primary(&mut self, sd: ServerDescription) {
        match &self.set_name {
            None => self.set_name = sd.set_name.clone(),
            Some(name) if sd.set_name.as_ref() != Some(name) => {
                self.servers.remove(&sd.address);
                self.check_if_has_primary();
                return;
            }
            Some(_) => {}
        }
        if !self.accept_election(&sd) {
            self.set(ServerDescription::with_error(
                &sd.address,
                "primary marked stale due to electionId/setVersion mismatch",
                None,
            ));
            self.check_if_has_primary();
            return;
        }
        let stale: Vec<String> = self
            .servers
            .values()
            .filter(|e| {
                e.description.server_type == ServerType::RSPrimary && e.description.address != sd.address
            })
            .map(|e| e.description.address.clone())
            .collect();
        for address in stale {
            self.set(ServerDescription::with_error(
                &address,
                "primary marked stale due to discovery of newer primary",
                None,
            ));
        }
        for host in &sd.hosts {
            self.add_unknown(host);
        }
        self.servers.retain(|address, _| sd.hosts.contains(address));
        self.check_if_has_primary();
    }

    /// Whether a primary's (electionId, setVersion) is not older than the newest seen, updating the max.
    fn accept_election(&mut self, sd: &ServerDescription) -> bool {
        if sd.max_wire_version >= 17 {
            // 6.0+: electionId first, then setVersion; a missing value is older than any present one.
            let new = (sd.election_id, sd.set_version);
            let max = (self.max_election_id, self.max_set_version);
            if new < max {
                return false;
            }
            self.max_election_id = sd.election_id;
            self.max_set_version = sd.set_version;
            return true;
        }
        if let (Some(set_version), Some(election_id)) = (sd.set_version, sd.election_id) {
            if let (Some(max_sv), Some(max_eid)) = (self.max_set_version, self.max_election_id)
                && (max_sv > set_version || (max_sv == set_version && max_eid > election_id))
            {
                return false;
            }
            self.max_election_id = Some(election_id);
        }
        if let Some(set_version) = sd.set_version
            && self.max_set_version.is_none_or(|max| set_version > max)
        {
            self.max_set_version = Some(set_version);
        }
        true
    }
}
