//! docwire's automation: `cargo xtask ci` runs every check and test; `cargo xtask drivers` installs the
//! real clients the driver tests run (under target/drivers/); `cargo xtask bench [suite]` runs the
//! benchmark suites and writes their tables under target/bench/.

mod bench;
mod ci;
mod deps;
mod drivers;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    match args.first().map(String::as_str) {
        Some("ci") => ci::run(&root),
        Some("bench") => bench::run(&root, args.get(1).map(String::as_str)),
        Some("tidy") => tidy::check(&root),
        Some("deps") => deps::check(&root),
        Some("drivers") => drivers::install(&root),
        _ => {
            eprintln!("usage: cargo xtask <ci | drivers | bench [suite] | tidy | deps>");
            bail!("unknown or missing task")
        }
    }
}

/// The workspace root: xtask lives one level below it.
fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or(manifest_dir)
}

/// Runs a command in `dir`, echoing it, and fails with `what` in the message if it does not succeed.
fn run_step(dir: &Path, what: &str, program: &str, args: &[&str]) -> Result<()> {
    eprintln!("\n==> {what}: {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .status()
        .with_context(|| format!("{what}: could not start `{program}`"))?;
    if !status.success() {
        bail!("{what} failed ({status}): `{program} {}`", args.join(" "));
    }
    Ok(())
}

/// Whether a program can be run (used to choose cargo-nextest when it is installed).
fn has_program(program: &str, probe_args: &[&str]) -> bool {
    Command::new(program)
        .args(probe_args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
