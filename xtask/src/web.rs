//! Building the web app: cargo, wasm-bindgen and trunk (release, offline: trunk must never download tools here)
//! write `dist/`, then [`site::finish`] makes it the deployable site (what ships is defined there, not here).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use protocol::site::{RELAXED_DIR, THREADED_DIR, THREADED_GLUE, THREADED_WORKER, THREAD_SCRIPT};

use crate::run_cmd;
use crate::setup::Toolchain;
use crate::weights;

/// Where the site's model files go (trunk copies the folder to `dist/model/`).
const MODEL_ASSETS: &str = "target/site-assets/model";
/// Where the sample clip goes (trunk copies the folder to `dist/sample/`).
const SAMPLE_ASSETS: &str = "target/site-assets/sample";
/// The shared clip the sample is made from.
const SAMPLE_SOURCE: &str = "../shared/data/video/v_CricketShot_g04_c01_rgb.gif";

/// Puts the f16 weights and a manifest that lists only them into the site (building them first if
/// needed): the app ships with its model, and its manifest names no file the site does not have. The
/// weights are hard-linked when possible and skipped when already up to date.
fn prepare_model(root: &Path) -> Result<()> {
    let dir = weights::run(&weights::WeightsArgs::default(), root)?;
    let out = root.join(MODEL_ASSETS);
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let (from, to) = (
        dir.join(checkpoint::F16_FILE),
        out.join(checkpoint::F16_FILE),
    );
    let same = match (std::fs::metadata(&from), std::fs::metadata(&to)) {
        (Ok(a), Ok(b)) => a.len() == b.len() && a.modified().ok() <= b.modified().ok(),
        _ => false,
    };
    if !same {
        let _ = std::fs::remove_file(&to);
        if std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to)
                .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
        }
    }
    let manifest_path = dir.join(checkpoint::MANIFEST_FILE);
    let json = std::fs::read(&manifest_path)
        .with_context(|| format!("reading {}", manifest_path.display()))?;
    let mut manifest = checkpoint::Manifest::parse(&json, &manifest_path.display().to_string())?;
    manifest.files.retain(|f| f.name == checkpoint::F16_FILE);
    anyhow::ensure!(
        !manifest.files.is_empty(),
        "{} lists no f16 file",
        manifest_path.display()
    );
    let site_manifest = out.join(checkpoint::MANIFEST_FILE);
    // Earlier builds hard-linked the weights' own manifest here: unlink it rather than write through.
    let _ = std::fs::remove_file(&site_manifest);
    std::fs::write(&site_manifest, serde_json::to_vec_pretty(&manifest)?)
        .with_context(|| format!("writing {}", site_manifest.display()))?;
    println!("site: model in {}", out.display());
    Ok(())
}

/// Makes the sample clip (WebM, VP9, 25 fps) from the shared cricket GIF with ffmpeg. Without
/// ffmpeg or the shared folder the site has no sample, and says so when the button is pressed.
fn prepare_sample(root: &Path) {
    let source = root.join(SAMPLE_SOURCE);
    let out = root.join(SAMPLE_ASSETS);
    let target = out.join("cricket.webm");
    if target.is_file() {
        return;
    }
    if !source.is_file() {
        println!("site: no sample clip ({} is missing)", source.display());
        return;
    }
    if std::fs::create_dir_all(&out).is_err() {
        return;
    }
    let made = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&source)
        .args([
            "-c:v",
            "libvpx-vp9",
            "-b:v",
            "0",
            "-crf",
            "20",
            "-r",
            "25",
            "-pix_fmt",
            "yuv420p",
            "-an",
        ])
        .arg(&target)
        .status();
    match made {
        Ok(status) if status.success() => println!("site: sample clip {}", target.display()),
        other => {
            let _ = std::fs::remove_file(&target);
            println!("site: no sample clip (ffmpeg: {other:?})");
        }
    }
}

