//! `buildInfo`: a MongoDB 8.0-shaped version report (drivers and shells read `version` and
//! `versionArray` to pick features), plus a `docwire` field with our own version.

use async_trait::async_trait;
use bson::{Bson, doc};
use docwire_rpc::limits::MAX_BSON_OBJECT_SIZE;
use docwire_rpc::{ReplyBuilder, StatusResult};

use crate::command::{Command, CommandRequest};
use crate::service_entry_point::RequestContext;

/// The MongoDB version docwire reports (its wire version is 8.0's).
pub const SERVER_VERSION: &str = "8.0.4";
/// [`SERVER_VERSION`] as mongod's versionArray.
pub const SERVER_VERSION_ARRAY: [i32; 4] = [8, 0, 4, 0];

/// The buildInfo command.
pub struct BuildInfo;

#[async_trait]
impl Command for BuildInfo {
    fn names(&self) -> &'static [&'static str] {
        &["buildInfo", "buildinfo"]
    }

    fn help(&self) -> &'static str {
        "get version #, etc.\n{ buildinfo:1 }"
    }

    fn allowed_over_op_query(&self) -> bool {
        true
    }

    async fn run(
        &self,
        _ctx: &mut RequestContext<'_>,
        _request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let version_array: Vec<Bson> = SERVER_VERSION_ARRAY.iter().map(|&n| Bson::Int32(n)).collect();
        reply.set_command_reply(doc! {
            "version": SERVER_VERSION,
            "gitVersion": concat!("docwire-", env!("CARGO_PKG_VERSION")),
            "modules": [],
            "allocator": "system",
            "javascriptEngine": "none",
            "sysInfo": "deprecated",
            "versionArray": version_array,
            "buildEnvironment": {
                "target_os": std::env::consts::OS,
                "target_arch": std::env::consts::ARCH,
            },
            "bits": 64,
            "debug": cfg!(debug_assertions),
            "maxBsonObjectSize": i32::try_from(MAX_BSON_OBJECT_SIZE).unwrap_or(i32::MAX),
            "storageEngines": ["docwire"],
            "docwire": env!("CARGO_PKG_VERSION"),
            "ok": 1.0,
        });
        Ok(())
    }
}
