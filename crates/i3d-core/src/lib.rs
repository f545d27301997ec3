//! I3D (Inflated 3D ConvNet, Carreira & Zisserman 2017, <https://arxiv.org/abs/1705.07750>), RGB
//! stream trained on Kinetics-400: everything about the network that is not an executor. No candle,
//! no wgpu: the web app and the worker's protocol depend on this crate alone.
//!
//! - [`arch`]: the architecture as data (layer table, TF `SAME` shape inference, FLOP and parameter
//!   counts), walked by every executor (`i3d-cpu`, `i3d-gpu`) and by `checkpoint`.
//! - [`anatomy`]: the layer table as a visitor reads it (shapes, parameters, FLOPs, receptive
//!   fields, Inception branches) for the `/inside` page and `kinetiscope bench`.
//! - [`plan`]: how an Inception block is executed (fused 1×1×1 columns, reduction scratch, branch
//!   offsets), the one wiring both executors follow.
//! - [`preprocess`]: RGB(A) frames → 1×T×224×224×3 in [−1, 1]; 25 fps frame timing.
//! - [`postprocess`]: softmax and the top-k; [`cam`]: class activation maps from the features
//!   ([`arch::FEATURE_LAYER`]).
//! - [`manifest`]: the weights manifest file format and the checks of the weights files.
//! - [`backend`]: the names of the backends and precisions, and the user's choices of them.
//! - [`weights`]: tensors of the converted weights file as f32.
//! - [`executor`]: the interface both executors implement (a checked [`executor::Clip`] in; logits,
//!   features, a layer's output, per-layer times out).
//! - `reference` (feature `testing`, for tests and benchmarks only, never in the shipped builds):
//!   direct reference kernels, error measures and the reference fixtures.

pub mod anatomy;
pub mod arch;
pub mod backend;
pub mod cam;
mod error;
pub mod executor;
pub mod manifest;
pub mod plan;
pub mod postprocess;
pub mod preprocess;
#[cfg(any(test, feature = "testing"))]
pub mod reference;
pub mod weights;

pub use backend::{Backend, BackendChoice, Precision, PrecisionChoice};
pub use error::Error;
