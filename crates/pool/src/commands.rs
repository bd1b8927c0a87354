//! The pool's server commands: `connPoolStats` and `dropConnections {hostAndPort: [...]}`.
//!
//! Both reach the pools through the process's [`EgressTagCloserManager`], as mongod's do: every pool
//! made with the manager in its options is registered there, and unregisters when dropped.

use std::sync::Arc;

use async_trait::async_trait;
use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};
use docwire_transport::{Command, CommandRegistry, CommandRequest, RequestContext};

use crate::stats::ConnectionPoolStats;
use crate::tag_closer::EgressTagCloserManager;

/// mongod's IDLFailedToParse: a required field is missing.
const IDL_FAILED_TO_PARSE: i32 = 40414;

/// The port a host without one is taken to mean (mongod's HostAndPort default).
const DEFAULT_PORT: &str = "27017";

/// Registers `connPoolStats` and `dropConnections`, both reporting through `manager`.
pub fn register_pool_commands(registry: &mut CommandRegistry, manager: &EgressTagCloserManager) {
    registry.register(Arc::new(ConnPoolStats::new(manager.clone())));
    registry.register(Arc::new(DropConnections::new(manager.clone())));
}

/// `connPoolStats`: the counters of every registered pool, in mongod's shape.
pub struct ConnPoolStats {
    manager: EgressTagCloserManager,
}

impl ConnPoolStats {
    /// The command, reading the pools registered with `manager`.
    pub fn new(manager: EgressTagCloserManager) -> ConnPoolStats {
        ConnPoolStats { manager }
    }

    /// The reply body without `ok`: the `total*` fields, `pools`, `hosts` and the empty sections mongod
    /// fills from connection kinds docwire does not have.
    pub fn report(&self) -> Document {
        let mut stats = ConnectionPoolStats::new();
        self.manager.append_connection_stats(&mut stats);
        // mongod reports its legacy DBClient connections here; docwire has none.
        let mut out = Document::new();
        out.insert("numClientConnections", 0_i32);
        out.insert("numAScopedConnections", 0_i32);
        out.extend(stats.to_document());
        out.insert("replicaSets", Document::new());
        out
    }
}

#[async_trait]
impl Command for ConnPoolStats {
    fn names(&self) -> &'static [&'static str] {
        &["connPoolStats"]
    }

    fn help(&self) -> &'static str {
        "stats about connections between servers in a replica set or sharded cluster."
    }

    async fn run(
        &self,
        _ctx: &mut RequestContext<'_>,
        _request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        reply.set_command_reply(self.report());
        Ok(())
    }
}

/// `dropConnections {hostAndPort: ["host:port", ...]}`: drops every pool's connections to those hosts.
pub struct DropConnections {
    manager: EgressTagCloserManager,
}

impl DropConnections {
    /// The command, dropping through `manager`.
    pub fn new(manager: EgressTagCloserManager) -> DropConnections {
        DropConnections { manager }
    }
}

#[async_trait]
impl Command for DropConnections {
    fn names(&self) -> &'static [&'static str] {
        &["dropConnections"]
    }

    fn help(&self) -> &'static str {
        "drop outgoing connections to specific hosts"
    }

    async fn run(
        &self,
        _ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        if request.database != "admin" {
            return Err(Status::new(
                ErrorCode::Unauthorized,
                format!("{} may only be run against the admin database.", request.name),
            ));
        }
        // Every host is checked before any is dropped, so a bad entry drops nothing.
        let hosts = parse_hosts(&request.merged()?)?;
        for host in &hosts {
            self.manager.drop_connections_to(host);
        }
        reply.set_command_reply(Document::new());
        Ok(())
    }
}

/// The `hostAndPort` array as `host:port` strings (a missing port is 27017).
fn parse_hosts(command: &Document) -> StatusResult<Vec<String>> {
    let Some(value) = command.get("hostAndPort") else {
        return Err(Status::new(
            IDL_FAILED_TO_PARSE,
            "BSON field 'dropConnections.hostAndPort' is missing but a required field",
        ));
    };
    let Bson::Array(entries) = value else {
        return Err(Status::new(
            ErrorCode::TypeMismatch,
            format!(
                "BSON field 'dropConnections.hostAndPort' is the wrong type '{:?}', expected type 'array'",
                value.element_type()
            ),
        ));
    };
    entries
        .iter()
        .map(|entry| match entry {
            Bson::String(host) => normalize(host),
            other => Err(Status::new(
                ErrorCode::TypeMismatch,
                format!(
                    "BSON field 'dropConnections.hostAndPort' has an element of type '{:?}', expected type 'string'",
                    other.element_type()
                ),
            )),
        })
        .collect()
}

/// `host[:port]` checked and given the default port when it has none.
fn normalize(host: &str) -> StatusResult<String> {
    let bad = || Status::new(ErrorCode::FailedToParse, format!("Invalid HostAndPort '{host}'"));
    // A bracketed IPv6 address may contain colons of its own.
    let (name, port) = match host.strip_prefix('[') {
        Some(rest) => {
            let (addr, after) = rest.split_once(']').ok_or_else(bad)?;
            (addr, after.strip_prefix(':'))
        }
        None => match host.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        },
    };
    if name.is_empty() {
        return Err(bad());
    }
    match port {
        None => Ok(format!("{host}:{DEFAULT_PORT}")),
        Some(port) if port.parse::<u16>().is_ok_and(|p| p > 0) => Ok(host.to_owned()),
        Some(_) => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use bson::doc;

    use super::*;

    #[test]
    fn hosts_are_checked_and_defaulted() {
        let hosts = parse_hosts(&doc! {"hostAndPort": ["a:1", "b", "[::1]:27018"]}).unwrap();
        assert_eq!(hosts, ["a:1", "b:27017", "[::1]:27018"]);
        for bad in ["", ":1", "a:0", "a:x", "[::1"] {
            let err = parse_hosts(&doc! {"hostAndPort": [bad]}).unwrap_err();
            assert_eq!(err.code(), ErrorCode::FailedToParse, "{bad}");
        }
        let err = parse_hosts(&doc! {"hostAndPort": "a:1"}).unwrap_err();
        assert_eq!(err.code(), ErrorCode::TypeMismatch);
        let err = parse_hosts(&doc! {"hostAndPort": [1]}).unwrap_err();
        assert_eq!(err.code(), ErrorCode::TypeMismatch);
        let err = parse_hosts(&doc! {}).unwrap_err();
        assert_eq!(err.code().code(), IDL_FAILED_TO_PARSE);
    }

    #[test]
    fn report_without_pools_has_mongods_shape() {
        let report = ConnPoolStats::new(EgressTagCloserManager::new()).report();
        for field in [
            "totalInUse",
            "totalAvailable",
            "totalCreated",
            "totalRefreshing",
            "pools",
            "hosts",
        ] {
            assert!(report.contains_key(field), "{field} missing from {report}");
        }
        assert_eq!(report.get_i64("totalCreated").unwrap(), 0);
    }
}
