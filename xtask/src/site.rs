//! Building the web app with trunk (release, offline: trunk must never download tools here).

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

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

/// `trunk build --release --offline` into `dist/`, with the wasm32 toolchain's environment.
///
/// trunk passes `--offline` on to cargo, which then cannot fetch the crates that `-Zbuild-std` needs for std
/// itself; so cargo builds the app first, online, with the very arguments trunk uses (trunk's own build is
/// then a no-op), and trunk runs offline so that it never tries to download wasm-bindgen or wasm-opt.
/// `installs` are trunk's and wasm-bindgen's installations when they may still be running in the background: everything
/// that needs neither (the data, the model, the three cargo builds) is done first, then they are waited for.
pub fn build(
    root: &Path,
    toolchain: &Toolchain,
    installs: Option<&mut crate::setup::ToolInstalls>,
) -> Result<()> {
    crate::data::prepare(root)?;
    prepare_model(root)?;
    prepare_sample(root);
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
    compile_threaded_worker(root, toolchain, &version)?;
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
    place_threaded_worker(root)?;
    add_content_security_policy(&root.join("dist"))?;
    finish_service_worker(&root.join("dist"))?;
    let bytes = app_wasm_bytes(&root.join("dist"))?;
    eprintln!("site: the app's wasm is {bytes} bytes (budget {APP_WASM_BUDGET})");
    Ok(())
}

/// What the explorer's wasm may weigh, in bytes before compression: every visitor downloads it before seeing a
/// class list. `cargo xtask test` fails above it.
pub const APP_WASM_BUDGET: u64 = 1_200_000;

/// The size in bytes of the app's wasm in `dist` (`app-<hash>_bg.wasm`, trunk's name).
pub fn app_wasm_bytes(dist: &Path) -> Result<u64> {
    for entry in std::fs::read_dir(dist).with_context(|| format!("reading {}", dist.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("app-") && name.ends_with("_bg.wasm") {
            return Ok(entry.metadata()?.len());
        }
    }
    bail!("no app-*_bg.wasm in {}", dist.display())
}

/// The site's Content-Security-Policy, less the hash of trunk's inline loader (added per build): its
/// own scripts and WebAssembly only; styles of its own (and `style` attributes, which the charts use);
/// images and media of its own or the visitor's (blob:), YouTube's thumbnails; YouTube's privacy embed
/// as the only frame; data fetched from itself or any https URL the visitor gives; no plugins, no
/// base or form targets elsewhere. A meta tag, so that it holds on any static host; the workers (not
/// covered by a document's meta policy) load only same-origin scripts.
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {inline}; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https://i.ytimg.com; media-src 'self' blob:; \
    connect-src 'self' https:; frame-src https://www.youtube-nocookie.com; worker-src 'self' blob:; \
    object-src 'none'; base-uri 'self'; form-action 'self'";

/// Puts [`CSP`] into `dist/index.html` as a meta tag, with the SHA-256 of each inline script trunk wrote.
fn add_content_security_policy(dist: &Path) -> Result<()> {
    use base64::Engine as _;
    use sha2::{Digest, Sha256};
    let path = dist.join("index.html");
    let html =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut hashes = Vec::new();
    let mut rest = html.as_str();
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let open_end = after
            .find('>')
            .context("index.html: unclosed <script> tag")?;
        let tag = &after[..open_end];
        let body_start = open_end + 1;
        let close = after[body_start..]
            .find("</script>")
            .context("index.html: <script> without </script>")?;
        if !tag.contains(" src=") {
            let body = &after[body_start..body_start + close];
            let digest = Sha256::digest(body.as_bytes());
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &after[body_start + close..];
    }
    let policy = CSP
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("{inline}", &hashes.join(" "));
    let meta = format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\" />");
    let Some(at) = html.find("<meta charset=\"utf-8\" />") else {
        anyhow::bail!(
            "{}: no <meta charset> to put the policy after",
            path.display()
        );
    };
    let insert = at + "<meta charset=\"utf-8\" />".len();
    let filled = format!("{}\n    {meta}{}", &html[..insert], &html[insert..]);
    std::fs::write(&path, filled).with_context(|| format!("writing {}", path.display()))?;
    println!(
        "site: Content-Security-Policy with {} inline script hash(es)",
        hashes.len()
    );
    Ok(())
}

