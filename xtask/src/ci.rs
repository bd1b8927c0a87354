//! `cargo xtask ci`: formatting, lints, dependency direction, tidy, tests, then the real-driver suites.
//! Stops at the first failure.

use std::path::Path;

use anyhow::Result;

use crate::{deps, has_program, run_step, tidy};

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
    for suite in crate::ci::driver_suites(root) {
        run_step(
            root,
            &format!("driver suite {}", suite.display()),
            "bash",
            &[&suite.to_string_lossy()],
        )?;
    }
    eprintln!("\nci: all checks passed in {:.0?}", started.elapsed());
    Ok(())
}

/// The real-driver suites: executable scripts `tests/drivers/*.sh`, each installing its own client
/// (pip into a venv under target/, npm into a folder under target/) and running its tests.
pub fn driver_suites(root: &Path) -> Vec<std::path::PathBuf> {
    let mut suites: Vec<_> = std::fs::read_dir(root.join("tests/drivers"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sh"))
        .collect();
    suites.sort();
    suites
}
