//! `cargo xtask test`: every check and test the project has, in the order CI runs them.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Result};

use crate::passed::{self, Inputs};
use crate::setup::{self, Toolchain};
use crate::{run_cmd, server, web, weights};

/// Set for the test runs: tests fail, rather than skip, when weights, fixtures or an adapter are missing
/// (`i3d_core::reference::REQUIRE_ENV`, which is behind i3d-core's test-only `testing` feature, so the name is
/// repeated here and a test in `i3d-core` checks that both agree).
pub const REQUIRE_ENV: &str = "KINETISCOPE_REQUIRE_ASSETS";

/// Crates whose tests also run as wasm32 in headless Chromium (each has a `webdriver.json`).
const WASM_TEST_PACKAGES: &[&str] = &["app", "i3d-cpu", "i3d-gpu"];
/// Crates that must build and pass clippy for wasm32.
const WASM_PACKAGES: &[&str] = &[
    "app",
    "kinetics",
    "i3d-core",
    "i3d-cpu",
    "i3d-gpu",
    "engine",
    "protocol",
    "heads",
    "classifier-worker",
];

/// The stages of `cargo xtask test`, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Stage {
    /// `cargo fmt --check`.
    Fmt,
    /// `cargo clippy -D warnings`, native.
    Clippy,
    /// `cargo clippy -D warnings` for wasm32.
    ClippyWasm,
    /// Native unit and integration tests.
    Native,
    /// Every fuzz target briefly (a regression of a parser fails here).
    Fuzz,
    /// wasm-bindgen tests in headless Chromium.
    Wasm,
    /// Release build of the site and browser end-to-end tests.
    E2e,
}

const ALL_STAGES: &[Stage] = &[
    Stage::Fmt,
    Stage::Clippy,
    Stage::ClippyWasm,
    Stage::Native,
    Stage::Fuzz,
    Stage::Wasm,
    Stage::E2e,
];

/// Seconds each fuzz target runs in `cargo xtask test`.
const FUZZ_SECONDS: u64 = 10;

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Run only these stages (repeatable); all of them by default.
    #[arg(long, value_enum)]
    only: Vec<Stage>,
    /// In the e2e stage, run only these files of `tests/e2e` (repeatable, e.g. `--e2e pwa`); all by
    /// default. For working on one page: CI runs them all.
    #[arg(long, value_name = "NAME")]
    e2e: Vec<String>,
    /// Run every stage, also those that passed before on exactly these inputs (files, toolchain, ../shared,
    /// environment; see `xtask/src/passed.rs`), which are otherwise reported and not run again.
    #[arg(long)]
    rerun: bool,
}

