//! The handshake and admin commands every docwire server answers (hello, ping, buildInfo, ...), and
//! [`register_admin_commands`], which puts them all in a [`CommandRegistry`] with what they share
//! ([`AdminDeps`]).

mod authorized_databases;
mod build_info;
mod connection_status;
mod counters;
mod current_op;
mod deps;
mod get_cmd_line_opts;
mod get_parameter;
mod hello;
mod host_info;
mod kill_op;
mod list_commands;
mod logout;
mod ping;
mod sasl;
mod server_status;
mod sessions;
mod topology;
mod user_management;
mod users_info;
mod util;
mod whatsmyuri;

use std::sync::Arc;

use crate::command::CommandRegistry;

pub use authorized_databases::AuthorizedDatabases;
pub use build_info::{BuildInfo, SERVER_VERSION, SERVER_VERSION_ARRAY};
pub use connection_status::ConnectionStatus;
pub use counters::OpCounters;
pub use current_op::CurrentOp;
pub use deps::{AdminDeps, CmdLineOpts, CommandCatalog};
pub use get_cmd_line_opts::GetCmdLineOpts;
pub use get_parameter::GetParameter;
pub use hello::{
    Hello, MAX_WIRE_VERSION, MIN_WIRE_VERSION, ReplicaSetHello, ReplicaSetView, SUPPORTED_COMPRESSORS,
};
pub use host_info::HostInfo;
pub use kill_op::KillOp;
pub use list_commands::ListCommands;
pub use logout::Logout;
pub use ping::Ping;
pub use sasl::{AuthServerStatus, SaslContinue, SaslStart};
pub use server_status::ServerStatus;
pub use sessions::{EndSessions, RefreshSessions, StartSession};
pub use topology::TopologyState;
pub use user_management::UserManagement;
pub use users_info::UsersInfo;
pub use whatsmyuri::WhatsMyUri;

/// Registers every handshake and admin command. Publish the finished registry to `deps.catalog`
/// ([`CommandCatalog::publish`]) so listCommands sees commands registered later too.
pub fn register_admin_commands(registry: &mut CommandRegistry, deps: AdminDeps) {
    registry
        .register(Arc::new(Hello::new(deps.topology.clone())))
        .register(Arc::new(Ping))
        .register(Arc::new(BuildInfo))
        .register(Arc::new(HostInfo))
        .register(Arc::new(WhatsMyUri))
        .register(Arc::new(GetParameter::new(deps.parameters.clone())))
        .register(Arc::new(GetCmdLineOpts::new(deps.cmd_line.clone())))
        .register(Arc::new(ServerStatus::new(&deps)))
        .register(Arc::new(ConnectionStatus))
        .register(Arc::new(ListCommands::new(deps.catalog.clone())))
        .register(Arc::new(StartSession))
        .register(Arc::new(EndSessions))
        .register(Arc::new(RefreshSessions))
        .register(Arc::new(KillOp))
        .register(Arc::new(CurrentOp))
        .register(Arc::new(Logout));
}

/// Registers the authentication and user-management commands (saslStart, saslContinue, createUser,
/// updateUser, dropUser, dropAllUsersFromDatabase, grantRolesToUser, revokeRolesFromUser, usersInfo),
/// and wraps the already registered serverStatus (adding the `security` section) and listDatabases
/// (listing only the databases the user has privileges on): register them last.
/// They act through the entry point's [`crate::auth::AuthorizationManager`]
/// ([`crate::CommandEntryPoint::with_auth`]).
pub fn register_auth_commands(registry: &mut CommandRegistry) {
    if let Some(inner) = registry.find("serverStatus").cloned() {
        registry.register(Arc::new(AuthServerStatus::new(inner)));
    }
    if let Some(inner) = registry.find("listDatabases").cloned() {
        registry.register(Arc::new(AuthorizedDatabases::new(inner)));
    }
    registry
        .register(Arc::new(SaslStart))
        .register(Arc::new(SaslContinue))
        .register(Arc::new(UsersInfo));
    for command in UserManagement::all() {
        registry.register(command);
    }
}
