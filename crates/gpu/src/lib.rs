//! WebGPU executor for I3D (Carreira & Zisserman 2017, <https://arxiv.org/abs/1705.07750>).
//!
//! Runs the network described by [`i3d::arch::I3D_LAYERS`] with WGSL compute kernels on any wgpu
//! adapter (Vulkan/Metal/DX12 natively, WebGPU in the browser). Tensors are channels-last
//! N×T×H×W×C throughout.

mod error;
pub mod kernels;

pub use error::Error;
