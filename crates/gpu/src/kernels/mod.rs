//! The WGSL kernels, their variants and their parameter blocks.
//!
//! Each kernel is one file in this folder. A module is built as: a variant prelude (generated
//! here: `enable f16;` when needed, the storage scalar `S`, the activation vector `SV` and its
//! width `VW`, and conversions to and from f32), then `common.wgsl`, then the kernel. Only these
//! compile-time knobs vary; shapes go in a uniform parameter block (the `*Params` structs below,
//! mirrored field by field in the WGSL), so there is one pipeline per [`KernelId`], not per shape.

use bytemuck::{Pod, Zeroable};

/// Shared declarations prepended to every kernel.
pub const COMMON: &str = include_str!("common.wgsl");

/// Storage precision of activations and weights (arithmetic is always f32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Precision {
    /// 32-bit floats.
    F32,
    /// 16-bit floats (needs the `shader-f16` feature), f32 accumulation.
    F16,
}

impl Precision {
    /// Bytes per stored value.
    pub const fn bytes(self) -> u64 {
        match self {
            Precision::F32 => 4,
            Precision::F16 => 2,
        }
    }

    /// The WGSL scalar type.
    pub const fn wgsl(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.wgsl())
    }
}

/// The kernels, one WGSL file each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// `conv3d.wgsl`: implicit-GEMM 3-D convolution, bias, ReLU, split epilogue.
    Conv3d,
    /// `maxpool3d.wgsl`: TF SAME max-pooling.
    MaxPool3d,
    /// `avgpool3d.wgsl`: VALID average pooling, stride 1, f32 output.
    AvgPool3d,
    /// `logits.wgsl`: 1×1×1 conv with bias averaged over positions.
    Logits,
    /// `gemm.wgsl`: a plain tiled GEMM, the conv kernel's yardstick.
    Gemm,
}

impl Kernel {
    /// Every kernel.
    pub const ALL: [Kernel; 5] = [
        Kernel::Conv3d,
        Kernel::MaxPool3d,
        Kernel::AvgPool3d,
        Kernel::Logits,
        Kernel::Gemm,
    ];

    /// File stem.
    pub const fn name(self) -> &'static str {
        match self {
            Kernel::Conv3d => "conv3d",
            Kernel::MaxPool3d => "maxpool3d",
            Kernel::AvgPool3d => "avgpool3d",
            Kernel::Logits => "logits",
            Kernel::Gemm => "gemm",
        }
    }

    /// The kernel's WGSL (without prelude and `common.wgsl`).
    pub const fn source(self) -> &'static str {
        match self {
            Kernel::Conv3d => include_str!("conv3d.wgsl"),
            Kernel::MaxPool3d => include_str!("maxpool3d.wgsl"),
            Kernel::AvgPool3d => include_str!("avgpool3d.wgsl"),
            Kernel::Logits => include_str!("logits.wgsl"),
            Kernel::Gemm => include_str!("gemm.wgsl"),
        }
    }

    /// Activation vector widths the kernel is built with (kernels that do not use `SV` only 1).
    pub const fn widths(self) -> &'static [u32] {
        match self {
            Kernel::Conv3d | Kernel::MaxPool3d | Kernel::AvgPool3d => &[1, 4],
            Kernel::Logits | Kernel::Gemm => &[1],
        }
    }

    /// Size in bytes of the kernel's parameter block.
    pub const fn params_size(self) -> usize {
        match self {
            Kernel::Conv3d => size_of::<ConvParams>(),
            Kernel::MaxPool3d => size_of::<PoolParams>(),
            Kernel::AvgPool3d => size_of::<AvgParams>(),
            Kernel::Logits => size_of::<LogitsParams>(),
            Kernel::Gemm => size_of::<GemmParams>(),
        }
    }

    /// Name of the parameter struct in the WGSL.
    pub const fn params_struct(self) -> &'static str {
        match self {
            Kernel::Conv3d => "ConvParams",
            Kernel::MaxPool3d => "PoolParams",
            Kernel::AvgPool3d => "AvgParams",
            Kernel::Logits => "LogitsParams",
            Kernel::Gemm => "GemmParams",
        }
    }
}

