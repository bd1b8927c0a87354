//! `docwire`: composes the crates into a server — the embedded database by default, `docwire proxy` in front
//! of upstream servers.

mod cli;
mod config;
mod logging;
mod server;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::config::Settings;

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    if let Some(Command::Proxy { .. }) = cli.command {
        eprintln!("docwire proxy: not implemented yet (see the proxy issue)");
        return Ok(ExitCode::from(2));
    }
    let settings = Settings::resolve(&cli.server)?;
    logging::init(settings.log_format, settings.quiet, settings.verbosity)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("docwire")
        .build()?;
    runtime.block_on(server::run(settings))?;
    Ok(ExitCode::SUCCESS)
}
