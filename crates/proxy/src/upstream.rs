//! `--upstream`: one `host:port` (or a Unix socket path ending in `.sock`), a comma-separated list, or a
//! `mongodb://h1,h2,h3/?replicaSet=rs0` URI (whose `tls=true`, `tlsCAFile=` and `tlsCertificateKeyFile=`
//! options ask for TLS to the upstreams).

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
    /// TLS to the upstreams: `tls=true` (or `ssl=true`) in the URI, or a TLS file option.
    pub tls: bool,
    /// `tlsCAFile=` from the URI.
    pub tls_ca_file: Option<String>,
    /// `tlsCertificateKeyFile=` from the URI.
    pub tls_certificate_key_file: Option<String>,
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

/// Percent-decodes a URI option value (`%2F` and the like); malformed escapes are kept as they are.
fn unescape(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
        let (mut tls, mut tls_ca_file, mut tls_certificate_key_file) = (None, None, None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key.to_ascii_lowercase().as_str() {
                "replicaset" => replica_set = Some(value.to_owned()),
                "directconnection" => direct = Some(value.eq_ignore_ascii_case("true")),
                "tls" | "ssl" => tls = Some(value.eq_ignore_ascii_case("true")),
                "tlscafile" => tls_ca_file = Some(unescape(value)),
                "tlscertificatekeyfile" => tls_certificate_key_file = Some(unescape(value)),
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
            // A TLS file option implies tls=true, as in drivers; tls=false with one is a contradiction.
            tls: match tls {
                Some(false) if tls_ca_file.is_some() || tls_certificate_key_file.is_some() => {
                    return Err(bad("tls=false contradicts tlsCAFile / tlsCertificateKeyFile"));
                }
                Some(on) => on,
                None => tls_ca_file.is_some() || tls_certificate_key_file.is_some(),
            },
            tls_ca_file,
            tls_certificate_key_file,
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
    fn tls_options_in_the_uri() {
        let plain = UpstreamSpec::parse("mongodb://h1:1/").unwrap();
        assert!(!plain.tls && plain.tls_ca_file.is_none());
        assert!(UpstreamSpec::parse("mongodb://h1:1/?tls=true").unwrap().tls);
        assert!(UpstreamSpec::parse("mongodb://h1:1/?ssl=true").unwrap().tls);
        let files =
            UpstreamSpec::parse("mongodb://h1:1/?tlsCAFile=%2Ftmp%2Fca.pem&tlsCertificateKeyFile=/tmp/c.pem")
                .unwrap();
        assert!(files.tls);
        assert_eq!(files.tls_ca_file.as_deref(), Some("/tmp/ca.pem"));
        assert_eq!(files.tls_certificate_key_file.as_deref(), Some("/tmp/c.pem"));
        assert!(UpstreamSpec::parse("mongodb://h1:1/?tls=false&tlsCAFile=/tmp/ca.pem").is_err());
    }

    #[test]
    fn ipv6_literals_keep_their_port() {
        assert_eq!(UpstreamSpec::parse("[::1]:27018").unwrap().hosts, ["[::1]:27018"]);
        assert_eq!(UpstreamSpec::parse("[::1]").unwrap().hosts, ["[::1]:27017"]);
    }
}
