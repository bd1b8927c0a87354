//! listDatabases under `--auth`, as mongod answers a user without the cluster-wide listDatabases
//! privilege (`authorizedDatabases`): only the databases the user has some privilege on, with
//! `totalSize` summed over those. Wraps the registered listDatabases (the db crate's).

use std::sync::Arc;

use async_trait::async_trait;
use bson::Bson;
use docwire_rpc::{ReplyBuilder, StatusResult};

use crate::auth::{ActionType, Resource};
use crate::command::{Command, CommandRequest};
use crate::service_entry_point::RequestContext;

/// listDatabases filtered by the user's privileges.
pub struct AuthorizedDatabases {
    inner: Arc<dyn Command>,
}

impl AuthorizedDatabases {
    /// Wraps the registered listDatabases.
    pub fn new(inner: Arc<dyn Command>) -> AuthorizedDatabases {
        AuthorizedDatabases { inner }
    }
}

#[async_trait]
impl Command for AuthorizedDatabases {
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
        let Some(auth) = request.auth else {
            return Ok(());
        };
        if !auth.is_enabled() || auth.is_authorized(ctx.client, ActionType::ListDatabases, &Resource::Cluster)
        {
            return Ok(());
        }
        let client = ctx.client.client().clone();
        let body = reply.body_mut();
        let Some(Bson::Array(databases)) = body.get("databases").cloned() else {
            return Ok(());
        };
        let kept: Vec<Bson> = databases
            .into_iter()
            .filter(|db| {
                db.as_document()
                    .and_then(|d| d.get_str("name").ok())
                    .is_some_and(|name| auth.has_any_privilege_on(&client, name))
            })
            .collect();
        let total: i64 = kept
            .iter()
            .filter_map(|db| db.as_document()?.get("sizeOnDisk").cloned())
            .filter_map(|size| match size {
                Bson::Int64(n) => Some(n),
                Bson::Int32(n) => Some(i64::from(n)),
                Bson::Double(n) => Some(n as i64),
                _ => None,
            })
            .sum();
        body.insert("databases", kept);
        if body.contains_key("totalSize") {
            body.insert("totalSize", total);
        }
        if body.contains_key("totalSizeMb") {
            body.insert("totalSizeMb", total / (1024 * 1024));
        }
        Ok(())
    }
}
