//! The candle executor of I3D (Inflated 3D ConvNet, Carreira & Zisserman 2017,
//! <https://arxiv.org/abs/1705.07750>) on the CPU, natively and in WebAssembly.
//!
//! The network is built by walking [`i3d_core::arch::I3D_LAYERS`]; Inception blocks follow
//! [`i3d_core::plan::InceptionPlan`]. Tensors are f32, channels-last N×T×H×W×C.
//!
//! - [`model`]: [`InceptionI3d`], the network on candle tensors (logits, features, every endpoint);
//!   it implements the executors' one interface, [`i3d_core::executor::Executor`], on slices.
//! - [`layers`]: the layers as candle modules; [`kernels`]: their conv3d/pool kernels (im2col
//!   chunks on `gemm`, threads from rayon's pool).

mod error;
mod executor;
pub mod kernels;
pub mod layers;
pub mod model;

pub use error::Error;
pub use model::InceptionI3d;

/// The clip `input` (1×T×224×224×3 f32, as [`i3d_core::preprocess::Preprocessor::clip`] makes it) as a
/// candle tensor on the CPU.
pub fn clip_tensor(input: Vec<f32>, frames: usize) -> Result<candle_core::Tensor, Error> {
    let shape = i3d_core::arch::Shape::clip(frames);
    if input.len() != shape.elements() {
        return Err(i3d_core::Error::InputShape {
            got: vec![input.len()],
        }
        .into());
    }
    Ok(candle_core::Tensor::from_vec(
        input,
        shape.dims().to_vec(),
        &candle_core::Device::Cpu,
    )?)
}
