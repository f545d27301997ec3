//! The system's part of the setup: the wasm32 toolchain (rustup's target, or Debian's `rustc-web` with std built
//! from source) and Debian's packages.

use super::*;

pub(super) fn wasm_toolchain() -> Result<Toolchain> {
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
pub(super) fn rust_src_installed() -> bool {
    output_of("rustup", &["component", "list", "--installed"])
        .is_some_and(|l| l.lines().any(|l| l.starts_with("rust-src")))
}

pub(super) fn detect_or_install_wasm() -> Result<WasmToolchain> {
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
pub(super) fn install_debian_web() -> Result<()> {
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

pub(super) fn debian_web_ready() -> bool {
    let linked = output_of("rustup", &["toolchain", "list"])
        .is_some_and(|l| l.lines().any(|l| l.starts_with(DEBIAN_TOOLCHAIN)));
    linked
        && Path::new(DEBIAN_WASM_LD).exists()
        && Path::new(DEBIAN_STD_SRC).exists()
        && Path::new("/usr/bin/clippy-driver").exists()
}

/// Runs `cmd`, killing it after `limit`; true when it finished successfully in time.
pub(super) fn run_with_timeout(cmd: &mut Command, limit: Duration) -> Result<bool> {
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

pub(super) fn apt_installed(package: &str) -> bool {
    output_of("dpkg-query", &["-W", "-f=${Status}", package])
        .is_some_and(|s| s.contains("install ok installed"))
}

/// Installs the Debian packages that are missing (`apt-get update` first), as root or through sudo.
pub(super) fn apt_install(packages: &[&str]) -> Result<()> {
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
