//! `serverStatus`: host, version, process, uptime, connections, network, opcounters and memory, with
//! mongod's field names and types.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use bson::{DateTime, doc};
use docwire_rpc::{ReplyBuilder, StatusResult};
use docwire_service::ClockTime;

use crate::command::{Command, CommandRequest};
use crate::commands::build_info::SERVER_VERSION;
use crate::commands::counters::OpCounters;
use crate::commands::deps::AdminDeps;
use crate::commands::util::{hostname, int, long, proc_status_mb};
use crate::service_entry_point::RequestContext;
use crate::session_manager::SessionManager;

/// The serverStatus command.
pub struct ServerStatus {
    sessions: Arc<SessionManager>,
    started: ClockTime,
    op_counters: Arc<OpCounters>,
}

impl ServerStatus {
    /// serverStatus over `deps`' session manager, start time and counters.
    pub fn new(deps: &AdminDeps) -> ServerStatus {
        ServerStatus {
            sessions: deps.sessions.clone(),
            started: deps.started,
            op_counters: deps.op_counters.clone(),
        }
    }
}

#[async_trait]
impl Command for ServerStatus {
    fn names(&self) -> &'static [&'static str] {
        &["serverStatus"]
    }

    fn help(&self) -> &'static str {
        "returns lots of administrative server statistics"
    }

    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        _request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let service = ctx.op_ctx.service_context();
        let uptime = service.now().saturating_duration_since(self.started);
        let stats = self.sessions.stats();
        let net = self.sessions.counters();
        let host = match self.sessions.sessions().first() {
            Some(s) if !s.is_unix() => format!("{}:{}", hostname(), port_of(s.local())),
            _ => hostname(),
        };
        reply.set_command_reply(doc! {
            "host": host,
            "version": SERVER_VERSION,
            "process": "docwire",
            "pid": i64::from(std::process::id()),
            "uptime": uptime.as_secs_f64().floor(),
            "uptimeMillis": long(u64::try_from(uptime.as_millis()).unwrap_or(u64::MAX)),
            "uptimeEstimate": long(uptime.as_secs()),
            "localTime": DateTime::now(),
            "connections": {
                "current": int(stats.current),
                "available": int(stats.available),
                "totalCreated": long(stats.total_created),
                "rejected": long(stats.rejected),
                // mongod's "active": clients running an operation (this one included).
                "active": int(service.operation_count() as u64),
            },
            "network": {
                "bytesIn": long(net.bytes_in.load(Ordering::Relaxed)),
                "bytesOut": long(net.bytes_out.load(Ordering::Relaxed)),
                "numRequests": long(net.num_requests.load(Ordering::Relaxed)),
            },
            "opcounters": self.op_counters.to_document(),
            "mem": {
                "bits": 64,
                "resident": proc_status_mb("VmRSS:").unwrap_or(0),
                "virtual": proc_status_mb("VmSize:").unwrap_or(0),
                "supported": true,
            },
            "ok": 1.0,
        });
        Ok(())
    }
}

/// The port of a `host:port` address (IPv6 hosts included).
fn port_of(address: &str) -> &str {
    address.rsplit(':').next().unwrap_or(address)
}
