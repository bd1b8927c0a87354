//! The proxy's handshake: the local hello, presented as a mongos (`msg: "isdbgrid"`) and carrying the
//! upstream's real wire versions and limits as learned from its handshake.
//!
//! Why a mongos and not a standalone: drivers send everything to a single mongos as they do to a
//! standalone, but only to a mongos (or a replica set) do they send `$readPreference`, retryable writes
//! (`lsid` + `txnNumber`) and transactions — everything the proxy routes on.

use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use bson::{Bson, Document};
use docwire_rpc::{ReplyBuilder, StatusResult};
use docwire_transport::{Command, CommandRegistry, CommandRequest, RequestContext};

/// The hello fields copied from the upstream, so drivers see what they will really talk to.
pub const MIRRORED_FIELDS: [&str; 6] = [
    "maxBsonObjectSize",
    "maxMessageSizeBytes",
    "maxWriteBatchSize",
    "minWireVersion",
    "maxWireVersion",
    "logicalSessionTimeoutMinutes",
];

/// The upstream's limits, once one of its handshakes has been seen.
#[derive(Debug, Default)]
pub struct UpstreamLimits {
    learned: RwLock<Option<Document>>,
}

impl UpstreamLimits {
    /// Nothing learned yet (the local hello's values stand until then).
    pub fn new() -> UpstreamLimits {
        UpstreamLimits::default()
    }

    /// Whether an upstream handshake has been seen.
    pub fn is_known(&self) -> bool {
        self.learned
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Keeps the mirrored fields of an upstream hello reply (absent ones are remembered as absent).
    pub fn learn(&self, hello: &Document) {
        let mut fields = Document::new();
        for name in MIRRORED_FIELDS {
            fields.insert(name, hello.get(name).cloned().unwrap_or(Bson::Null));
        }
        *self.learned.write().unwrap_or_else(PoisonError::into_inner) = Some(fields);
    }

    /// The learned fields (`Null` where the upstream had none).
    pub fn fields(&self) -> Option<Document> {
        self.learned
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Presents `body` (a local hello reply) as a mongos with the upstream's values.
    pub fn apply(&self, body: &mut Document) {
        body.insert("msg", "isdbgrid");
        let Some(fields) = self.fields() else {
            return;
        };
        for (name, value) in fields {
            match value {
                // The upstream has no sessions: neither may the proxy claim them.
                Bson::Null => {
                    body.remove(&name);
                }
                value => {
                    body.insert(name, value);
                }
            }
        }
    }
}

/// hello / isMaster wrapped so the reply mirrors the upstream.
pub struct ProxyHello {
    inner: Arc<dyn Command>,
    limits: Arc<UpstreamLimits>,
}

#[async_trait]
impl Command for ProxyHello {
    fn names(&self) -> &'static [&'static str] {
        self.inner.names()
    }

    fn help(&self) -> &'static str {
        self.inner.help()
    }

    fn allowed_over_op_query(&self) -> bool {
        self.inner.allowed_over_op_query()
    }

    fn is_handshake(&self) -> bool {
        self.inner.is_handshake()
    }

    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        self.inner.run(ctx, request, reply).await?;
        if reply.is_ok() {
            self.limits.apply(reply.body_mut());
        }
        Ok(())
    }
}

/// Wraps the registered hello so its replies mirror the upstream.
pub fn register_proxy_hello(registry: &mut CommandRegistry, limits: &Arc<UpstreamLimits>) {
    if let Some(inner) = registry.find("hello").cloned() {
        registry.register(Arc::new(ProxyHello {
            inner,
            limits: Arc::clone(limits),
        }));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use bson::doc;

    #[test]
    fn the_reply_mirrors_the_upstream_and_claims_to_be_a_mongos() {
        let limits = UpstreamLimits::new();
        let mut body = doc! {"isWritablePrimary": true, "maxWireVersion": 25, "maxBsonObjectSize": 16777216,
        "logicalSessionTimeoutMinutes": 30};
        limits.apply(&mut body);
        assert_eq!(body.get_str("msg").unwrap(), "isdbgrid");
        assert_eq!(
            body.get_i32("maxWireVersion").unwrap(),
            25,
            "unknown upstream: the local values stay"
        );

        limits.learn(
            &doc! {"maxWireVersion": 21, "minWireVersion": 0, "maxBsonObjectSize": 16777216,
            "maxMessageSizeBytes": 48000000, "maxWriteBatchSize": 100000, "setName": "rs0"},
        );
        assert!(limits.is_known());
        limits.apply(&mut body);
        assert_eq!(body.get_i32("maxWireVersion").unwrap(), 21);
        assert_eq!(body.get_i32("minWireVersion").unwrap(), 0);
        assert!(!body.contains_key("setName"), "only the limits are mirrored");
        assert!(
            !body.contains_key("logicalSessionTimeoutMinutes"),
            "an upstream without sessions means a proxy without sessions"
        );
    }
}
