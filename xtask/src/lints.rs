//! Tests that the workspace's lints (`[workspace.lints]` of the root `Cargo.toml`: no `unsafe`, no `unwrap` or
//! `expect`) hold for every crate of the project.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn manifest(path: &Path) -> toml::Table {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The manifests of the workspace's members: `xtask` and every crate of `crates/` (`members` in the root
/// `Cargo.toml`).
fn members() -> Vec<PathBuf> {
    let root = root();
    let workspace = manifest(&root.join("Cargo.toml"));
    let mut manifests = Vec::new();
    for member in workspace["workspace"]["members"].as_array().unwrap() {
        let member = member.as_str().unwrap();
        if let Some(parent) = member.strip_suffix("/*") {
            for entry in std::fs::read_dir(root.join(parent)).unwrap() {
                let path = entry.unwrap().path().join("Cargo.toml");
                if path.is_file() {
                    manifests.push(path);
                }
            }
        } else {
            manifests.push(root.join(member).join("Cargo.toml"));
        }
    }
    manifests
}

#[test]
fn every_workspace_member_inherits_the_workspace_lints() {
    let members = members();
    assert!(members.iter().any(|m| m.ends_with("xtask/Cargo.toml")));
    assert!(members.len() > 5, "{members:?}");
    for path in members {
        let inherits = manifest(&path)
            .get("lints")
            .and_then(|lints| lints.get("workspace"))
            .and_then(toml::Value::as_bool);
        assert_eq!(
            inherits,
            Some(true),
            "{}: needs `[lints] workspace = true`",
            path.display()
        );
    }
}

/// `fuzz/` is its own workspace (its instrumented build must not mix with ours), so it cannot inherit
/// `[workspace.lints]`: its `Cargo.toml` holds a copy, which must stay the same.
#[test]
fn the_fuzz_crate_has_the_workspace_lints() {
    let root = root();
    let workspace = manifest(&root.join("Cargo.toml"));
    let fuzz = manifest(&root.join("fuzz/Cargo.toml"));
    let workspace_lints = &workspace["workspace"]["lints"];
    assert!(workspace_lints.get("rust").is_some() && workspace_lints.get("clippy").is_some());
    assert_eq!(
        fuzz.get("lints"),
        Some(workspace_lints),
        "fuzz/Cargo.toml's [lints] must be a copy of the root Cargo.toml's [workspace.lints]"
    );
}