/// Runs setup, then the selected stages; fails on the first failing stage.
pub fn run(root: &Path, args: &TestArgs) -> Result<()> {
    let started = Instant::now();
    // wasm-bindgen-cli and trunk, when missing, install in the background until a stage needs them.
    let (toolchain, mut installs) = setup::run_for_tests(root)?;
    let mut timings = vec![("Setup".to_owned(), started.elapsed())];
    let stages = if args.only.is_empty() {
        ALL_STAGES.to_vec()
    } else {
        args.only.clone()
    };
    let inputs = Inputs::of(root)?;
    for stage in stages {
        let name = format!("{stage:?}");
        let options = if stage == Stage::E2e {
            args.e2e.clone()
        } else {
            Vec::new()
        };
        let hash = inputs.for_stage(&name, &options);
        if !args.rerun {
            if let Some(when) = passed::passed_before(root, &name, &hash) {
                eprintln!(
                    "\n=== test: {name}: passed at {when} on exactly these inputs; not run again (--rerun runs it) ==="
                );
                timings.push((format!("{name} (unchanged)"), std::time::Duration::ZERO));
                continue;
            }
        }
        eprintln!("\n=== test: {name} ===");
        let t = Instant::now();
        match stage {
            Stage::Wasm => installs.wait_for(setup::Tool::WasmBindgen)?,
            Stage::E2e => installs.wait_all()?,
            _ => {}
        }
        passed::forget(root, &name);
        run_stage(root, &toolchain, stage, &args.e2e)?;
        passed::record(root, &name, &hash)?;
        timings.push((name, t.elapsed()));
    }
    // Not needed by the stages asked for, but installed all the same: the next run finds them.
    installs.wait_all()?;
    eprintln!("\nAll stages passed:");
    for (stage, time) in timings {
        eprintln!("  {stage:<22} {:>7.1} s", time.as_secs_f64());
    }
    eprintln!(
        "  {:<22} {:>7.1} s",
        "total",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn run_stage(root: &Path, toolchain: &Toolchain, stage: Stage, e2e: &[String]) -> Result<()> {
    match stage {
        Stage::Fmt => run_cmd(Command::new("cargo").args(["fmt", "--all", "--", "--check"])),
        Stage::Clippy => run_cmd(Command::new("cargo").args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])),
        Stage::ClippyWasm => {
            let mut cmd = toolchain.wasm_cargo();
            // Libraries, binaries (the app and its worker) and tests: the examples and benches are
            // native tools (they read files, time threads).
            cmd.args([
                "clippy",
                "--target",
                "wasm32-unknown-unknown",
                "--lib",
                "--bins",
                "--tests",
            ]);
            for package in WASM_PACKAGES {
                cmd.args(["-p", package]);
            }
            cmd.args(["--", "-D", "warnings"]);
            run_cmd(&mut cmd)?;
            // The CPU kernels again with relaxed SIMD, as the threaded worker's relaxed flavour compiles them
            // (its fused multiply-add kernel is only compiled there); a target folder of its own, since the
            // flags differ.
            let mut relaxed = toolchain.wasm_cargo();
            relaxed
                .env(
                    "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
                    site::flags::one_line(site::flags::RELAXED_SIMD_RUSTFLAGS),
                )
                .args([
                    "clippy",
                    "--target",
                    "wasm32-unknown-unknown",
                    "--target-dir",
                    "target/clippy-relaxed",
                    "--lib",
                    "--tests",
                    "-p",
                    "i3d-cpu",
                    "--",
                    "-D",
                    "warnings",
                ]);
            run_cmd(&mut relaxed)
        }
        Stage::Native => {
            // Tests of the model need the real weights: fetch and convert them first (skipped when present).
            weights::run(&weights::WeightsArgs::default(), root)?;
            // Every test input is there now: a test that misses one fails instead of skipping.
            run_cmd(
                Command::new("cargo")
                    .env(REQUIRE_ENV, "1")
                    .args(["test", "--workspace"]),
            )
        }
        Stage::Fuzz => crate::fuzz::run(
            root,
            &crate::fuzz::FuzzArgs {
                seconds: FUZZ_SECONDS,
                target: Vec::new(),
            },
        )
        .map(|_| ()),
        Stage::Wasm => {
            // The model tests fetch the real weights and the reference fixtures from this server.
            let weights_dir = weights::run(&weights::WeightsArgs::default(), root)?;
            let assets = server::serve_test_assets(&weights_dir, &root.join("../shared/fixtures"))?;
            let mut cmd = wasm_test_cargo(toolchain, &assets.url);
            cmd.env("TMPDIR", browser_tmpdir(root)?);
            cmd.args(["test", "--target", "wasm32-unknown-unknown"]);
            for package in WASM_TEST_PACKAGES {
                cmd.args(["-p", package]);
            }
            cmd.args(wasm_test_targets(root)?);
            run_cmd(&mut cmd)
        }
        Stage::E2e => {
            web::build(root, toolchain, None)?;
            let bytes = site::app_wasm_bytes(&root.join("dist"))?;
            if bytes > site::APP_WASM_BUDGET {
                bail!(
                    "the app's wasm is {bytes} bytes, over its budget of {} (crates/site/src/lib.rs): \
                     the first visit of every visitor downloads it",
                    site::APP_WASM_BUDGET
                );
            }
            end_to_end(root, e2e)
        }
    }
}

/// The test targets of [`WASM_TEST_PACKAGES`] that hold wasm-bindgen tests, as cargo's target options:
/// `--test NAME` for each `tests/NAME.rs` that mentions `wasm_bindgen_test`, and `--lib` when a crate's `src/`
/// does. The others hold native tests only, and building them for wasm32 (the whole crate again, with
/// `cfg(test)`, for a library's unit tests) would take minutes to run nothing.
fn wasm_test_targets(root: &Path) -> Result<Vec<String>> {
    /// Whether `path` (a file, or a folder searched whole) holds Rust code that mentions `wasm_bindgen_test`.
    fn mentions_wasm_tests(path: &Path) -> Result<bool> {
        if path.is_dir() {
            for entry in std::fs::read_dir(path)? {
                if mentions_wasm_tests(&entry?.path())? {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        Ok(path.extension().is_some_and(|e| e == "rs")
            && std::fs::read_to_string(path)?.contains("wasm_bindgen_test"))
    }
    let mut targets = Vec::new();
    let mut lib = false;
    for package in WASM_TEST_PACKAGES {
        let dir = root.join("crates").join(package);
        lib |= mentions_wasm_tests(&dir.join("src"))?;
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir.join("tests"))? {
            let path = entry?.path();
            if path.is_file() && mentions_wasm_tests(&path)? {
                if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                    names.push(stem.to_owned());
                }
            }
        }
        names.sort();
        for name in names {
            targets.extend(["--test".to_owned(), name]);
        }
    }
    if lib {
        targets.push("--lib".to_owned());
    }
    if targets.is_empty() {
        bail!("no wasm-bindgen tests found in {WASM_TEST_PACKAGES:?}");
    }
    Ok(targets)
}

/// A `cargo` command for wasm32 tests in headless Chromium (wasm-bindgen-test-runner + chromedriver), with the
/// URL of the asset server baked in as `KINETISCOPE_TEST_ASSETS`.
pub fn wasm_test_cargo(toolchain: &Toolchain, assets_url: &str) -> Command {
    let mut cmd = toolchain.wasm_cargo();
    cmd.env("KINETISCOPE_TEST_ASSETS", assets_url)
        // Read at compile time by the browser tests (`option_env!`): a missing input fails them.
        .env(REQUIRE_ENV, "1")
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "600");
    cmd
}

