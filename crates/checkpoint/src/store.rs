//! Writing folded layers as safetensors and the manifest ([`i3d_core::manifest`] defines its format).
//!
//! The safetensors header is written here rather than with `safetensors::serialize`: that function
//! takes the `__metadata__` as a `std::collections::HashMap`, whose iteration order is random per
//! process, so the header bytes (and the SHA-256 the manifest pins) would differ from run to run.
//! Here keys are sorted, so the same checkpoint always gives byte-identical files. The files are
//! read back with the `safetensors` crate in the tests.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use i3d_core::manifest::{
    file_name, sha256_hex, verify_dir, FileEntry, Manifest, Source, FORMAT_VERSION, MANIFEST_FILE,
};
use i3d_core::Precision;
use serde::Serialize;

use crate::fold::{ConvLayer, NUM_CLASSES};
use crate::Error;

/// `format` entry of the safetensors metadata.
pub const FORMAT_NAME: &str = "kinetiscope-i3d";
/// `labels` entry of the safetensors metadata.
pub const LABEL_SET: &str = "kinetics-400";

/// The safetensors dtype name (`"F32"` / `"F16"`).
fn safetensors_name(precision: Precision) -> &'static str {
    match precision {
        Precision::F32 => "F32",
        Precision::F16 => "F16",
    }
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
pub fn encode_safetensors(layers: &[ConvLayer], dtype: Precision) -> Result<Vec<u8>, Error> {
    let mut tensors = BTreeMap::new();
    for layer in layers {
        tensors.insert(format!("{}.weight", layer.name), &layer.weight);
        tensors.insert(format!("{}.bias", layer.name), &layer.bias);
    }
    let elem = dtype.bytes() as usize;
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
                dtype: safetensors_name(dtype),
                shape: &array.shape,
                data_offsets: [offset, end],
            },
        );
        offset = end;
    }
    let mut header = serde_json::to_vec(&header).map_err(|source| Error::Json {
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
            Precision::F32 => {
                for v in &array.data {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
            Precision::F16 => {
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
    for dtype in [Precision::F32, Precision::F16] {
        let bytes = encode_safetensors(layers, dtype)?;
        write_atomic(&dir.join(file_name(dtype)), &bytes)?;
        files.push(FileEntry {
            name: file_name(dtype).to_string(),
            dtype,
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
    let mut json = serde_json::to_vec_pretty(&manifest).map_err(|source| Error::Json {
        file: MANIFEST_FILE.into(),
        source,
    })?;
    json.push(b'\n');
    write_atomic(&dir.join(MANIFEST_FILE), &json)?;
    Ok(manifest)
}

/// Checks every file the manifest in `dir` lists (size, then SHA-256, streaming); returns the
/// manifest. Errors say which file is missing, truncated, oversized or altered, and how to fix it.
#[cfg(not(target_arch = "wasm32"))]
pub fn verify(dir: &Path) -> Result<Manifest, Error> {
    Ok(verify_dir(dir)?)
}
