//! Tests of the workspace as a whole: the crate boundaries that ARCHITECTURE.md states hold, and the workspace's
//! lints (`[workspace.lints]` of the root `Cargo.toml`: no `unsafe`, no `unwrap` or `expect`) hold for every crate
//! of the project.
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

/// What `cargo ARGS` prints in the workspace root (the test fails with cargo's message if it fails).
fn cargo(args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The crates each of ours reaches through normal (not dev or build) dependencies, transitively, on any platform,
/// by package name (`cargo metadata`'s resolved graph).
fn reaches() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    use std::collections::{BTreeMap, BTreeSet};
    // Not `--offline`: the graph of every platform needs the manifests of crates that no build here
    // downloaded (Windows' and macOS's); cargo fetches them from the registry.
    let metadata: serde_json::Value =
        serde_json::from_str(&cargo(&["metadata", "--format-version", "1"])).unwrap();
    let name_of: BTreeMap<&str, &str> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let mut normal: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in metadata["resolve"]["nodes"].as_array().unwrap() {
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null())
            })
            .map(|d| d["pkg"].as_str().unwrap())
            .collect();
        normal.insert(node["id"].as_str().unwrap(), deps);
    }
    let mut out = BTreeMap::new();
    for member in metadata["workspace_members"].as_array().unwrap() {
        let member = member.as_str().unwrap();
        let mut seen = BTreeSet::new();
        let mut stack = vec![member];
        while let Some(id) = stack.pop() {
            for &dep in normal.get(id).into_iter().flatten() {
                if seen.insert(name_of[dep].to_owned()) {
                    stack.push(dep);
                }
            }
        }
        out.insert(name_of[member].to_owned(), seen);
    }
    out
}

/// The boundaries of ARCHITECTURE.md: what each crate must never reach, even through another (crate, the crates it
/// must not reach, why).
const BOUNDARIES: [(&str, &str, &str); 9] = [
    (
        "app",
        "engine i3d-cpu i3d-gpu candle-core wgpu site",
        "the page runs no network: the worker does",
    ),
    (
        "kinetics",
        "i3d-core i3d-cpu i3d-gpu engine protocol candle-core wgpu",
        "the dataset crate knows nothing of the network",
    ),
    (
        "i3d-core",
        "i3d-cpu i3d-gpu candle-core wgpu",
        "the network's definition has no executor",
    ),
    (
        "i3d-cpu",
        "i3d-gpu wgpu engine",
        "the executors never use each other",
    ),
    (
        "i3d-gpu",
        "i3d-cpu candle-core engine",
        "the executors never use each other",
    ),
    (
        "engine",
        "candle-core candle-nn",
        "the engine speaks to both executors through one interface",
    ),
    (
        "protocol",
        "engine i3d-cpu i3d-gpu candle-core wgpu",
        "the messages are data",
    ),
    (
        "heads",
        "i3d-core i3d-cpu i3d-gpu engine candle-core wgpu web-sys",
        "a few-shot head is arithmetic on features, for the worker, the page and the command line alike",
    ),
    (
        "site",
        "app engine i3d-cpu i3d-gpu candle-core wgpu",
        "the site's build ships, it does not compute",
    ),
];

#[test]
fn the_crate_boundaries_hold() {
    let reaches = reaches();
    let mut broken = Vec::new();
    for (krate, forbidden, why) in BOUNDARIES {
        let reached = reaches
            .get(krate)
            .unwrap_or_else(|| panic!("no crate {krate}"));
        for other in forbidden.split_whitespace() {
            if reached.contains(other) {
                broken.push(format!("{krate} reaches {other}, but {why}"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// Test support that ships in no build: what the shipped crates (the app and the worker, as built for wasm32)
/// compile of ours has none of the test-only features (`i3d-core/testing`, `i3d-gpu/bench`, `kinetics/synthetic`).
#[test]
fn the_shipped_crates_compile_no_test_support() {
    const TEST_ONLY: [&str; 3] = [
        "i3d-core feature \"testing\"",
        "i3d-gpu feature \"bench\"",
        "kinetics feature \"synthetic\"",
    ];
    for package in ["app", "classifier-worker"] {
        let tree = cargo(&[
            "tree",
            "-e",
            "normal,features",
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            package,
        ]);
        assert!(tree.contains("i3d-core"), "{package}: {tree}");
        for feature in TEST_ONLY {
            assert!(!tree.contains(feature), "{package} compiles {feature}");
        }
    }
}

/// No page of the app imports another (`crates/app/src/pages/`, one module per page): what pages share is a
/// module of its own. A page file may use its own folder's modules (`super::` inside `pages/NAME/`), no other page.
#[test]
fn no_page_imports_another() {
    let pages = root().join("crates/app/src/pages");
    let mut files = Vec::new();
    let mut stack = vec![pages.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 10, "{files:?}");
    let mut found = Vec::new();
    for path in files {
        let relative = path.strip_prefix(&pages).unwrap();
        // `pages/NAME.rs` and `pages/NAME/mod.rs` reach other pages with `super::`; `pages/NAME/x.rs` with
        // `super::super::`. `pages/mod.rs` is the list itself.
        let depth = relative.components().count();
        let outside = match (depth, relative.ends_with("mod.rs")) {
            (1, true) => continue,
            (1, false) | (2, true) => "super::",
            _ => "super::super::",
        };
        let text = std::fs::read_to_string(&path).unwrap();
        // A page's tests (`mod tests { use super::*; }`) reach their page, not another.
        let code_end = text.find("#[cfg(test)]").unwrap_or(text.len());
        for (n, line) in text[..code_end].lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if code.contains("crate::pages::") || code.contains(outside) {
                found.push(format!("{}:{}: {}", relative.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "a page imports another:\n{}",
        found.join("\n")
    );
}
