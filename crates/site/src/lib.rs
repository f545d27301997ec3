//! What ships to visitors, apart from how it is built.
//!
//! `cargo xtask` builds the site with cargo, wasm-bindgen and trunk (which write `dist/`), then calls [`finish`],
//! which turns trunk's output into the deployable site:
//!
//! 1. the site contract ([`protocol::site`], as JSON from [`contract::values`]) over the placeholder of every
//!    script shipped from `www/` ([`SCRIPTS`]);
//! 2. the threaded worker checked in place (`dist/worker-mt/` and its relaxed-SIMD flavour `dist/worker-mt-relaxed/`:
//!    its loader, thread script, glue and module, and the export its threads call);
//! 3. the Content-Security-Policy as a meta tag of `index.html`, with the hash of each inline script ([`csp`]);
//! 4. the service worker's version and precache list ([`service_worker`]), last, since they cover every file.
//!
//! [`deploy`] adds what static hosts need to a copy of the site (`cargo xtask dist DIR`).
//!
//! The build's flags ([`flags`]) and the app's size budget ([`APP_WASM_BUDGET`]) are here too. Every step is tested
//! over a temporary `dist/` (`tests/finish.rs`).

pub mod contract;
pub mod csp;
pub mod deploy;
pub mod flags;
pub mod service_worker;

use std::path::{Path, PathBuf};

use protocol::site::{
    PLACEHOLDER, RELAXED_DIR, THREADED_DIR, THREADED_GLUE, THREADED_WASM, THREAD_ENTRY,
};

/// What can go wrong while finishing a site.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The build is not what trunk and wasm-bindgen should have written, or was finished already.
    #[error("{path}: {message}")]
    Build {
        /// The file (or folder) at fault.
        path: PathBuf,
        /// What is wrong, in words.
        message: String,
    },
}

impl Error {
    fn build(path: &Path, message: impl Into<String>) -> Self {
        Error::Build {
            path: path.to_owned(),
            message: message.into(),
        }
    }
}

/// Reads a text file of the build.
pub(crate) fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// Writes a file of the build.
pub(crate) fn write(path: &Path, contents: impl AsRef<[u8]>) -> Result<(), Error> {
    std::fs::write(path, contents).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// The scripts shipped from `www/` (paths relative to `dist/`) that read the site contract: each has the
/// placeholder [`protocol::site::PLACEHOLDER`] where the contract goes, exactly once.
pub const SCRIPTS: [&str; 5] = [
    "sw.js",
    "worker-mt/loader.js",
    "worker-mt/thread.js",
    "worker-mt-relaxed/loader.js",
    "worker-mt-relaxed/thread.js",
];

/// What the explorer's wasm may weigh, in bytes before compression: every visitor downloads it before seeing a
/// class list. `cargo xtask test` fails above it. It was 1,200,000 until `/train` (teaching the network one's own
/// actions: its page, the head file's reader and writer, the protocol's new answers) added 146 KB (1,197,448 →
/// 1,343,821 bytes after wasm-opt); the app has no way yet to load a page's code only when it is visited (trunk
/// builds one module), so the budget grew by what that page costs, with 6 KB of room. Isolation per route (the
/// check that memory can be shared with a worker, the reload into a classifier page) and the GPU's reasons behind a
/// disclosure took those 6 KB (1,350,507 bytes); 6 KB of room again.
pub const APP_WASM_BUDGET: u64 = 1_356_000;

/// What [`finish`] did, for the build's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The service worker's version (a hash of every precached file).
    pub version: String,
    /// Files the service worker precaches.
    pub precached: usize,
    /// Inline scripts whose hash the Content-Security-Policy allows.
    pub inline_scripts: usize,
    /// The app's wasm, bytes.
    pub app_wasm_bytes: u64,
}

/// Finishes trunk's `dist` into the deployable site (see the crate docs), in place. Fails, naming the file, when a
/// script lacks its placeholder (an edited `www/` file, or a site finished already), when the threaded worker is
/// incomplete, or when `index.html` has no place for the policy.
pub fn finish(dist: &Path) -> Result<Finished, Error> {
    fill_contract(dist)?;
    check_threaded_worker(dist, THREADED_DIR)?;
    check_threaded_worker(dist, RELAXED_DIR)?;
    let inline_scripts = csp::add_to_index(dist)?;
    let (version, precached) = service_worker::finish(dist)?;
    Ok(Finished {
        version,
        precached,
        inline_scripts,
        app_wasm_bytes: app_wasm_bytes(dist)?,
    })
}

/// Writes [`contract::values`] over the placeholder of each of [`SCRIPTS`].
fn fill_contract(dist: &Path) -> Result<(), Error> {
    let values = contract::values().to_string();
    for script in SCRIPTS {
        let path = dist.join(script);
        let text = read(&path)?;
        match text.matches(PLACEHOLDER).count() {
            1 => write(&path, text.replace(PLACEHOLDER, &values))?,
            0 => {
                return Err(Error::build(
                    &path,
                    format!("no {PLACEHOLDER} to fill (finished already, or the script restates the contract)"),
                ))
            }
            n => {
                return Err(Error::build(
                    &path,
                    format!("{PLACEHOLDER} {n} times: read it once, into one constant"),
                ))
            }
        }
    }
    Ok(())
}

/// Checks that a threaded worker build is complete in `dist/<folder>/` (`worker-mt/` or its relaxed-SIMD flavour's):
/// its glue and module (wasm-bindgen's output), and that the glue exports the function its threads call
/// ([`THREAD_ENTRY`]).
fn check_threaded_worker(dist: &Path, folder: &str) -> Result<(), Error> {
    let dir = dist.join(folder);
    let wasm = dir.join(THREADED_WASM);
    if !wasm.is_file() {
        return Err(Error::build(
            &wasm,
            "missing: the threaded worker was not built",
        ));
    }
    let glue = dir.join(THREADED_GLUE);
    if !read(&glue)?.contains(THREAD_ENTRY) {
        return Err(Error::build(
            &glue,
            format!("exports no {THREAD_ENTRY}, which the thread script calls"),
        ));
    }
    Ok(())
}

/// The size in bytes of the app's wasm in `dist` (`app-<hash>_bg.wasm`, trunk's name).
pub fn app_wasm_bytes(dist: &Path) -> Result<u64, Error> {
    let io = |source| Error::Io {
        path: dist.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dist).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("app-") && name.ends_with("_bg.wasm") {
            return Ok(entry.metadata().map_err(io)?.len());
        }
    }
    Err(Error::build(
        dist,
        "no app-*_bg.wasm: trunk did not build the app",
    ))
}

/// Every file under `dir`, as `/`-separated paths relative to it, sorted.
pub(crate) fn files_under(dir: &Path) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let io = |source| Error::Io {
            path: current.clone(),
            source,
        };
        for entry in std::fs::read_dir(&current).map_err(io)? {
            let path = entry.map_err(io)?.path();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The scripts of each threaded build are its loader and thread script, in its own folder.
    #[test]
    fn both_threaded_builds_have_their_scripts_filled() {
        for dir in [THREADED_DIR, RELAXED_DIR] {
            for script in ["loader.js", protocol::site::THREAD_SCRIPT] {
                let path = format!("{dir}/{script}");
                assert!(SCRIPTS.contains(&path.as_str()), "{path}");
            }
        }
    }
}