/// `trunk build --release --offline` into `dist/`, with the wasm32 toolchain's environment, then
/// [`site::finish`]; the site contract for the tests' helpers goes to [`site::contract::TEST_CONTRACT`].
///
/// trunk passes `--offline` on to cargo, which then cannot fetch the crates that `-Zbuild-std` needs for std
/// itself; so cargo builds the app first, online, with the very arguments trunk uses (trunk's own build is
/// then a no-op), and trunk runs offline so that it never tries to download wasm-bindgen or wasm-opt.
/// `installs` are trunk's and wasm-bindgen's installations when they may still be running in the background: everything
/// that needs neither (the data, the model, the three cargo builds) is done first, then they are waited for.
/// `KINETISCOPE_BUILD` (the version shown in the app) is also what `Trunk.toml`'s hook requires, so that `trunk`
/// run alone stops and says to use `cargo xtask`.
pub fn build(
    root: &Path,
    toolchain: &Toolchain,
    installs: Option<&mut crate::setup::ToolInstalls>,
) -> Result<()> {
    crate::data::prepare(root)?;
    prepare_model(root)?;
    prepare_sample(root);
    write_test_contract(root)?;
    let version = build_version(root);
    // The same cargo invocations as trunk's for the two `rel="rust"` links of index.html.
    // The app is built for size (`app-release`, see Cargo.toml and `data-cargo-profile-release` in
    // index.html), the worker for speed.
    for (manifest, bin, profile) in [
        ("crates/app/Cargo.toml", "app", "app-release"),
        ("crates/classifier-worker/Cargo.toml", "worker", "release"),
    ] {
        let mut cargo = Command::new("cargo");
        cargo
            .envs(toolchain.site_env())
            .args([
                "build",
                "--target=wasm32-unknown-unknown",
                "--manifest-path",
            ])
            .arg(root.join(manifest))
            .args(["--profile", profile, "--bin", bin])
            .current_dir(root)
            .env("KINETISCOPE_BUILD", &version);
        run_cmd(&mut cargo)?;
    }
    for flavour in THREADED_FLAVOURS {
        compile_threaded_worker(root, toolchain, &version, &flavour)?;
    }
    if let Some(installs) = installs {
        installs.wait_all()?;
    }
    let mut trunk = Command::new("trunk");
    trunk
        .args(["build", "--release", "--offline"])
        .current_dir(root)
        .envs(toolchain.site_env())
        .env(
            "TRUNK_TOOLS_WASM_OPT",
            crate::setup::wasm_opt_version(root)?,
        )
        .env("PATH", tools_path(root)?)
        .env("KINETISCOPE_BUILD", &version);
    run_cmd(&mut trunk)?;
    for flavour in THREADED_FLAVOURS {
        place_threaded_worker(root, &flavour)?;
    }
    let finished = site::finish(&root.join("dist"))?;
    println!(
        "site: Content-Security-Policy with {} inline script hash(es); service worker version {}, {} files precached",
        finished.inline_scripts, finished.version, finished.precached
    );
    eprintln!(
        "site: the app's wasm is {} bytes (budget {})",
        finished.app_wasm_bytes,
        site::APP_WASM_BUDGET
    );
    Ok(())
}

/// Writes the site contract with a sample of every message ([`site::contract::for_tests`]) where the browser tests'
/// and benchmarks' helpers read it.
fn write_test_contract(root: &Path) -> Result<()> {
    let path = root.join(site::contract::TEST_CONTRACT);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(
        &path,
        serde_json::to_vec_pretty(&site::contract::for_tests())?,
    )
    .with_context(|| format!("writing {}", path.display()))
}

/// `PATH` with the wasm-opt that setup installed first.
fn tools_path(root: &Path) -> Result<std::ffi::OsString> {
    let mut dirs = vec![crate::setup::wasm_opt_dir(root)];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    Ok(std::env::join_paths(dirs)?)
}

/// A build of the threaded worker: its folder in the site, its own target folder (its std and flags differ from the
/// single-threaded build's and from each other's), and its rustflags.
struct ThreadedFlavour {
    dir: &'static str,
    target_dir: &'static str,
    rustflags: &'static str,
}