/// One compiled variant: the pipeline-cache key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KernelId {
    /// Which kernel.
    pub kernel: Kernel,
    /// Storage precision.
    pub precision: Precision,
    /// Activation vector width `VW` (1 or 4).
    pub width: u32,
}

impl KernelId {
    /// Every variant of every kernel, for both precisions.
    pub fn all() -> Vec<KernelId> {
        let mut ids = Vec::new();
        for kernel in Kernel::ALL {
            for precision in [Precision::F32, Precision::F16] {
                for &width in kernel.widths() {
                    ids.push(KernelId {
                        kernel,
                        precision,
                        width,
                    });
                }
            }
        }
        ids
    }

    /// A label such as `conv3d.f16.vec4`.
    pub fn label(&self) -> String {
        let width = if self.width == 4 { "vec4" } else { "scalar" };
        format!("{}.{}.{width}", self.kernel.name(), self.precision)
    }

    /// The variant prelude: precision and vector-width aliases and conversions.
    pub fn prelude(&self) -> String {
        let s = self.precision.wgsl();
        let mut out = String::new();
        if self.precision == Precision::F16 {
            out.push_str("enable f16;\n");
        }
        out.push_str(&format!("alias S = {s};\n"));
        if self.width == 4 {
            out.push_str(
                "alias SV = vec4<S>;\nconst VW: u32 = 4u;\n\
                 fn to_f4(v: SV) -> vec4<f32> { return vec4<f32>(v); }\n\
                 fn from_f4(v: vec4<f32>) -> SV { return SV(v); }\n\
                 fn from_f1(v: f32) -> SV { return SV(S(v)); }\n",
            );
        } else {
            out.push_str(
                "alias SV = S;\nconst VW: u32 = 1u;\n\
                 fn to_f4(v: SV) -> vec4<f32> { return vec4<f32>(f32(v)); }\n\
                 fn from_f4(v: vec4<f32>) -> SV { return S(v.x); }\n\
                 fn from_f1(v: f32) -> SV { return S(v); }\n",
            );
        }
        out
    }

    /// The complete WGSL module: prelude + `common.wgsl` + the kernel.
    pub fn source(&self) -> String {
        format!("{}\n{COMMON}\n{}", self.prelude(), self.kernel.source())
    }
}

/// Parameters of `conv3d.wgsl` (mirrors `ConvParams`). Sizes in elements, not vectors.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct ConvParams {
    /// Input extent (t, h, w).
    pub in_t: u32,
    /// Input height.
    pub in_h: u32,
    /// Input width.
    pub in_w: u32,
    /// Input channels read (per tap).
    pub cin: u32,
    /// Elements per input position (the input tensor's channels).
    pub in_cstride: u32,
    /// First input channel read.
    pub in_coffset: u32,
    /// Output extent (t, h, w).
    pub out_t: u32,
    /// Output height.
    pub out_h: u32,
    /// Output width.
    pub out_w: u32,
    /// GEMM rows: output positions N·To·Ho·Wo.
    pub m: u32,
    /// GEMM columns: output channels.
    pub n: u32,
    /// GEMM depth: kt·kh·kw·cin.
    pub k: u32,
    /// Columns of the padded weight (and entries of the bias).
    pub n_pad: u32,
    /// Kernel t.
    pub kt: u32,
    /// Kernel h.
    pub kh: u32,
    /// Kernel w.
    pub kw: u32,
    /// Stride t.
    pub st: u32,
    /// Stride h.
    pub sh: u32,
    /// Stride w.
    pub sw: u32,
    /// SAME padding before, t.
    pub pt: u32,
    /// SAME padding before, h.
    pub ph: u32,
    /// SAME padding before, w.
    pub pw: u32,
    /// 1: ReLU after the bias.
    pub relu: u32,
    /// Columns below go to `dst0`, the others to `dst1`.
    pub split: u32,
    /// Elements per position of `dst0`.
    pub out0_stride: u32,
    /// First channel written in `dst0`.
    pub out0_offset: u32,
    /// Elements per position of `dst1`.
    pub out1_stride: u32,
    /// First channel written in `dst1`.
    pub out1_offset: u32,
    /// Number of 64-row tiles: ⌈m / 64⌉.
    pub m_tiles: u32,
    /// Padding to 16 bytes.
    pub _pad: [u32; 3],
}

