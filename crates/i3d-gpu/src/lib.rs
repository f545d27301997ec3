//! WebGPU executor for I3D (Carreira & Zisserman 2017, <https://arxiv.org/abs/1705.07750>).
//!
//! Runs the network described by [`i3d_core::arch::I3D_LAYERS`] (Inception blocks as
//! [`i3d_core::plan::InceptionPlan`] says) with WGSL compute kernels on any wgpu
//! adapter (Vulkan/Metal/DX12 natively, WebGPU in the browser). Tensors are channels-last
//! N×T×H×W×C throughout; input 1×T×224×224×3 in [−1, 1], output 400 logits.
//!
//! - [`kernels`]: the WGSL kernels (implicit-GEMM conv3d, SAME max-pool, VALID avg-pool, logits,
//!   a plain GEMM for comparison), their variants (f32/f16 storage, scalar/4-vector) and parameters.
//! - [`context`]: device, limits, features, pipeline cache, limit-checked buffers, async readback.
//! - [`ops`]: one recorded dispatch per kernel; [`weights`]: the weights on the device.
//! - [`model`]: [`GpuI3d`], a per-clip-length plan run as one submission; it implements the
//!   executors' one interface, [`i3d_core::executor::Executor`] ([`executor`]: per-layer times
//!   from the dispatches the plan attributed to each [`i3d_core::arch::LayerId`]).
//! - `bench` (feature `bench`, for the CLI, examples and tests only): the plain-GEMM yardstick for
//!   the conv kernel's throughput.
//!
//! Everything that waits on the device is `async` (the browser cannot block); natively,
//! `*_blocking` wrappers drive the futures with `pollster`.

#[cfg(feature = "bench")]
pub mod bench;
pub mod context;
mod error;
pub mod executor;
pub mod kernels;
pub mod model;
pub mod ops;
pub mod weights;

pub use context::GpuContext;
pub use error::Error;
pub use kernels::Precision;
pub use model::{GpuI3d, KernelTime, Output, RunOptions};