/// The threaded worker's builds: plain simd128, and relaxed SIMD (fused multiply-add) for browsers that have it.
const THREADED_FLAVOURS: [ThreadedFlavour; 2] = [
    ThreadedFlavour {
        dir: THREADED_DIR,
        target_dir: "target/wasm-threads",
        rustflags: site::flags::THREADED_RUSTFLAGS,
    },
    ThreadedFlavour {
        dir: RELAXED_DIR,
        target_dir: "target/wasm-threads-relaxed",
        rustflags: site::flags::RELAXED_THREADED_RUSTFLAGS,
    },
];

/// The classifier worker built a second time with WebAssembly threads (see
/// `crates/classifier-worker/src/threads.rs`), for `dist/worker-mt/` and, with relaxed SIMD,
/// `dist/worker-mt-relaxed/` ([`place_threaded_worker`]). trunk
/// cannot build one asset with other rustflags and std, so cargo and wasm-bindgen (`no-modules`, like
/// trunk's worker) run here. The app starts it where the page is cross-origin isolated, the
/// single-threaded `/worker_loader.js` elsewhere.
fn compile_threaded_worker(
    root: &Path,
    toolchain: &Toolchain,
    version: &str,
    flavour: &ThreadedFlavour,
) -> Result<()> {
    let mut cargo = toolchain.threaded_cargo();
    cargo
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
            site::flags::one_line(flavour.rustflags),
        )
        .args([
            "build",
            "--release",
            "--target=wasm32-unknown-unknown",
            "--target-dir",
            flavour.target_dir,
            "--package",
            "classifier-worker",
            "--bin",
            "worker",
        ])
        .current_dir(root)
        .env("KINETISCOPE_BUILD", version);
    run_cmd(&mut cargo)
}

/// `dist/<flavour>/` (`worker-mt/`, `worker-mt-relaxed/`): wasm-bindgen's glue and module of
/// [`compile_threaded_worker`]'s build, its loader and thread script from `www/worker-mt/` (after trunk, which
/// empties `dist/`).
fn place_threaded_worker(root: &Path, flavour: &ThreadedFlavour) -> Result<()> {
    let out = root.join("dist").join(flavour.dir);
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let glue = THREADED_GLUE.trim_end_matches(".js");
    let mut bindgen = Command::new("wasm-bindgen");
    bindgen
        .args(["--target", "no-modules", "--no-typescript", "--out-name"])
        .arg(glue)
        .arg("--out-dir")
        .arg(&out)
        .arg(
            root.join(flavour.target_dir)
                .join("wasm32-unknown-unknown/release/worker.wasm"),
        );
    run_cmd(&mut bindgen)?;
    let loader = THREADED_WORKER.rsplit('/').next().unwrap_or_default();
    for script in [loader, THREAD_SCRIPT] {
        let from = root.join("www").join(THREADED_DIR).join(script);
        std::fs::copy(&from, out.join(script))
            .with_context(|| format!("copying {}", from.display()))?;
    }
    println!("site: threaded worker in {}", out.display());
    Ok(())
}

/// Copies the built site `dist` into `out` (created if needed), to deploy: refused when `out` has files already,
/// so that no stale file of an older build is deployed beside the new one.
pub fn copy_site(dist: &Path, out: &Path) -> Result<()> {
    if out.exists() {
        let mut entries =
            std::fs::read_dir(out).with_context(|| format!("reading {}", out.display()))?;
        anyhow::ensure!(
            entries.next().is_none(),
            "{} is not empty: give a new or empty folder",
            out.display()
        );
    }
    let mut stack = vec![dist.to_path_buf()];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        let relative = dir.strip_prefix(dist)?;
        std::fs::create_dir_all(out.join(relative))
            .with_context(|| format!("creating {}", out.join(relative).display()))?;
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let to = out.join(path.strip_prefix(dist)?);
                std::fs::copy(&path, &to)
                    .with_context(|| format!("copying {} to {}", path.display(), to.display()))?;
                files += 1;
            }
        }
    }
    println!("site: {files} files in {}", out.display());
    Ok(())
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
