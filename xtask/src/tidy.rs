//! The tidy check: every .rs file under crates/ (and xtask/, tests/) starts with a `//!` or `//` line and
//! holds no `dbg!` or `todo!`.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

/// Fails listing every file that breaks a tidy rule.
pub fn check(root: &Path) -> Result<()> {
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "tests", "fuzz"] {
        collect_rs_files(&root.join(dir), &mut files);
    }
    let mut problems = Vec::new();
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            problems.push(format!("{}: unreadable", file.display()));
            continue;
        };
        problems.extend(
            file_problems(&text)
                .into_iter()
                .map(|p| format!("{}: {p}", file.display())),
        );
    }
    if !problems.is_empty() {
        bail!(
            "tidy found {} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        );
    }
    eprintln!("tidy: ok ({} files)", files.len());
    Ok(())
}

/// The tidy rules for one file's text.
fn file_problems(text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if !text.trim_start().starts_with("//") {
        problems.push("does not start with a `//!` or `//` comment saying what it is".to_owned());
    }
    // Built from parts so this file does not trip its own check.
    let banned = [concat!("dbg", "!("), concat!("todo", "!(")];
    for (n, line) in text.lines().enumerate() {
        for b in banned {
            if line.contains(b) {
                problems.push(format!("line {}: `{}` left in", n + 1, b.trim_end_matches('(')));
            }
        }
    }
    problems
}

fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target" && name != "corpus" && name != "artifacts" {
                collect_rs_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::file_problems;

    #[test]
    fn accepts_a_documented_file() {
        assert!(file_problems("//! What this is.\nfn main() {}\n").is_empty());
    }

    #[test]
    fn rejects_missing_header_and_leftovers() {
        let text = format!("fn main() {{ {}1); }}\n", concat!("dbg", "!("));
        let problems = file_problems(&text);
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
