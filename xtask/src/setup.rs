//! `cargo xtask setup`: installs what building and testing Kinetiscope needs, skipping what is already there.
//!
//! The recipes are the ones verified in `../shared/TOOLCHAIN.md`. On a normal machine with internet,
//! `rustup target add wasm32-unknown-unknown` is all the wasm part needs; where rustup's server is unreachable
//! (our CI machines) the wasm32 standard library is built from Debian's `rust-web-src` with `-Zbuild-std`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::run_cmd;

mod system;
mod tools;

use system::{apt_install, wasm_toolchain};
use tools::{binaryen_install, npm_install};
pub use tools::{npm_install_into, wasm_opt_dir, wasm_opt_version, Tool, ToolInstalls};

/// trunk 0.22 needs rustc ≥ 1.96.1; 0.21.14 builds with the stable compiler here.
const TRUNK_VERSION: &str = "0.21.14";
/// Debian's wasm-capable toolchain, linked into rustup under this name.
const DEBIAN_TOOLCHAIN: &str = "debian-web";
const DEBIAN_WASM_LD: &str = "/usr/lib/llvm-19/bin/wasm-ld";
const DEBIAN_STD_SRC: &str = "/usr/lib/rustlib/src/rust/library";
const DEBIAN_WASM_PACKAGES: &[&str] = &[
    "rustc-web",
    "cargo-web",
    "rust-web-src",
    "rust-web-clippy",
    "lld-19",
];
/// What building the site needs from Debian: ffmpeg (the sample clip).
const SITE_PACKAGES: &[&str] = &["ffmpeg"];
/// wasm-opt for the app's size optimisation (run by trunk), from npm: Debian's binaryen (108) predates
/// the reference-types tables wasm-bindgen now emits and breaks the module ("Table.set(): Argument 1 is
/// invalid"); npm's package runs wasm-opt under node.
const BINARYEN: &str = "binaryen@132.0.0";
/// Where it goes, under the workspace root.
const BINARYEN_DIR: &str = "target/tools/binaryen";
/// What the tests add: the browsers (Chromium; Firefox ESR, driven over WebDriver BiDi; WebKitGTK's MiniBrowser
/// and WebKitWebDriver, under Xvfb), software Vulkan (lavapipe) for native wgpu tests, and python3 (a static host
/// that sends no headers, `tests/e2e/pwa.test.mjs`).
const TEST_PACKAGES: &[&str] = &[
    "chromium",
    "chromium-driver",
    "mesa-vulkan-drivers",
    "firefox-esr",
    "webkit2gtk-driver",
    "xvfb",
    "xauth",
    // WebKitGTK's recommended media stack (setup installs without recommends): its video and WebCodecs decoders.
    "gstreamer1.0-gl",
    "gstreamer1.0-libav",
    "gstreamer1.0-plugins-bad",
    "python3",
];
/// How long `rustup target add` may try before we fall back to Debian's toolchain.
const RUSTUP_TARGET_TIMEOUT: Duration = Duration::from_secs(45);

/// How wasm32 code is compiled on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmToolchain {
    /// The default rustup toolchain has the `wasm32-unknown-unknown` target installed.
    Rustup,
    /// Debian's `rustc-web` linked as the rustup toolchain `debian-web`, std built from source.
    DebianWeb,
}

/// The result of setup: how to build for wasm32.
#[derive(Debug, Clone, Copy)]
pub struct Toolchain {
    /// Which wasm32 toolchain to use.
    pub wasm: WasmToolchain,
    /// Which one builds the threaded worker (std rebuilt with atomics: it needs std's source).
    pub threaded: WasmToolchain,
}

impl Toolchain {
    /// Environment variables for any cargo/trunk command that builds for wasm32.
    ///
    /// Target-specific rustflags (simd128, getrandom's wasm_js backend) live in `.cargo/config.toml`.
    pub fn wasm_env(&self) -> Vec<(&'static str, String)> {
        match self.wasm {
            WasmToolchain::Rustup => vec![],
            WasmToolchain::DebianWeb => vec![
                ("RUSTUP_TOOLCHAIN", DEBIAN_TOOLCHAIN.into()),
                ("RUSTC_BOOTSTRAP", "1".into()),
                ("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort".into()),
                (
                    "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER",
                    DEBIAN_WASM_LD.into(),
                ),
            ],
        }
    }