/// `PATH` with the wasm-opt that setup installed first.
fn tools_path(root: &Path) -> Result<std::ffi::OsString> {
    let mut dirs = vec![crate::setup::wasm_opt_dir(root)];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    Ok(std::env::join_paths(dirs)?)
}

/// Its own target folder: the threaded build's std and flags differ from the single-threaded one's.
const THREADED_TARGET_DIR: &str = "target/wasm-threads";
/// Where the threaded worker goes in the site, with its loader and thread script (`www/worker-mt/`).
const THREADED_DIST: &str = "dist/worker-mt";

/// The classifier worker built a second time with WebAssembly threads (see
/// `crates/classifier-worker/src/threads.rs`), for `dist/worker-mt/` ([`place_threaded_worker`]). trunk
/// cannot build one asset with other rustflags and std, so cargo and wasm-bindgen (`no-modules`, like
/// trunk's worker) run here. The app starts it where the page is cross-origin isolated, the
/// single-threaded `/worker_loader.js` elsewhere.
fn compile_threaded_worker(root: &Path, toolchain: &Toolchain, version: &str) -> Result<()> {
    let mut cargo = toolchain.threaded_cargo();
    cargo
        .args([
            "build",
            "--release",
            "--target=wasm32-unknown-unknown",
            "--target-dir",
            THREADED_TARGET_DIR,
            "--package",
            "classifier-worker",
            "--bin",
            "worker",
        ])
        .current_dir(root)
        .env("KINETISCOPE_BUILD", version);
    run_cmd(&mut cargo)
}

/// `dist/worker-mt/{worker.js, worker_bg.wasm, loader.js, thread.js}` from [`compile_threaded_worker`]'s
/// build (after trunk, which empties `dist/`).
fn place_threaded_worker(root: &Path) -> Result<()> {
    let out = root.join(THREADED_DIST);
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let mut bindgen = Command::new("wasm-bindgen");
    bindgen
        .args([
            "--target",
            "no-modules",
            "--no-typescript",
            "--out-name",
            "worker",
            "--out-dir",
        ])
        .arg(&out)
        .arg(
            root.join(THREADED_TARGET_DIR)
                .join("wasm32-unknown-unknown/release/worker.wasm"),
        );
    run_cmd(&mut bindgen)?;
    for script in ["loader.js", "thread.js"] {
        let from = root.join("www/worker-mt").join(script);
        std::fs::copy(&from, out.join(script))
            .with_context(|| format!("copying {}", from.display()))?;
    }
    println!("site: threaded worker in {}", out.display());
    Ok(())
}

/// Files of the build the service worker does not precache: itself, and the weights (the
/// classifier's worker caches those in their own cache, which app updates keep).
fn precached(relative: &str) -> bool {
    relative != "sw.js" && !relative.ends_with(".safetensors")
}

/// Every file under `dir`, as `/`-separated paths relative to it, sorted.
fn files_under(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in
            std::fs::read_dir(&current).with_context(|| format!("reading {}", current.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(relative) = path.strip_prefix(dir) {
                let parts: Vec<_> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect();
                out.push(parts.join("/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Writes the version (a hash of the names and contents of every precached file) and the precache
/// list into `dist/sw.js`, so that any change to the build changes the service worker.
fn finish_service_worker(dist: &Path) -> Result<()> {
    use sha2::{Digest, Sha256};
    let sw = dist.join("sw.js");
    let template =
        std::fs::read_to_string(&sw).with_context(|| format!("reading {}", sw.display()))?;
    let files: Vec<String> = files_under(dist)?
        .into_iter()
        .filter(|f| precached(f))
        .collect();
    let mut hash = Sha256::new();
    for file in &files {
        hash.update(file.as_bytes());
        hash.update(std::fs::read(dist.join(file)).with_context(|| format!("reading {file}"))?);
    }
    let version: String = hash
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let urls: Vec<String> = files.iter().map(|f| format!("/{f}")).collect();
    let filled = template
        .replace("'__KINETISCOPE_VERSION__'", &format!("'{version}'"))
        .replace("__KINETISCOPE_PRECACHE__", &serde_json::to_string(&urls)?);
    if filled == template {
        anyhow::bail!(
            "{}: no placeholders to fill (already filled?)",
            sw.display()
        );
    }
    std::fs::write(&sw, filled).with_context(|| format!("writing {}", sw.display()))?;
    println!(
        "site: service worker version {version}, {} files precached",
        urls.len()
    );
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
