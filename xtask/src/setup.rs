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
/// What the tests add: the browser, and software Vulkan (lavapipe) for native wgpu tests.
const TEST_PACKAGES: &[&str] = &["chromium", "chromium-driver", "mesa-vulkan-drivers"];
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

/// rustflags of the threaded worker build: `.cargo/config.toml`'s wasm32 flags (an environment
/// variable replaces them, so they are repeated) plus WebAssembly threads: atomics and bulk memory,
/// and a shared memory imported from JavaScript (so that the pool's workers can share it), at most
/// 2 GiB (a shared memory must declare its maximum; the model needs ~0.5 GiB), with the exports
/// wasm-bindgen's thread support needs.
const THREADED_RUSTFLAGS: &str =
    "-C target-feature=+simd128,+atomics,+bulk-memory,+mutable-globals \
    --cfg getrandom_backend=\"wasm_js\" \
    -C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=2147483648 \
    -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
    -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base";

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
                "-Zunstable-options -Cpanic=immediate-abort".into(),
            ),
            (
                "CARGO_PROFILE_APP_RELEASE_BUILD_OVERRIDE_RUSTFLAGS",
                "-Cdebug-assertions=off".into(),
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
    /// features, enabled with `RUSTC_BOOTSTRAP` on the stable compiler) and [`THREADED_RUSTFLAGS`].
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
                THREADED_RUSTFLAGS
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
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
/// when missing, install in the background: [`crate::site::build`] prepares the data and the model and compiles
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

/// `cargo install trunk`'s arguments beside the version. No default features: no TLS stack and no
/// update check to compile, and a trunk that cannot download wasm-bindgen or wasm-opt builds of its
/// own (this project installs both, and trunk's downloads fail offline).
const TRUNK_INSTALL_ARGS: &[&str] = &["--locked", "--no-default-features"];

/// `cargo install wasm-bindgen-cli`'s arguments beside the version. No default features: no TLS stack (the
/// test runner talks plain HTTP to the local chromedriver). Not --locked: its lock file pins a webpki-roots
/// release the registry here does not serve.
const WASM_BINDGEN_INSTALL_ARGS: &[&str] = &["--no-default-features"];

/// A tool `cargo install`ed in the background: the binary it provides and its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// wasm-bindgen-cli (`wasm-bindgen`, `wasm-bindgen-test-runner`): the wasm tests, the threaded worker, trunk.
    WasmBindgen,
    /// trunk: the site's release build.
    Trunk,
}

impl Tool {
    fn crate_name(self) -> &'static str {
        match self {
            Tool::WasmBindgen => "wasm-bindgen-cli",
            Tool::Trunk => "trunk",
        }
    }
}