/// Parameters of `maxpool3d.wgsl` (mirrors `PoolParams`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct PoolParams {
    /// Input t.
    pub in_t: u32,
    /// Input h.
    pub in_h: u32,
    /// Input w.
    pub in_w: u32,
    /// Channels.
    pub c: u32,
    /// Output t.
    pub out_t: u32,
    /// Output h.
    pub out_h: u32,
    /// Output w.
    pub out_w: u32,
    /// Threads: output positions × channel vectors.
    pub total: u32,
    /// Window t.
    pub kt: u32,
    /// Window h.
    pub kh: u32,
    /// Window w.
    pub kw: u32,
    /// Padding.
    pub _pad0: u32,
    /// Stride t.
    pub st: u32,
    /// Stride h.
    pub sh: u32,
    /// Stride w.
    pub sw: u32,
    /// Padding.
    pub _pad1: u32,
    /// SAME padding before, t.
    pub pt: u32,
    /// SAME padding before, h.
    pub ph: u32,
    /// SAME padding before, w.
    pub pw: u32,
    /// Padding.
    pub _pad2: u32,
}

/// Parameters of `avgpool3d.wgsl` (mirrors `AvgParams`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct AvgParams {
    /// Input t.
    pub in_t: u32,
    /// Input h.
    pub in_h: u32,
    /// Input w.
    pub in_w: u32,
    /// Channels.
    pub c: u32,
    /// Output t.
    pub out_t: u32,
    /// Output h.
    pub out_h: u32,
    /// Output w.
    pub out_w: u32,
    /// Threads: output positions × channel vectors.
    pub total: u32,
    /// Window t.
    pub kt: u32,
    /// Window h.
    pub kh: u32,
    /// Window w.
    pub kw: u32,
    /// Padding.
    pub _pad0: u32,
}

/// Parameters of `logits.wgsl` (mirrors `LogitsParams`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct LogitsParams {
    /// Batch N.
    pub batch: u32,
    /// Positions averaged P.
    pub positions: u32,
    /// Input channels C.
    pub c: u32,
    /// Classes.
    pub classes: u32,
    /// Columns of the padded weight.
    pub n_pad: u32,
    /// Padding.
    pub _pad: [u32; 3],
}

/// Parameters of `gemm.wgsl` (mirrors `GemmParams`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct GemmParams {
    /// Rows of A and C.
    pub m: u32,
    /// Columns of C.
    pub n: u32,
    /// Columns of A, rows of B.
    pub k: u32,
    /// Columns of the padded B.
    pub n_pad: u32,
    /// ⌈m / 64⌉.
    pub m_tiles: u32,
    /// Padding.
    pub _pad: [u32; 3],
}

/// Output tile rows of `conv3d.wgsl` and `gemm.wgsl` (BM).
pub const TILE_M: u32 = 64;
/// Output tile columns (BN): weights are padded to a multiple of this many columns.
pub const TILE_N: u32 = 64;
/// K slice (BK): weights are padded to a multiple of this many rows.
pub const TILE_K: u32 = 16;
/// Threads per workgroup of the conv and GEMM kernels (each computes an 8×8 block of the tile).
pub const GEMM_WORKGROUP_SIZE: u32 = 64;
/// Threads per workgroup of the pool kernels.
pub const WORKGROUP_SIZE: u32 = 256;
/// Threads per workgroup of the logits kernel.
pub const LOGITS_WORKGROUP_SIZE: u32 = 64;
/// Workgroup memory of the conv and GEMM kernels: two 16×64 f32 slices (`tile_a`, `tile_b`).
pub const WORKGROUP_STORAGE_BYTES: u32 = 2 * 16 * 64 * 4;

// WebGPU guarantees 16 KiB of workgroup storage (maxComputeWorkgroupStorageSize).
const _: () = assert!(WORKGROUP_STORAGE_BYTES <= 16384);

#[cfg(test)]
mod tests;
