//! `--upstream`: one `host:port` (or a Unix socket path ending in `.sock`), a comma-separated list, or a
//! `mongodb://h1,h2,h3/?replicaSet=rs0` URI.

use docwire_executor::sdam::TopologySettings;
use docwire_rpc::{ErrorCode, Status, StatusResult};

/// The deployment the proxy serves: its seed hosts and, for a replica set, its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamSpec {
    /// `host:port` seeds, lower case, in the order given.
    pub hosts: Vec<String>,
    /// `replicaSet=` from the URI.
    pub replica_set: Option<String>,
    /// `directConnection=true` from the URI (or a single bare host).
    pub direct_connection: bool,
}

fn bad(why: impl std::fmt::Display) -> Status {
    Status::new(ErrorCode::FailedToParse, format!("bad --upstream: {why}"))
}

fn normalize_host(host: &str) -> StatusResult<String> {
    let host = host.trim();
    if host.is_empty() {
        return Err(bad("an empty host"));
    }
    if host.contains('@') {
        return Err(bad(
            "credentials do not belong in the upstream URI (they would show in process listings)",
        ));
    }
    // A Unix socket path (URI-escaped in a mongodb:// URI, as drivers write it), taken as it is.
    let unescaped = host.replace("%2F", "/").replace("%2f", "/");
    if unescaped.ends_with(".sock") {
        return Ok(unescaped);
    }
    // IPv6 literals keep their brackets; a missing port is mongod's default.
    let has_port = match host.rfind(']') {
        Some(close) => host[close..].contains(':'),
        None => host.contains(':'),
    };
    let host = host.to_lowercase();
    Ok(if has_port { host } else { format!("{host}:27017") })
}

impl UpstreamSpec {
    /// Parses the flag's value.
    pub fn parse(value: &str) -> StatusResult<UpstreamSpec> {
        let (hosts, query) = match value.strip_prefix("mongodb://") {
            Some(rest) => {
                let (hosts, after) = rest.split_once('/').unwrap_or((rest, ""));
                let query = after.split_once('?').map_or(after, |(_, q)| q);
                (hosts, query)
            }
            None if value.starts_with("mongodb+srv://") => {
                return Err(bad("mongodb+srv:// is not supported; list the hosts"));
            }
            None => (value, ""),
        };
        let hosts = hosts
            .split(',')
            .map(normalize_host)
            .collect::<StatusResult<Vec<_>>>()?;
        let mut replica_set = None;
        let mut direct = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key.to_ascii_lowercase().as_str() {
                "replicaset" => replica_set = Some(value.to_owned()),
                "directconnection" => direct = Some(value.eq_ignore_ascii_case("true")),
                _ => {}
            }
        }
        if direct == Some(true) && hosts.len() > 1 {
            return Err(bad("directConnection=true needs exactly one host"));
        }
        Ok(UpstreamSpec {
            direct_connection: direct.unwrap_or(hosts.len() == 1 && replica_set.is_none()),
            hosts,
            replica_set,
        })
    }

    /// The monitor's settings.
    pub fn topology_settings(&self) -> TopologySettings {
        TopologySettings {
            seeds: self.hosts.clone(),
            set_name: self.replica_set.clone(),
            direct_connection: self.direct_connection,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn a_bare_host_is_a_direct_connection() {
        let spec = UpstreamSpec::parse("Localhost:27019").unwrap();
        assert_eq!(spec.hosts, ["localhost:27019"]);
        assert!(spec.direct_connection);
        assert_eq!(spec.replica_set, None);
        assert_eq!(UpstreamSpec::parse("db1").unwrap().hosts, ["db1:27017"]);
    }

    #[test]
    fn a_replica_set_uri_lists_its_seeds() {
        let spec = UpstreamSpec::parse("mongodb://h1:1,h2:2,h3/?replicaSet=rs0&w=majority").unwrap();
        assert_eq!(spec.hosts, ["h1:1", "h2:2", "h3:27017"]);
        assert_eq!(spec.replica_set.as_deref(), Some("rs0"));
        assert!(!spec.direct_connection);
        let settings = spec.topology_settings();
        assert_eq!(settings.seeds.len(), 3);
        assert_eq!(settings.set_name.as_deref(), Some("rs0"));
    }

    #[test]
    fn credentials_and_srv_are_refused() {
        assert!(UpstreamSpec::parse("mongodb://u:p@h1/").is_err());
        assert!(UpstreamSpec::parse("mongodb+srv://cluster.example.com/").is_err());
        assert!(UpstreamSpec::parse("mongodb://h1,h2/?directConnection=true").is_err());
        assert!(UpstreamSpec::parse("").is_err());
    }

    #[test]
    fn unix_socket_paths_are_kept() {
        assert_eq!(
            UpstreamSpec::parse("/tmp/mongodb-27017.sock").unwrap().hosts,
            ["/tmp/mongodb-27017.sock"]
        );
        let escaped = UpstreamSpec::parse("mongodb://%2Ftmp%2Fmongodb-27017.sock/").unwrap();
        assert_eq!(escaped.hosts, ["/tmp/mongodb-27017.sock"]);
        assert!(escaped.direct_connection);
    }

    #[test]
    fn ipv6_literals_keep_their_port() {
        assert_eq!(UpstreamSpec::parse("[::1]:27018").unwrap().hosts, ["[::1]:27018"]);
        assert_eq!(UpstreamSpec::parse("[::1]").unwrap().hosts, ["[::1]:27017"]);
    }
}
