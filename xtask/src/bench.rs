//! `cargo xtask bench [suite]`: runs criterion benchmark suites and writes each one's results as a
//! markdown table to target/bench/<suite>.md (and prints it).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::run_step;

/// A benchmark suite: the package and bench target that hold it.
struct Suite {
    name: &'static str,
    package: &'static str,
    bench: &'static str,
    /// Criterion groups whose names start with this belong to the suite; empty for a bench that
    /// measures and reports by itself (it writes target/bench/<name>.md).
    group_prefix: &'static str,
}

const SUITES: &[Suite] = &[
    Suite {
        name: "rpc",
        package: "docwire-rpc",
        bench: "op_msg",
        group_prefix: "rpc",
    },
    Suite {
        name: "service",
        package: "docwire-service",
        bench: "operation_context",
        group_prefix: "operation_context",
    },
    Suite {
        name: "pool",
        package: "docwire-pool",
        bench: "pool",
        group_prefix: "pool",
    },
    Suite {
        name: "ingress",
        package: "docwire-server",
        bench: "ingress",
        group_prefix: "",
    },
    Suite {
        name: "db",
        package: "docwire-server",
        bench: "db",
        group_prefix: "",
    },
    Suite {
        name: "executor",
        package: "docwire-server",
        bench: "executor",
        group_prefix: "",
    },
    Suite {
        name: "proxy",
        package: "docwire-server",
        bench: "proxy",
        group_prefix: "",
    },
];

/// Runs one suite by name, or all of them.
pub fn run(root: &Path, only: Option<&str>) -> Result<()> {
    let chosen: Vec<&Suite> = SUITES
        .iter()
        .filter(|s| only.is_none_or(|o| o == s.name))
        .collect();
    if chosen.is_empty() {
        let names: Vec<_> = SUITES.iter().map(|s| s.name).collect();
        bail!(
            "no benchmark suite named {:?}; suites: {}",
            only.unwrap_or_default(),
            names.join(", ")
        );
    }
    let out_dir = root.join("target/bench");
    std::fs::create_dir_all(&out_dir).context("creating target/bench")?;
    for suite in chosen {
        run_step(
            root,
            &format!("bench {}", suite.name),
            "cargo",
            &["bench", "-p", suite.package, "--bench", suite.bench],
        )?;
        let path = out_dir.join(format!("{}.md", suite.name));
        if suite.group_prefix.is_empty() {
            // The bench printed its table and wrote the file itself.
            continue;
        }
        let table = table_for(&root.join("target/criterion"), suite)?;
        std::fs::write(&path, &table).with_context(|| format!("writing {}", path.display()))?;
        println!("{table}");
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// A markdown table of every benchmark criterion recorded for this suite's groups.
fn table_for(criterion_dir: &Path, suite: &Suite) -> Result<String> {
    let mut rows = Vec::new();
    for estimates in find_files(criterion_dir, "estimates.json") {
        // target/criterion/<group>/<bench...>/new/estimates.json
        if estimates
            .parent()
            .and_then(Path::file_name)
            .is_none_or(|n| n != "new")
        {
            continue;
        }
        let bench_dir = estimates.parent().and_then(Path::parent).context("bench dir")?;
        let Ok(benchmark) = std::fs::read_to_string(bench_dir.join("new/benchmark.json")) else {
            continue;
        };
        let benchmark: Value = serde_json::from_str(&benchmark)?;
        let group = benchmark["group_id"].as_str().unwrap_or_default();
        if !group.starts_with(suite.group_prefix) {
            continue;
        }
        let id = benchmark["title"].as_str().unwrap_or_default().to_owned();
        let estimates: Value = serde_json::from_str(&std::fs::read_to_string(&estimates)?)?;
        let median_ns = estimates["median"]["point_estimate"].as_f64().unwrap_or(f64::NAN);
        let throughput = match &benchmark["throughput"] {
            Value::Object(t) => t.get("Bytes").and_then(Value::as_f64).map(|bytes| {
                let per_sec = bytes / (median_ns / 1e9);
                human_rate(per_sec)
            }),
            _ => None,
        };
        rows.push((id, median_ns, throughput.unwrap_or_default()));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut table = format!(
        "## {} benchmarks\n\n| benchmark | median | throughput |\n|---|---:|---:|\n",
        suite.name
    );
    for (id, ns, throughput) in rows {
        let _ = writeln!(table, "| {id} | {} | {throughput} |", human_time(ns));
    }
    Ok(table)
}

fn human_rate(bytes_per_sec: f64) -> String {
    let mib = bytes_per_sec / (1024.0 * 1024.0);
    if mib < 10_000.0 {
        format!("{mib:.0} MiB/s")
    } else {
        format!("{:.0} GiB/s", mib / 1024.0)
    }
}

fn human_time(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.1} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

fn find_files(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(find_files(&path, name));
        } else if entry.file_name() == name {
            out.push(path);
        }
    }
    out
}
