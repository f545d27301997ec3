//! `site::finish` over a temporary `dist/` laid out as trunk and wasm-bindgen write it, with the real scripts of
//! `www/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use base64::Engine as _;
use protocol::site::{MODEL_CACHE, PLACEHOLDER, RELAXED_DIR, THREADED_DIR, THREAD_ENTRY};
use sha2::{Digest, Sha256};

const INLINE: &str = "\nimport init from '/app-1234.js'; init('/app-1234_bg.wasm');\n";
const INDEX: &str = "<!doctype html>\n<html>\n  <head>\n    <meta charset=\"utf-8\" />\n    \
    <script type=\"module\">\nimport init from '/app-1234.js'; init('/app-1234_bg.wasm');\n</script>\n    \
    <script src=\"/other.js\"></script>\n  </head>\n</html>\n";

/// The workspace's `www/`.
fn www() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../www")
}

/// A `dist/` as the build leaves it before `site::finish`.
fn dist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |name: &str, contents: &[u8]| {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    };
    write("index.html", INDEX.as_bytes());
    write("app-1234.js", b"export default function init() {}");
    write("app-1234_bg.wasm", &[0, 97, 115, 109, 1, 0, 0, 0, 1, 2, 3]);
    write("data/k400.bin", b"classes");
    write("model/i3d.safetensors", b"weights");
    write("sw.js", &std::fs::read(www().join("sw.js")).unwrap());
    // Both threaded builds (plain and relaxed SIMD) with the same scripts from `www/worker-mt/`.
    for dir in [THREADED_DIR, RELAXED_DIR] {
        for script in ["loader.js", "thread.js"] {
            let source = www().join(THREADED_DIR).join(script);
            write(&format!("{dir}/{script}"), &std::fs::read(source).unwrap());
        }
        write(
            &format!("{dir}/worker.js"),
            format!("let wasm_bindgen; wasm_bindgen.{THREAD_ENTRY} = () => {{}};").as_bytes(),
        );
        write(
            &format!("{dir}/worker_bg.wasm"),
            &[0, 97, 115, 109, 1, 0, 0, 0],
        );
    }
    dir
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn every_script_gets_the_contract_and_the_service_worker_its_list() {
    let dist = dist();
    let finished = site::finish(dist.path()).unwrap();
    for script in site::SCRIPTS {
        let text = read(dist.path(), script);
        assert!(
            !text.contains("__KINETISCOPE"),
            "{script}: a placeholder is left"
        );
        assert!(
            text.contains(&format!("\"modelCache\":\"{MODEL_CACHE}\"")),
            "{script}"
        );
    }
    let sw = read(dist.path(), "sw.js");
    let list_start = sw.find("const PRECACHE = ").unwrap() + "const PRECACHE = ".len();
    let list_end = list_start + sw[list_start..].find(";\n").unwrap();
    let list: Vec<String> = serde_json::from_str(&sw[list_start..list_end]).unwrap();
    assert_eq!(
        list,
        [
            "/app-1234.js",
            "/app-1234_bg.wasm",
            "/data/k400.bin",
            "/index.html",
            "/worker-mt-relaxed/loader.js",
            "/worker-mt-relaxed/thread.js",
            "/worker-mt-relaxed/worker.js",
            "/worker-mt-relaxed/worker_bg.wasm",
            "/worker-mt/loader.js",
            "/worker-mt/thread.js",
            "/worker-mt/worker.js",
            "/worker-mt/worker_bg.wasm",
        ],
        "every file but the service worker and the weights"
    );
    assert_eq!(finished.precached, list.len());
    assert_eq!(finished.version.len(), 16);
    assert!(sw.contains(&format!("const VERSION = '{}';", finished.version)));
    assert_eq!(finished.app_wasm_bytes, 11);
    assert_eq!(finished.inline_scripts, 1);
}

/// The scripts a browser runs are valid JavaScript once filled (checked by node, which the tests need anyway).
#[test]
fn the_filled_scripts_parse() {
    let dist = dist();
    site::finish(dist.path()).unwrap();
    for script in site::SCRIPTS {
        let status = std::process::Command::new("node")
            .arg("--check")
            .arg(dist.path().join(script))
            .status()
            .expect("node runs (cargo xtask setup installs it)");
        assert!(status.success(), "{script} does not parse once filled");
    }
}

#[test]
fn the_policy_allows_exactly_the_inline_script() {
    let dist = dist();
    site::finish(dist.path()).unwrap();
    let html = read(dist.path(), "index.html");
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(INLINE.as_bytes()));
    let meta_start = html
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .unwrap();
    assert!(
        meta_start > html.find("<meta charset").unwrap(),
        "after the charset"
    );
    let meta = &html[meta_start..meta_start + html[meta_start..].find("/>").unwrap()];
    assert!(
        meta.contains(&format!(
            "script-src 'self' 'wasm-unsafe-eval' 'sha256-{hash}';"
        )),
        "{meta}"
    );
    assert!(meta.contains("object-src 'none'"));
    assert!(!meta.contains("{inline}"));
}

#[test]
fn the_version_follows_the_files() {
    let (a, b) = (dist(), dist());
    std::fs::write(b.path().join("data/k400.bin"), b"classes, changed").unwrap();
    let c = dist();
    let version = |dir: &tempfile::TempDir| site::finish(dir.path()).unwrap().version;
    let (a, b, c) = (version(&a), version(&b), version(&c));
    assert_ne!(a, b, "a changed file changes the version");
    assert_eq!(a, c, "the same build, the same version");
}

#[test]
fn a_site_is_finished_once() {
    let dist = dist();
    site::finish(dist.path()).unwrap();
    let error = site::finish(dist.path()).unwrap_err().to_string();
    assert!(
        error.contains("sw.js") && error.contains(PLACEHOLDER),
        "{error}"
    );
}

#[test]
fn a_script_that_restates_the_contract_or_an_incomplete_worker_is_refused() {
    let dist = dist();
    let loader = dist.path().join("worker-mt/loader.js");
    std::fs::write(&loader, "importScripts('./worker.js');").unwrap();
    let error = site::finish(dist.path()).unwrap_err().to_string();
    assert!(
        error.contains("loader.js") && error.contains("restates"),
        "{error}"
    );

    let dist = self::dist();
    let thread = dist.path().join("worker-mt/thread.js");
    std::fs::write(
        &thread,
        format!("const A = {PLACEHOLDER}; const B = {PLACEHOLDER};"),
    )
    .unwrap();
    let error = site::finish(dist.path()).unwrap_err().to_string();
    assert!(
        error.contains("thread.js") && error.contains("2 times"),
        "{error}"
    );

    let dist = self::dist();
    std::fs::remove_file(dist.path().join("worker-mt/worker_bg.wasm")).unwrap();
    let error = site::finish(dist.path()).unwrap_err().to_string();
    assert!(
        error.contains("worker_bg.wasm") && error.contains("missing"),
        "{error}"
    );

    let dist = self::dist();
    std::fs::write(dist.path().join("worker-mt/worker.js"), "let wasm_bindgen;").unwrap();
    let error = site::finish(dist.path()).unwrap_err().to_string();
    assert!(
        error.contains("worker.js") && error.contains(THREAD_ENTRY),
        "{error}"
    );
}
