//! I3D (Inflated 3D ConvNet, Carreira & Zisserman 2017, <https://arxiv.org/abs/1705.07750>),
//! RGB stream trained on Kinetics-400.
//!
//! - [`arch`]: the architecture as data (layer table, TF `SAME` shape inference, FLOP count), shared
//!   by every executor.
//! - [`model`] / [`layers`] / [`kernels`]: the candle CPU executor (channels-last N×T×H×W×C).
//! - [`preprocess`]: RGB(A) frames → 1×T×224×224×3 in [−1, 1]; 25 fps frame sampling.
//! - [`postprocess`]: softmax and top-k with label names; [`cam`]: class activation maps.
//! - [`weights`]: tensors of the converted weights file as f32.
//! - [`parity`]: comparison with the reference outputs (logits, per-endpoint statistics), on bytes so
//!   it runs natively and in wasm.

pub mod arch;
pub mod cam;
mod error;
pub mod kernels;
pub mod layers;
pub mod model;
pub mod parity;
pub mod postprocess;
pub mod preprocess;
pub mod weights;

pub use error::Error;
pub use model::InceptionI3d;
