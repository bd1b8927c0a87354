//! `--replSet`: makes the server a role-simulated replica-set member (no data replication). Builds the
//! replication executor over the real network interface (its pool registered with the egress tag
//! closer manager), the coordinator, and puts hello, the replSet commands and the role gate on the
//! data commands into the registry.

use std::sync::Arc;

use anyhow::Context;
use docwire_executor::network::real::{RealNetwork, RealNetworkOptions};
use docwire_executor::repl::{
    ReplSetConfig, ReplicationCoordinator, gate_commands, register_repl_commands, register_repl_server_status,
};
use docwire_executor::{ExecutorOptions, TaskExecutor};
use docwire_pool::EgressTagCloserManager;
use docwire_service::Clock;
use docwire_transport::CommandRegistry;
use docwire_transport::client::ClientOptions;
use docwire_transport::commands::{Hello, TopologyState};
use docwire_transport::tls::ClientTls;

use crate::config::ReplicationSettings;

/// Makes the member and registers its commands (call after every data command is registered); the
/// heartbeats start with [`ReplicationCoordinator::start`] once the server listens.
pub(crate) fn install(
    settings: &ReplicationSettings,
    port: u16,
    topology: &Arc<TopologyState>,
    clock: Arc<dyn Clock>,
    egress: &EgressTagCloserManager,
    registry: &mut CommandRegistry,
    tls: Option<ClientTls>,
) -> anyhow::Result<ReplicationCoordinator> {
    let config = ReplSetConfig::new(&settings.set_name, &settings.members, port)
        .map_err(|status| anyhow::anyhow!("{status}"))
        .context("bad --replSet / --replSetMembers")?;
    let options = RealNetworkOptions {
        name: "Replication".into(),
        pool: docwire_pool::Options {
            egress_tag_closer_manager: Some(egress.clone()),
            ..docwire_pool::Options::default()
        },
        client: ClientOptions {
            app_name: Some("docwire replication".into()),
            // Heartbeats use TLS under preferTLS / requireTLS, as mongod's intra-cluster traffic.
            tls,
            ..ClientOptions::default()
        },
    };
    let network = RealNetwork::new(options, clock).map_err(|status| anyhow::anyhow!("{status}"))?;
    let executor = TaskExecutor::new(
        Arc::new(network),
        ExecutorOptions {
            name: "replication".into(),
            workers: 2,
        },
    )
    .map_err(|status| anyhow::anyhow!("{status}"))?;
    executor
        .startup()
        .map_err(|status| anyhow::anyhow!("{status}"))
        .context("cannot start the replication executor")?;
    let coordinator = ReplicationCoordinator::new(config, Arc::clone(topology), executor);
    registry.register(Arc::new(Hello::with_replica_set(
        Arc::clone(topology),
        Arc::new(coordinator.clone()),
    )));
    register_repl_commands(registry, &coordinator);
    gate_commands(registry, &coordinator);
    register_repl_server_status(registry, &coordinator);
    Ok(coordinator)
}
