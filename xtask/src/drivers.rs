//! `cargo xtask drivers`: installs the real clients the driver tests run, under target/drivers/: a Python
//! venv with pymongo (tests/drivers/requirements.txt) and, with `npm ci`, the Node driver and mongosh
//! (tests/drivers/node/package-lock.json). Idempotent: a stamp per part (target/drivers/venv.stamp,
//! node.stamp) records the inputs' hashes, the tools' versions and what was installed, and the part is
//! skipped while its stamp still matches.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::run_step;

/// One installed part: its folder under target/drivers/, the input files that decide what goes in, and
/// the files a complete install leaves behind.
struct Part {
    name: &'static str,
    inputs: &'static [&'static str],
    tools: &'static [&'static str],
    leaves: &'static [&'static str],
}

const PYTHON: Part = Part {
    name: "venv",
    inputs: &["tests/drivers/requirements.txt"],
    tools: &["python3"],
    leaves: &["bin/python"],
};

const NODE: Part = Part {
    name: "node",
    inputs: &[
        "tests/drivers/node/package.json",
        "tests/drivers/node/package-lock.json",
    ],
    tools: &["node", "npm"],
    leaves: &["node_modules/mongodb/package.json", "node_modules/.bin/mongosh"],
};

/// Installs the clients unless their stamps say they are up to date.
pub fn install(root: &Path) -> Result<()> {
    let started = std::time::Instant::now();
    let dir = root.join("target/drivers");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    install_part(root, &dir, &PYTHON, install_python)?;
    install_part(root, &dir, &NODE, install_node)?;
    eprintln!(
        "drivers: ready in {:.0?} (under {})",
        started.elapsed(),
        dir.display()
    );
    Ok(())
}

/// Runs `install` for `part` unless its stamp (target/drivers/<name>.stamp) matches the inputs and the
/// installed files are there; then writes the stamp, with the installed versions appended.
fn install_part(
    root: &Path,
    dir: &Path,
    part: &Part,
    install: fn(&Path, &Path) -> Result<String>,
) -> Result<()> {
    let stamp_path = dir.join(format!("{}.stamp", part.name));
    let target = dir.join(part.name);
    let wanted = stamp(root, part)?;
    if std::fs::read_to_string(&stamp_path).is_ok_and(|s| first_section(&s) == wanted)
        && part.leaves.iter().all(|leaf| target.join(leaf).exists())
    {
        eprintln!("drivers: {} up to date ({})", part.name, stamp_path.display());
        return Ok(());
    }
    // A stale stamp must not survive a failed install.
    let _ = std::fs::remove_file(&stamp_path);
    let versions = install(root, &target)?;
    let record = format!("{wanted}{INSTALLED}{versions}");
    std::fs::write(&stamp_path, record).with_context(|| format!("cannot write {}", stamp_path.display()))
}

/// A fresh venv with tests/drivers/requirements.txt; returns `pip freeze`.
fn install_python(root: &Path, venv: &Path) -> Result<String> {
    let venv_str = venv.to_string_lossy().into_owned();
    // --clear rebuilds a venv left half-made or made by another Python.
    run_step(
        root,
        "drivers: python venv",
        "python3",
        &["-m", "venv", "--clear", &venv_str],
    )?;
    let python = venv.join("bin/python").to_string_lossy().into_owned();
    run_step(
        root,
        "drivers: pip install",
        &python,
        &[
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "-r",
            "tests/drivers/requirements.txt",
        ],
    )?;
    capture(&python, &["-m", "pip", "freeze", "--disable-pip-version-check"])
}

/// `npm ci` from tests/drivers/node's package.json and lock file; returns the clients' versions.
fn install_node(root: &Path, node: &Path) -> Result<String> {
    std::fs::create_dir_all(node).with_context(|| format!("cannot create {}", node.display()))?;
    for file in ["package.json", "package-lock.json"] {
        let from = root.join("tests/drivers/node").join(file);
        std::fs::copy(&from, node.join(file))
            .with_context(|| format!("cannot copy {} to {}", from.display(), node.display()))?;
    }
    run_step(
        node,
        "drivers: npm ci",
        "npm",
        &["ci", "--no-audit", "--no-fund", "--loglevel=error"],
    )?;
    let mut versions = capture(
        "npm",
        &[
            "ls",
            "--prefix",
            &node.to_string_lossy(),
            "mongodb",
            "mongosh",
            "--depth=0",
        ],
    )?;
    let mongosh = node.join("node_modules/.bin/mongosh");
    let _ = writeln!(
        versions,
        "mongosh --version: {}",
        capture(&mongosh.to_string_lossy(), &["--version"])?.trim()
    );
    Ok(versions)
}

/// Separates a stamp's inputs from the versions installed.
const INSTALLED: &str = "# installed\n";

/// A stamp's first section: the tool versions and a hash of each input file.
fn stamp(root: &Path, part: &Part) -> Result<String> {
    let mut out = format!("# docwire driver install ({}): inputs\n", part.name);
    for tool in part.tools {
        let _ = writeln!(out, "{tool} {}", capture(tool, &["--version"])?.trim());
    }
    for input in part.inputs {
        let path = root.join(input);
        let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let _ = writeln!(out, "{input} fnv64:{:016x}", fnv64(&bytes));
    }
    Ok(out)
}

/// The stamp up to the installed-versions section.
fn first_section(stamp: &str) -> &str {
    stamp.split(INSTALLED).next().unwrap_or_default()
}

/// Runs a program and returns its stdout (stderr too: `python --version` wrote there once).
fn capture(program: &str, args: &[&str]) -> Result<String> {
    let output = Command::new(program).args(args).output().with_context(|| {
        format!("could not start `{program}` (the driver install needs python3 with venv, node and npm)")
    })?;
    if !output.status.success() {
        bail!("`{program} {}` failed ({})", args.join(" "), output.status);
    }
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Ok(text)
}

/// 64-bit FNV-1a: a stable content hash for the stamp.
fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
