//! The dependency-direction check: read from `cargo metadata`, no docwire crate depends on one above it.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// The layers, lowest first. A crate may depend only on crates in lower layers; `db` and `proxy` share
/// a layer and must not depend on each other.
const LAYERS: &[&[&str]] = &[
    &["docwire-rpc"],
    &["docwire-service"],
    &["docwire-transport"],
    &["docwire-pool"],
    &["docwire-executor"],
    &["docwire-db", "docwire-proxy"],
    &["docwire-server"],
];

fn layer_of(name: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&name))
}

/// Fails, naming every offending edge, if any crate depends on one at its own layer or above.
pub fn check(root: &Path) -> Result<()> {
    let out = Command::new("cargo")
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8(out.stdout).context("cargo metadata output is not UTF-8")?;
    let edges = package_dependencies(&text)?;
    let mut violations = Vec::new();
    for (package, deps) in &edges {
        let Some(from) = layer_of(package) else { continue };
        for dep in deps {
            if let Some(to) = layer_of(dep)
                && to >= from
            {
                violations.push(format!("{package} depends on {dep}"));
            }
        }
    }
    if !violations.is_empty() {
        bail!(
            "dependency direction violated (rpc <- service <- transport <- pool <- executor <- {{db, proxy}} <- server):\n  {}",
            violations.join("\n  ")
        );
    }
    let known = edges.iter().filter(|(p, _)| layer_of(p).is_some()).count();
    if known != LAYERS.iter().map(|l| l.len()).sum::<usize>() {
        bail!("expected every docwire crate in cargo metadata, found {known}");
    }
    eprintln!("dependency direction: ok ({known} crates)");
    Ok(())
}

/// Each package's name and the names of its normal and build dependencies (dev-dependencies may point
/// anywhere: tests of a low crate may use a higher one as a harness).
fn package_dependencies(json: &str) -> Result<Vec<(String, Vec<String>)>> {
    let metadata: Value = serde_json::from_str(json).context("parsing cargo metadata")?;
    let packages = metadata["packages"]
        .as_array()
        .context("cargo metadata has no packages")?;
    Ok(packages
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap_or_default().to_owned();
            let deps = p["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|d| d["kind"].as_str() != Some("dev"))
                .filter_map(|d| d["name"].as_str().map(str::to_owned))
                .collect();
            (name, deps)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_and_non_dev_dependencies() {
        let json = r#"{"packages":[{"name":"docwire-pool","version":"0.1.0","dependencies":[{"name":"docwire-rpc","kind":null,"req":"*"},{"name":"docwire-db","kind":"dev"}],"targets":[{"name":"x"}]},{"name":"docwire-rpc","dependencies":[]}],"workspace_members":[]}"#;
        let edges = package_dependencies(json).unwrap();
        assert_eq!(edges.len(), 2);
        assert_eq!(
            edges[0],
            ("docwire-pool".to_owned(), vec!["docwire-rpc".to_owned()])
        );
        assert_eq!(edges[1], ("docwire-rpc".to_owned(), vec![]));
    }

    #[test]
    fn layers_put_db_and_proxy_side_by_side() {
        assert_eq!(layer_of("docwire-db"), layer_of("docwire-proxy"));
        assert!(layer_of("docwire-rpc") < layer_of("docwire-service"));
        assert!(layer_of("docwire-executor") < layer_of("docwire-db"));
    }
}
