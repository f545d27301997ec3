//! `cargo xtask bench-browser`: the candle CPU executor's speed as wasm32 in headless Chromium.
//!
//! Runs `crates/i3d-cpu/tests/bench_browser.rs` (1 warm-up + 5 forward passes at T = 16 on one thread, real f32
//! weights) in release mode, the profile the site ships, and prints its log: median ms per clip, GFLOP/s and
//! per-layer medians. The test is compiled in but skipped by `cargo xtask test`; `KINETISCOPE_BROWSER_BENCH`
//! switches it on.

use std::path::Path;

use anyhow::Result;

use crate::{run_cmd, server, setup, test, weights};

/// Sets up, starts the asset server and runs the browser benchmark.
pub fn run(root: &Path) -> Result<()> {
    let toolchain = setup::run(root)?;
    let weights_dir = weights::run(&weights::WeightsArgs::default(), root)?;
    let assets = server::serve_test_assets(&weights_dir, &root.join("../shared/fixtures"))?;
    let mut cmd = test::wasm_test_cargo(&toolchain, &assets.url);
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