    /// Environment variables for the site's release build (the app and the worker, by cargo then by trunk, which
    /// must see the same ones so that its own cargo runs find nothing to do): [`Self::wasm_env`], plus std rebuilt
    /// with each profile's settings, and for the app's profile (`app-release`) panics that abort at once.
    ///
    /// That is what brings the explorer's wasm under its 1.2 MB budget (1,319,204 → 1,230,818 bytes after
    /// wasm-opt, measured on commit ade675b): std optimised for size with the app, and no code formatting panic
    /// messages (a panic in the app is a bug either way: it stops the page; the console then shows
    /// "unreachable" rather than the message). The worker keeps std's normal panics. Both are nightly cargo
    /// features, enabled on the stable toolchain with `RUSTC_BOOTSTRAP` as for the threaded worker. The build
    /// scripts of the app's profile get a no-op flag of their own: they run on the host, with the host's
    /// prebuilt std, which does not have that panic strategy.
    pub fn site_env(&self) -> Vec<(&'static str, String)> {
        let mut env = self.wasm_env();
        if self.wasm == WasmToolchain::Rustup {
            env.push(("RUSTC_BOOTSTRAP", "1".into()));
            env.push(("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort".into()));
        }
        env.extend([
            ("CARGO_UNSTABLE_PROFILE_RUSTFLAGS", "true".into()),
            (
                "CARGO_PROFILE_APP_RELEASE_RUSTFLAGS",
                site::flags::APP_RELEASE_RUSTFLAGS.into(),
            ),
            (
                "CARGO_PROFILE_APP_RELEASE_BUILD_OVERRIDE_RUSTFLAGS",
                site::flags::APP_RELEASE_BUILD_OVERRIDE_RUSTFLAGS.into(),
            ),
        ]);
        env
    }

    /// A `cargo` command for wasm32 builds, with [`Self::wasm_env`] applied.
    pub fn wasm_cargo(&self) -> Command {
        let mut cmd = Command::new("cargo");
        cmd.envs(self.wasm_env());
        cmd
    }

    /// A `cargo` command for the threaded wasm32 build: std rebuilt with atomics (nightly cargo
    /// features, enabled with `RUSTC_BOOTSTRAP` on the stable compiler) and [`site::flags::THREADED_RUSTFLAGS`].
    pub fn threaded_cargo(&self) -> Command {
        let mut cmd = Command::new("cargo");
        let base = Toolchain {
            wasm: self.threaded,
            threaded: self.threaded,
        };
        cmd.envs(base.wasm_env())
            .env("RUSTC_BOOTSTRAP", "1")
            .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
                site::flags::one_line(site::flags::THREADED_RUSTFLAGS),
            );
        cmd
    }
}

/// Runs every setup step (the site's and the tests') and returns the wasm32 toolchain to use.
pub fn run(root: &Path) -> Result<Toolchain> {
    let (toolchain, mut installs) = run_for_tests(root)?;
    installs.wait_all()?;
    Ok(toolchain)
}

/// What building and serving the site needs, no more (no browser, no test drivers). trunk and wasm-bindgen-cli,
/// when missing, install in the background: [`crate::web::build`] prepares the data and the model and compiles
/// the app and the workers with cargo meanwhile, and waits for them only before running trunk.
pub fn run_for_site(root: &Path) -> Result<(Toolchain, ToolInstalls)> {
    let toolchain = wasm_toolchain()?;
    apt_install(SITE_PACKAGES)?;
    binaryen_install(root)?;
    let installs = ToolInstalls::start(root)?;
    Ok((toolchain, installs))
}

/// What `cargo xtask test` needs, with wasm-bindgen-cli (first needed by the wasm stage) and trunk (by the last
/// stage, the site's release build) installed in the background when they are missing: their ~15 minutes of
/// compiling then overlap the first stages instead of preceding them. [`ToolInstalls::wait_for`] before using one.
pub fn run_for_tests(root: &Path) -> Result<(Toolchain, ToolInstalls)> {
    let toolchain = wasm_toolchain()?;
    apt_install(SITE_PACKAGES)?;
    binaryen_install(root)?;
    let installs = ToolInstalls::start(root)?;
    apt_install(TEST_PACKAGES)?;
    npm_install(&root.join("tests"))?;
    Ok((toolchain, installs))
}

fn step(name: &str, what: &str) {
    eprintln!("setup: {name}: {what}");
}

fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}
