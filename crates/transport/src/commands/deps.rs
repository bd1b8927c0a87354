//! `AdminDeps`: what the admin commands share (the ServiceContext, the session manager, the start time,
//! the command line, the topology version, the op counters), and `CommandCatalog`, the late-bound view
//! of the finished registry that listCommands reads.

use std::sync::{Arc, OnceLock, Weak};

use bson::{Document, doc};
use docwire_service::{ClockTime, ServiceContext};

use crate::command::CommandRegistry;
use crate::commands::counters::OpCounters;
use crate::commands::topology::TopologyState;
use crate::session_manager::SessionManager;

/// The process's command line as getCmdLineOpts reports it.
#[derive(Clone, Debug, Default)]
pub struct CmdLineOpts {
    /// The arguments as given, program name first.
    pub argv: Vec<String>,
    /// The options after parsing, nested like mongod's (`{net: {port: 27017, bindIp: "..."}}`).
    pub parsed: Document,
}

/// The registry as listCommands sees it. The registry is only complete after every crate registered
/// its commands, so it is published afterwards; a weak reference avoids a registry -> command ->
/// registry cycle.
#[derive(Clone, Default)]
pub struct CommandCatalog {
    registry: Arc<OnceLock<Weak<CommandRegistry>>>,
}

impl CommandCatalog {
    /// An empty catalog.
    pub fn new() -> CommandCatalog {
        CommandCatalog::default()
    }

    /// Makes `registry` the one listCommands lists; only the first call counts.
    pub fn publish(&self, registry: &Arc<CommandRegistry>) {
        let _ = self.registry.set(Arc::downgrade(registry));
    }

    /// The published registry, while it lives.
    pub fn registry(&self) -> Option<Arc<CommandRegistry>> {
        self.registry.get().and_then(Weak::upgrade)
    }
}

/// What the admin commands need.
#[derive(Clone)]
pub struct AdminDeps {
    /// The process's ServiceContext.
    pub service: ServiceContext,
    /// The session manager (serverStatus.connections and .network).
    pub sessions: Arc<SessionManager>,
    /// When the server started, on the ServiceContext's clock (serverStatus.uptime).
    pub started: ClockTime,
    /// The command line (getCmdLineOpts).
    pub cmd_line: CmdLineOpts,
    /// Server parameters beyond the built-in ones (getParameter), e.g. `logLevel`; these win.
    pub parameters: Document,
    /// The topology version that hello reports and awaitable hellos wait on.
    pub topology: Arc<TopologyState>,
    /// serverStatus.opcounters.
    pub op_counters: Arc<OpCounters>,
    /// The registry listCommands lists, published once complete.
    pub catalog: CommandCatalog,
}

impl AdminDeps {
    /// Deps with the start time now, an empty command line, a fresh topology version and counters.
    pub fn new(service: ServiceContext, sessions: Arc<SessionManager>) -> AdminDeps {
        AdminDeps {
            started: service.now(),
            service,
            sessions,
            cmd_line: CmdLineOpts::default(),
            parameters: doc! {},
            topology: Arc::new(TopologyState::new()),
            op_counters: Arc::new(OpCounters::default()),
            catalog: CommandCatalog::new(),
        }
    }
}
