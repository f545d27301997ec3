//! Building the web app with trunk (release, offline: trunk must never download tools here).

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::run_cmd;
use crate::setup::Toolchain;

/// `trunk build --release --offline` into `dist/`, with the wasm32 toolchain's environment.
///
/// trunk passes `--offline` on to cargo, which then cannot fetch the crates that `-Zbuild-std` needs for std
/// itself; so cargo builds the app first, online, with the very arguments trunk uses (trunk's own build is
/// then a no-op), and trunk runs offline so that it never tries to download wasm-bindgen or wasm-opt.
pub fn build(root: &Path, toolchain: &Toolchain) -> Result<()> {
    crate::data::prepare(root)?;
    let version = build_version(root);
    let manifest = root.join("crates/app/Cargo.toml");
    let mut cargo = toolchain.wasm_cargo();
    cargo
        .args([
            "build",
            "--target=wasm32-unknown-unknown",
            "--manifest-path",
        ])
        .arg(&manifest)
        .args(["--release", "--bin", "app"])
        .current_dir(root)
        .env("KINETISCOPE_BUILD", &version);
    run_cmd(&mut cargo)?;
    let mut trunk = Command::new("trunk");
    trunk
        .args(["build", "--release", "--offline"])
        .current_dir(root)
        .envs(toolchain.wasm_env())
        .env("KINETISCOPE_BUILD", &version);
    run_cmd(&mut trunk)
}

/// `VERSION+GITREV` (with `-dirty` for uncommitted changes), shown in the app's capabilities panel.
fn build_version(root: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let version = env!("CARGO_PKG_VERSION");
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(rev) => {
            let dirty = git(&["status", "--porcelain"]).is_some_and(|s| !s.is_empty());
            format!("{version}+{rev}{}", if dirty { "-dirty" } else { "" })
        }
        None => version.to_owned(),
    }
}
