//! serverStatus' `transportSecurity`: how many incoming connections negotiated each TLS version since
//! start (mongod's cumulative counters, reported even with TLS off), appended to the registered
//! serverStatus by a wrapper as the other sections are.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bson::{Document, doc};
use docwire_rpc::{ReplyBuilder, StatusResult};

use crate::command::{Command, CommandRegistry, CommandRequest};
use crate::service_entry_point::RequestContext;
use crate::session::NetworkCounters;
use crate::session_manager::SessionManager;

/// Incoming TLS connections by negotiated version.
#[derive(Debug, Default)]
pub struct TransportSecurityCounters {
    tls_1_0: AtomicU64,
    tls_1_1: AtomicU64,
    tls_1_2: AtomicU64,
    tls_1_3: AtomicU64,
    unknown: AtomicU64,
}

impl TransportSecurityCounters {
    /// Counts one connection that negotiated `version` (`1.2`, `1.3`, ...).
    pub fn record(&self, version: &str) {
        let counter = match version {
            "1.0" => &self.tls_1_0,
            "1.1" => &self.tls_1_1,
            "1.2" => &self.tls_1_2,
            "1.3" => &self.tls_1_3,
            _ => &self.unknown,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The section as mongod reports it (NumberLongs keyed by version).
    pub fn to_document(&self) -> Document {
        let n = |c: &AtomicU64| i64::try_from(c.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        doc! {
            "1.0": n(&self.tls_1_0),
            "1.1": n(&self.tls_1_1),
            "1.2": n(&self.tls_1_2),
            "1.3": n(&self.tls_1_3),
            "unknown": n(&self.unknown),
        }
    }
}

/// serverStatus with `transportSecurity` appended.
pub struct TlsServerStatus {
    inner: Arc<dyn Command>,
    counters: Arc<NetworkCounters>,
}

#[async_trait]
impl Command for TlsServerStatus {
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
        reply.body_mut().insert(
            "transportSecurity",
            self.counters.transport_security.to_document(),
        );
        Ok(())
    }
}

/// Wraps the registered serverStatus (if any) so it reports `sessions`' TLS connections.
pub fn register_tls_server_status(registry: &mut CommandRegistry, sessions: &Arc<SessionManager>) {
    if let Some(inner) = registry.find("serverStatus").cloned() {
        registry.register(Arc::new(TlsServerStatus {
            inner,
            counters: sessions.counters().clone(),
        }));
    }
}
