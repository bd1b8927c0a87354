//! `cargo xtask ci`: formatting, lints, dependency direction, tidy, the real clients' install, then the
//! tests (the real-driver tests among them). Stops at the first failure.

use std::path::Path;

use anyhow::Result;

use crate::{deps, drivers, has_program, run_step, tidy};

/// Runs every check in order.
pub fn run(root: &Path) -> Result<()> {
    let started = std::time::Instant::now();
    run_step(root, "format", "cargo", &["fmt", "--all", "--check"])?;
    run_step(
        root,
        "lints",
        "cargo",
        &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"],
    )?;
    eprintln!("\n==> dependency direction");
    deps::check(root)?;
    eprintln!("\n==> tidy");
    tidy::check(root)?;
    eprintln!("\n==> drivers");
    drivers::install(root)?;
    if has_program("cargo", &["nextest", "--version"]) {
        run_step(
            root,
            "tests",
            "cargo",
            &["nextest", "run", "--workspace", "--no-fail-fast"],
        )?;
        // nextest does not run doctests.
        run_step(root, "doctests", "cargo", &["test", "--workspace", "--doc"])?;
    } else {
        run_step(root, "tests", "cargo", &["test", "--workspace"])?;
    }
    eprintln!("\nci: all checks passed in {:.0?}", started.elapsed());
    Ok(())
}