/// `cargo install` of the tools that are missing, one after the other in a background thread (at a lower
/// priority, so that the stages being waited for come first), each one's output in a log file under
/// `target/tools`. They share one target directory, so the crates both use compile once. Whatever needs a
/// tool calls [`Self::wait_for`] first; the installations are killed if this is dropped before they end.
pub struct ToolInstalls {
    /// Results that arrived (`Err` holds the failure's message).
    done: Vec<(Tool, std::result::Result<(), String>)>,
    /// Tools still being installed, in order.
    pending: Vec<Tool>,
    results: std::sync::mpsc::Receiver<(Tool, std::result::Result<(), String>)>,
    cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ToolInstalls {
    /// Starts installing whichever of wasm-bindgen-cli (first: it is needed first) and trunk is missing.
    fn start(root: &Path) -> Result<Self> {
        let bindgen = wasm_bindgen_version(root)?;
        let mut queue: Vec<(Tool, String, Vec<&'static str>)> = Vec::new();
        for (tool, binary, version, args) in [
            (
                Tool::WasmBindgen,
                "wasm-bindgen",
                bindgen.as_str(),
                WASM_BINDGEN_INSTALL_ARGS,
            ),
            (Tool::Trunk, "trunk", TRUNK_VERSION, TRUNK_INSTALL_ARGS),
        ] {
            if installed_version(binary).as_deref() == Some(version) {
                step(tool.crate_name(), &format!("{version} already installed"));
            } else {
                queue.push((tool, version.to_owned(), args.to_vec()));
            }
        }
        let tools_dir = root.join("target/tools");
        std::fs::create_dir_all(&tools_dir)?;
        for (tool, version, _) in &queue {
            let name = tool.crate_name();
            step(
                name,
                &format!(
                    "cargo install {name} {version}, in the background while other work runs (log: {})",
                    tools_dir.join(format!("{name}-install.log")).display()
                ),
            );
        }
        let pending = queue.iter().map(|(tool, _, _)| *tool).collect();
        let (send, results) = std::sync::mpsc::channel();
        let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let cancelled = cancel.clone();
        let thread = std::thread::spawn(move || {
            for (tool, version, args) in queue {
                let result = install_one(&tools_dir, tool, &version, &args, &cancelled);
                let failed = result.is_err();
                if send.send((tool, result)).is_err() || failed {
                    return;
                }
            }
        });
        Ok(Self {
            done: Vec::new(),
            pending,
            results,
            cancel,
            thread: Some(thread),
        })
    }

    /// Waits until `tool` is installed (at once when it already was); fails if its installation failed.
    pub fn wait_for(&mut self, tool: Tool) -> Result<()> {
        if !self.pending.contains(&tool) {
            return Ok(());
        }
        if !self.done.iter().any(|(t, _)| *t == tool) {
            step(
                tool.crate_name(),
                "waiting for the background installation to finish",
            );
        }
        while !self.done.iter().any(|(t, _)| *t == tool) {
            let Ok((arrived, result)) = self.results.recv() else {
                bail!(
                    "the background installation of {} stopped before it was done",
                    tool.crate_name()
                );
            };
            if result.is_ok() {
                step(arrived.crate_name(), "installed");
            }
            self.done.push((arrived, result));
        }
        match self.done.iter().find(|(t, _)| *t == tool) {
            Some((_, Err(message))) => bail!("{message}"),
            _ => Ok(()),
        }
    }

    /// Waits for every installation.
    pub fn wait_all(&mut self) -> Result<()> {
        for tool in self.pending.clone() {
            self.wait_for(tool)?;
        }
        Ok(())
    }
}

impl Drop for ToolInstalls {
    fn drop(&mut self) {
        self.cancel
            .store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `nice cargo install NAME --version VERSION ARGS`, its output in `tools_dir/NAME-install.log`; killed when
/// `cancel` is set. `Err` holds a message naming the log (whose text is printed too).
fn install_one(
    tools_dir: &Path,
    tool: Tool,
    version: &str,
    args: &[&str],
    cancel: &std::sync::atomic::AtomicBool,
) -> std::result::Result<(), String> {
    let name = tool.crate_name();
    let log = tools_dir.join(format!("{name}-install.log"));
    let run = || -> Result<std::process::ExitStatus> {
        let out = std::fs::File::create(&log)?;
        let mut child = Command::new("nice")
            .args(["-n", "10", "cargo", "install", name, "--version", version])
            .args(args)
            // Shared by the installs (and kept, so that an interrupted one resumes where it was).
            .arg("--target-dir")
            .arg(tools_dir.join("install-target"))
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("could not start `cargo install {name}`"))?;
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = child.kill();
                let _ = child.wait();
                bail!("cancelled");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    match run() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            eprintln!("{text}");
            Err(format!(
                "cargo install {name} failed ({status}); its output is above and in {}",
                log.display()
            ))
        }
        Err(error) => Err(format!("cargo install {name}: {error:#}")),
    }
}

/// The version `NAME --version` reports (its second word), if the program runs.
fn installed_version(binary: &str) -> Option<String> {
    output_of(binary, &["--version"])?
        .split_whitespace()
        .nth(1)
        .map(str::to_owned)
}

/// The folder holding the `wasm-opt` that trunk must use (put first in its `PATH`).
pub fn wasm_opt_dir(root: &Path) -> std::path::PathBuf {
    root.join(BINARYEN_DIR).join("node_modules/.bin")
}

/// That wasm-opt's version as trunk names it (`version_132`): trunk runs a wasm-opt it finds only when
/// told exactly which version it is (it never downloads one here).
pub fn wasm_opt_version(root: &Path) -> Result<String> {
    let program = wasm_opt_dir(root).join("wasm-opt");
    let text = output_of(&program.to_string_lossy(), &["--version"])
        .context("wasm-opt is not installed (`cargo xtask setup` installs it)")?;
    let number = text
        .split_whitespace()
        .nth(2)
        .with_context(|| format!("unexpected `wasm-opt --version` output: {text}"))?;
    Ok(format!("version_{number}"))
}

/// `npm install` of [`BINARYEN`] into [`BINARYEN_DIR`] unless its wasm-opt is there.
fn binaryen_install(root: &Path) -> Result<()> {
    if wasm_opt_dir(root).join("wasm-opt").exists() {
        step("wasm-opt", &format!("{BINARYEN} already installed"));
        return Ok(());
    }
    step("wasm-opt", &format!("npm install {BINARYEN}"));
    npm_install_into(&root.join(BINARYEN_DIR), BINARYEN)
}

/// `npm install PACKAGE` into `dir` (its own `node_modules`, no package.json written).
pub fn npm_install_into(dir: &Path, package: &str) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    run_cmd(
        Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--prefix",
            ])
            .arg(dir)
            .arg(package),
    )
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

fn wasm_toolchain() -> Result<Toolchain> {
    let wasm = detect_or_install_wasm()?;
    step("wasm32", &format!("using {wasm:?}"));
    let threaded = match wasm {
        WasmToolchain::DebianWeb => WasmToolchain::DebianWeb,
        WasmToolchain::Rustup if rust_src_installed() => WasmToolchain::Rustup,
        WasmToolchain::Rustup => {
            step(
                "wasm32 threads",
                &format!(
                    "trying `rustup component add rust-src` (at most {RUSTUP_TARGET_TIMEOUT:?})"
                ),
            );
            if run_with_timeout(
                Command::new("rustup").args(["component", "add", "rust-src"]),
                RUSTUP_TARGET_TIMEOUT,
            )? {
                WasmToolchain::Rustup
            } else {
                step(
                    "wasm32 threads",
                    "no rust-src from rustup; using Debian's rustc-web",
                );
                install_debian_web()?;
                WasmToolchain::DebianWeb
            }
        }
    };
    step(
        "wasm32 threads",
        &format!("std with atomics from {threaded:?}"),
    );
    Ok(Toolchain { wasm, threaded })
}

