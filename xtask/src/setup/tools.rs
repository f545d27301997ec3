//! The tools `cargo xtask` installs with cargo and npm, once: trunk and wasm-bindgen-cli (in the background, see
//! [`ToolInstalls`]), binaryen's wasm-opt and the browser tests' npm packages.

use super::*;

/// `cargo install trunk`'s arguments beside the version. No default features: no TLS stack and no
/// update check to compile, and a trunk that cannot download wasm-bindgen or wasm-opt builds of its
/// own (this project installs both, and trunk's downloads fail offline).
pub(super) const TRUNK_INSTALL_ARGS: &[&str] = &["--locked", "--no-default-features"];

/// `cargo install wasm-bindgen-cli`'s arguments beside the version. No default features: no TLS stack (the
/// test runner talks plain HTTP to the local chromedriver). Not --locked: its lock file pins a webpki-roots
/// release the registry here does not serve.
pub(super) const WASM_BINDGEN_INSTALL_ARGS: &[&str] = &["--no-default-features"];

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
    pub(super) fn start(root: &Path) -> Result<Self> {
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
pub(super) fn install_one(
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
pub(super) fn installed_version(binary: &str) -> Option<String> {
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
pub(super) fn binaryen_install(root: &Path) -> Result<()> {
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
pub(super) fn npm_install(tests_dir: &Path) -> Result<()> {
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