/// An empty temporary directory for the browsers a stage starts: `$TMPDIR/kinetiscope-browsers-<hash of root>`.
///
/// Headless Chromium keeps a profile of about 150 MB in `$TMPDIR` and leaves it behind whenever it is killed rather
/// than closed (a timed-out test, an interrupted run). Pointing the browsers' `TMPDIR` at a directory of this
/// checkout's own, emptied before each stage, keeps those leftovers from piling up. It stays directly under the
/// system's temporary directory because Chromium puts Unix sockets there, whose paths may not exceed 107 bytes.
fn browser_tmpdir(root: &Path) -> Result<std::path::PathBuf> {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    root.hash(&mut hasher);
    let dir = std::env::temp_dir().join(format!("kinetiscope-browsers-{:016x}", hasher.finish()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Serves `dist/` (and the weights and fixtures, `ASSETS_URL`) on ephemeral ports and runs the Playwright
/// tests in `tests/e2e` against them (the files named in `only`, e.g. `pwa` for `pwa.test.mjs`, or all).
fn end_to_end(root: &Path, only: &[String]) -> Result<()> {
    let server = server::serve_in_background(&root.join("dist"))?;
    // The f32 weights and the reference fixtures, for the threaded worker's parity check.
    let weights_dir = weights::run(&weights::WeightsArgs::default(), root)?;
    let assets = server::serve_test_assets(&weights_dir, &root.join("../shared/fixtures"))?;
    let screenshots = root.join("target/e2e");
    std::fs::create_dir_all(&screenshots)?;
    // The deployable site (`cargo xtask dist`'s output), for the test of a host that only serves files.
    let deploy = root.join("target/e2e-deploy");
    if deploy.exists() {
        std::fs::remove_dir_all(&deploy)?;
    }
    web::copy_site(&root.join("dist"), &deploy)?;
    site::deploy::extras(&deploy)?;
    eprintln!(
        "e2e: site at {}, screenshots in {}",
        server.url,
        screenshots.display()
    );
    let files: Vec<String> = if only.is_empty() {
        vec!["e2e/".into()]
    } else {
        only.iter()
            .map(|name| format!("e2e/{}.test.mjs", name.trim_end_matches(".test.mjs")))
            .collect()
    };
    // The command line, for the tests that take a head file from it to the app and back (/train). Built by the
    // native stage already; this only checks it is current.
    run_cmd(Command::new("cargo").args(["build", "-q", "-p", "kinetiscope"]))?;
    let cli = root.join("target/debug/kinetiscope");
    let status = Command::new("node")
        .args(["--test", "--test-concurrency=1"])
        .args(&files)
        .current_dir(root.join("tests"))
        .env("BASE_URL", &server.url)
        .env("ASSETS_URL", &assets.url)
        .env("SCREENSHOT_DIR", &screenshots)
        .env("SHARED_DIR", root.join("../shared"))
        .env("DIST_DIR", root.join("dist"))
        .env("DEPLOY_DIR", &deploy)
        .env(
            "KINETISCOPE_CONTRACT",
            root.join(site::contract::TEST_CONTRACT),
        )
        .env("KINETISCOPE_XTASK", std::env::current_exe()?)
        .env("KINETISCOPE_CLI", &cli)
        .env("KINETISCOPE_WEIGHTS", &weights_dir)
        .env("TMPDIR", browser_tmpdir(root)?)
        .status()?;
    if !status.success() {
        bail!(
            "browser end-to-end tests failed ({status}); screenshots in {}",
            screenshots.display()
        );
    }
    Ok(())
}