/// Whether the default toolchain has std's source (for `-Zbuild-std`).
fn rust_src_installed() -> bool {
    output_of("rustup", &["component", "list", "--installed"])
        .is_some_and(|l| l.lines().any(|l| l.starts_with("rust-src")))
}

fn detect_or_install_wasm() -> Result<WasmToolchain> {
    let installed = output_of("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(WasmToolchain::Rustup);
    }
    if debian_web_ready() {
        return Ok(WasmToolchain::DebianWeb);
    }
    step(
        "wasm32",
        &format!(
            "trying `rustup target add wasm32-unknown-unknown` (at most {RUSTUP_TARGET_TIMEOUT:?})"
        ),
    );
    if run_with_timeout(
        Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]),
        RUSTUP_TARGET_TIMEOUT,
    )? {
        return Ok(WasmToolchain::Rustup);
    }
    step(
        "wasm32",
        "rustup cannot fetch the target here; using Debian's rustc-web with -Zbuild-std",
    );
    install_debian_web()?;
    Ok(WasmToolchain::DebianWeb)
}

/// Debian's rustc-web with std's source, linked into rustup as [`DEBIAN_TOOLCHAIN`].
fn install_debian_web() -> Result<()> {
    apt_install(DEBIAN_WASM_PACKAGES)?;
    let toolchains = output_of("rustup", &["toolchain", "list"]).unwrap_or_default();
    if !toolchains.lines().any(|l| l.starts_with(DEBIAN_TOOLCHAIN)) {
        run_cmd(Command::new("rustup").args(["toolchain", "link", DEBIAN_TOOLCHAIN, "/usr"]))?;
    }
    if !debian_web_ready() {
        bail!(
            "Debian's wasm toolchain is still incomplete after installing {DEBIAN_WASM_PACKAGES:?}"
        );
    }
    Ok(())
}

fn debian_web_ready() -> bool {
    let linked = output_of("rustup", &["toolchain", "list"])
        .is_some_and(|l| l.lines().any(|l| l.starts_with(DEBIAN_TOOLCHAIN)));
    linked
        && Path::new(DEBIAN_WASM_LD).exists()
        && Path::new(DEBIAN_STD_SRC).exists()
        && Path::new("/usr/bin/clippy-driver").exists()
}

/// Runs `cmd`, killing it after `limit`; true when it finished successfully in time.
fn run_with_timeout(cmd: &mut Command, limit: Duration) -> Result<bool> {
    let mut child = cmd.spawn().context("could not start rustup")?;
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status.success());
        }
        if start.elapsed() > limit {
            // Best effort: the process may already have exited between the two calls.
            let _ = child.kill();
            let _ = child.wait();
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn apt_installed(package: &str) -> bool {
    output_of("dpkg-query", &["-W", "-f=${Status}", package])
        .is_some_and(|s| s.contains("install ok installed"))
}

/// Installs the Debian packages that are missing (`apt-get update` first), as root or through sudo.
fn apt_install(packages: &[&str]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !apt_installed(p))
        .collect();
    if missing.is_empty() {
        step("apt", &format!("{} already installed", packages.join(", ")));
        return Ok(());
    }
    step("apt", &format!("installing {}", missing.join(", ")));
    let as_root = output_of("id", &["-u"]).is_some_and(|id| id.trim() == "0");
    let apt = |args: &[&str]| {
        let mut cmd = if as_root {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.arg("apt-get");
            c
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    run_cmd(&mut apt(&["update", "-q"]))?;
    let mut install = apt(&["install", "-y", "-q", "--no-install-recommends"]);
    install.args(&missing);
    run_cmd(&mut install)
}

/// The `wasm-bindgen` version in Cargo.lock: wasm-bindgen-cli must match it exactly.
pub fn wasm_bindgen_version(root: &Path) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let lock: toml::Table = toml::from_str(&lock).context("parsing Cargo.lock")?;
    lock.get("package")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .find(|p| p.get("name").and_then(|n| n.as_str()) == Some("wasm-bindgen"))
        .and_then(|p| p.get("version").and_then(|v| v.as_str()))
        .map(str::to_owned)
        .context("Cargo.lock has no wasm-bindgen package")
}

/// `npm ci` in the end-to-end test folder unless its node_modules is already complete.
fn npm_install(tests_dir: &Path) -> Result<()> {
    if tests_dir
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        step("npm", "playwright-core already installed");
        return Ok(());
    }
    step(
        "npm",
        "installing playwright-core (uses the system Chromium, downloads no browser)",
    );
    run_cmd(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(tests_dir)
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"),
    )
}
