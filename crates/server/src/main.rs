//! `docwire`: composes the crates into a server — the embedded database by default, `docwire proxy` in front
//! of upstream servers.

use std::process::ExitCode;

use clap::Parser;
use docwire_server::cli::{Cli, Command, ProxyArgs};
use docwire_server::{Settings, logging};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Proxy(args)) => run_proxy(args),
        None => run(cli),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One readable line with its causes, not a Debug dump with a backtrace.
            eprintln!("docwire: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::resolve(&cli.server)?;
    logging::init(settings.log_format, settings.quiet, settings.verbosity)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("docwire")
        .build()?;
    runtime.block_on(docwire_server::run(settings))
}

fn run_proxy(args: ProxyArgs) -> anyhow::Result<()> {
    logging::init(args.log_format, false, 0)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("docwire-proxy")
        .build()?;
    runtime.block_on(docwire_server::run_proxy(args))
}
