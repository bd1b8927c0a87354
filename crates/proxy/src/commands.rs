//! The proxy's own commands: `proxyStats` (per-command counts and latency percentiles, pins, the request
//! log's counters) and serverStatus with a `proxy` section (mode, upstream topology, pins, the pool).

use std::sync::Arc;

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use docwire_pool::{ClientConnection, ConnectionPool};
use docwire_rpc::{ReplyBuilder, StatusResult};
use docwire_transport::{Command, CommandRegistry, CommandRequest, RequestContext};

use crate::pins::Pins;
use crate::request_log::RequestLog;
use crate::router::Router;
use crate::stats::ProxyStats;

/// What the proxy's commands report on.
#[derive(Clone)]
pub struct ProxyReport {
    /// Per-command statistics.
    pub stats: Arc<ProxyStats>,
    /// Cursor and transaction pins.
    pub pins: Arc<Pins>,
    /// Host selection (mode, topology).
    pub router: Router,
    /// The upstream pool.
    pub pool: Arc<ConnectionPool<ClientConnection>>,
    /// The request log.
    pub log: RequestLog,
}

fn long(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl ProxyReport {
    /// serverStatus' `proxy` section.
    pub fn section(&self) -> Document {
        let topology = self.router.topology();
        let servers: Vec<Bson> = topology
            .servers
            .values()
            .map(|entry| {
                let sd = &entry.description;
                Bson::Document(doc! {
                    "host": &sd.address,
                    "type": sd.server_type.name(),
                    "roundTripTimeMicros": sd.round_trip_time
                        .map_or(Bson::Null, |rtt| Bson::Int64(i64::try_from(rtt.as_micros()).unwrap_or(i64::MAX))),
                    "error": sd.error.clone().map_or(Bson::Null, Bson::String),
                })
            })
            .collect();
        let (cursors, transactions, held) = self.pins.counts();
        let log = self.log.stats();
        doc! {
            "mode": self.router.mode().name(),
            "upstream": {
                "topologyType": topology.topology_type.name(),
                "setName": topology.set_name.clone().map_or(Bson::Null, Bson::String),
                "servers": servers,
            },
            "pinned": {
                "cursors": long(cursors),
                "transactions": long(transactions),
                "connections": long(held),
            },
            "pool": self.pool.stats_document(),
            "requestLog": {
                "logged": i64::try_from(log.logged).unwrap_or(i64::MAX),
                "sampledOut": i64::try_from(log.sampled_out).unwrap_or(i64::MAX),
                "slow": i64::try_from(log.slow).unwrap_or(i64::MAX),
                "dropped": i64::try_from(log.dropped).unwrap_or(i64::MAX),
            },
        }
    }
}

/// `proxyStats`: per-command counts and latency percentiles, plus the serverStatus `proxy` section.
pub struct ProxyStatsCommand {
    report: ProxyReport,
}

#[async_trait]
impl Command for ProxyStatsCommand {
    fn names(&self) -> &'static [&'static str] {
        &["proxyStats"]
    }

    fn help(&self) -> &'static str {
        "per-command request counts, errors, retries and latency percentiles of the proxy"
    }

    async fn run(
        &self,
        _ctx: &mut RequestContext<'_>,
        _request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let mut body = self.report.stats.to_document();
        for (key, value) in self.report.section() {
            body.insert(key, value);
        }
        reply.set_command_reply(body);
        Ok(())
    }
}

/// serverStatus with the `proxy` section appended.
pub struct ProxyServerStatus {
    inner: Arc<dyn Command>,
    report: ProxyReport,
}

#[async_trait]
impl Command for ProxyServerStatus {
    fn names(&self) -> &'static [&'static str] {
        self.inner.names()
    }

    fn help(&self) -> &'static str {
        self.inner.help()
    }

    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        self.inner.run(ctx, request, reply).await?;
        reply.body_mut().insert("process", "docwire proxy");
        reply.body_mut().insert("proxy", self.report.section());
        Ok(())
    }
}

/// Registers proxyStats and wraps serverStatus (call after the admin commands are registered).
pub fn register_proxy_commands(registry: &mut CommandRegistry, report: &ProxyReport) {
    registry.register(Arc::new(ProxyStatsCommand {
        report: report.clone(),
    }));
    if let Some(inner) = registry.find("serverStatus").cloned() {
        registry.register(Arc::new(ProxyServerStatus {
            inner,
            report: report.clone(),
        }));
    }
}
