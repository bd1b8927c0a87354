//! serverStatus on a replica-set member: the registered serverStatus, plus mongod's `repl` section
//! (the member's hello view) and `networkInterfaces.Replication` (the replication network's counters:
//! sent, canceled, timedOut, failed, failedRemotely, succeeded).

use std::sync::Arc;

use async_trait::async_trait;
use bson::Bson;
use docwire_rpc::{ReplyBuilder, StatusResult};
use docwire_transport::commands::ReplicaSetView;
use docwire_transport::{Command, CommandRegistry, CommandRequest, RequestContext};

use super::coordinator::ReplicationCoordinator;

/// serverStatus with the member's sections appended.
pub struct ReplServerStatus {
    inner: Arc<dyn Command>,
    coordinator: ReplicationCoordinator,
}

#[async_trait]
impl Command for ReplServerStatus {
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
        let hello = self.coordinator.hello();
        let mut repl = hello.fields;
        repl.insert("isWritablePrimary", hello.is_writable_primary);
        let counters = self.coordinator.executor().network().counters().to_document();
        let body = reply.body_mut();
        body.insert("repl", repl);
        body.insert(
            "networkInterfaces",
            bson::doc! {"Replication": Bson::Document(counters)},
        );
        Ok(())
    }
}

/// Wraps the registered serverStatus (if any) so it reports the member's sections.
pub fn register_repl_server_status(registry: &mut CommandRegistry, coordinator: &ReplicationCoordinator) {
    if let Some(inner) = registry.find("serverStatus").cloned() {
        registry.register(Arc::new(ReplServerStatus {
            inner,
            coordinator: coordinator.clone(),
        }));
    }
}
