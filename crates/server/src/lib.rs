//! The `docwire` server as a library: the CLI, settings, logging, and `start`/`run`, which compose the
//! crates into a server. The binary (`main.rs`) is a thin wrapper; tests start servers in-process with
//! [`start`].

pub mod cli;
pub mod config;
pub mod logging;
mod replication;
mod server;

pub use config::{ReplicationSettings, Settings};
pub use server::{RunningServer, UPSTREAM_PASSWORD_ENV, proxy_config, run, run_proxy, start};
