//! The WGSL kernels, their variants and their parameter blocks.
//!
//! Each kernel is one file in this folder and one type implementing [`WgslKernel`] ([`Conv3d`],
//! [`MaxPool3d`], [`AvgPool3d`], [`Logits`], [`Gemm`]): the WGSL source, the Rust mirror of its
//! uniform parameter block (`*Params` below, field for field the WGSL struct), its workgroup size
//! and its bindings live together in that `impl`. A module is built as: a variant prelude
//! (generated here: `enable f16;` when needed, the storage scalar `S`, the activation vector `SV`
//! and its width `VW`, and conversions to and from f32), then `common.wgsl`, then the kernel. Only
//! these compile-time knobs vary; shapes go in the parameter block, so there is one pipeline per
//! [`KernelId`] (kernel, precision, width), not per shape.

use bytemuck::{Pod, Zeroable};
use i3d_core::arch::same_name;

/// Shared declarations prepended to every kernel.
pub const COMMON: &str = include_str!("common.wgsl");

/// Storage precision of activations and weights (arithmetic is always f32); its name is the WGSL scalar type.
pub use i3d_core::Precision;

/// A WGSL kernel: one file of this folder together with everything the host must agree on with
/// it — the Rust mirror of its uniform parameter block, its workgroup size, its storage bindings
/// and the vector widths it is built with. Implemented by the zero-sized types [`Conv3d`],
/// [`MaxPool3d`], [`AvgPool3d`], [`Logits`] and [`Gemm`]; [`Kernel::of`] turns one into the value
/// that keys the pipeline cache ([`KernelId`]).
///
/// `kernels/tests.rs` checks every implementation against its WGSL with naga: the parameter
/// struct's size, the bindings' names and order, and the workgroup size.
pub trait WgslKernel {
    /// File stem (`conv3d`, …); the kernel's identity in [`Kernel`] and [`KernelId`].
    const NAME: &'static str;
    /// The kernel's WGSL (without the variant prelude and `common.wgsl`).
    const SOURCE: &'static str;
    /// Activation vector widths `VW` the kernel is built with (1 only for kernels without `SV`).
    const WIDTHS: &'static [u32];
    /// Threads per workgroup along x (y = z = 1), as in the WGSL's `@workgroup_size`.
    const WORKGROUP_SIZE: u32;
    /// The WGSL names of the storage buffers at bindings 1, 2, … of group 0, in binding order
    /// (binding 0 is the parameter block).
    const BINDINGS: &'static [&'static str];
    /// The uniform parameter block (binding 0), field for field the WGSL struct
    /// [`WgslKernel::PARAMS_STRUCT`], 16-byte aligned.
    type Params: Pod;
    /// Name of the parameter struct in the WGSL.
    const PARAMS_STRUCT: &'static str;
}

/// `conv3d.wgsl`: implicit-GEMM 3-D convolution, bias, ReLU, split epilogue. One workgroup per
/// 64×64 output tile (64 threads, each an 8×8 block); input N×T×H×W×C channel slice, outputs
/// N×To×Ho×Wo channel slices of `dst0` (columns below `split`) and `dst1`.
#[derive(Debug, Clone, Copy)]
pub struct Conv3d;

impl WgslKernel for Conv3d {
    const NAME: &'static str = "conv3d";
    const SOURCE: &'static str = include_str!("conv3d.wgsl");
    const WIDTHS: &'static [u32] = &[1, 4];
    const WORKGROUP_SIZE: u32 = GEMM_WORKGROUP_SIZE;
    const BINDINGS: &'static [&'static str] = &["src", "weight", "bias", "dst0", "dst1"];
    type Params = ConvParams;
    const PARAMS_STRUCT: &'static str = "ConvParams";
}

/// `maxpool3d.wgsl`: TF SAME max-pooling (padding is −∞), one thread per output position and
/// channel vector; dense N×T×H×W×C in, dense N×To×Ho×Wo×C out, both in the storage precision.
#[derive(Debug, Clone, Copy)]
pub struct MaxPool3d;

impl WgslKernel for MaxPool3d {
    const NAME: &'static str = "maxpool3d";
    const SOURCE: &'static str = include_str!("maxpool3d.wgsl");
    const WIDTHS: &'static [u32] = &[1, 4];
    const WORKGROUP_SIZE: u32 = POOL_WORKGROUP_SIZE;
    const BINDINGS: &'static [&'static str] = &["src", "dst"];
    type Params = PoolParams;
    const PARAMS_STRUCT: &'static str = "PoolParams";
}

/// `avgpool3d.wgsl`: VALID average pooling with stride 1, one thread per output position and
/// channel vector; dense N×T×H×W×C in the storage precision in, dense
/// N×(T−kt+1)×(H−kh+1)×(W−kw+1)×C f32 out.
#[derive(Debug, Clone, Copy)]
pub struct AvgPool3d;

impl WgslKernel for AvgPool3d {
    const NAME: &'static str = "avgpool3d";
    const SOURCE: &'static str = include_str!("avgpool3d.wgsl");
    const WIDTHS: &'static [u32] = &[1, 4];
    const WORKGROUP_SIZE: u32 = POOL_WORKGROUP_SIZE;
    const BINDINGS: &'static [&'static str] = &["src", "dst"];
    type Params = PoolParams;
    const PARAMS_STRUCT: &'static str = "PoolParams";
}

/// `logits.wgsl`: the classifier, a 1×1×1 conv with bias averaged over positions; N×P×C f32 in,
/// N×classes f32 out, one thread per (class, batch).
#[derive(Debug, Clone, Copy)]
pub struct Logits;

impl WgslKernel for Logits {
    const NAME: &'static str = "logits";
    const SOURCE: &'static str = include_str!("logits.wgsl");
    const WIDTHS: &'static [u32] = &[1];
    const WORKGROUP_SIZE: u32 = 64;
    const BINDINGS: &'static [&'static str] = &["x", "weight", "bias", "logits"];
    type Params = LogitsParams;
    const PARAMS_STRUCT: &'static str = "LogitsParams";
}

/// `gemm.wgsl`: a plain tiled GEMM C[M, N] = A[M, K]·B[K, N], the conv kernel's yardstick (same
/// tiles as [`Conv3d`], dense operands).
#[derive(Debug, Clone, Copy)]
pub struct Gemm;

impl WgslKernel for Gemm {
    const NAME: &'static str = "gemm";
    const SOURCE: &'static str = include_str!("gemm.wgsl");
    const WIDTHS: &'static [u32] = &[1];
    const WORKGROUP_SIZE: u32 = GEMM_WORKGROUP_SIZE;
    const BINDINGS: &'static [&'static str] = &["a", "b", "c"];
    type Params = GemmParams;
    const PARAMS_STRUCT: &'static str = "GemmParams";
}

/// A [`WgslKernel`] as a value: its constants, read from the type by [`Kernel::of`]. Equal and
/// hashed by name, printed as its name.
#[derive(Clone, Copy)]
pub struct Kernel {
    name: &'static str,
    source: &'static str,
    widths: &'static [u32],
    workgroup_size: u32,
    bindings: &'static [&'static str],
    params_struct: &'static str,
    params_size: usize,
}

impl Kernel {
    /// Every kernel: the registry the naga, alignment and workgroup checks walk. A [`WgslKernel`]
    /// missing from it cannot be used: [`Kernel::of`] (the only way to a [`KernelId`], hence to a
    /// pipeline) refuses it when compiled.
    pub const ALL: [Kernel; 5] = [
        Kernel::register::<Conv3d>(),
        Kernel::register::<MaxPool3d>(),
        Kernel::register::<AvgPool3d>(),
        Kernel::register::<Logits>(),
        Kernel::register::<Gemm>(),
    ];

    /// The kernel `K`, which must be in [`Kernel::ALL`]: using a kernel left out of the registry
    /// (hence out of its checks) fails to build (the constant is evaluated when `of::<K>` is
    /// instantiated, so `cargo build` and `cargo test` refuse it; `cargo check` does not look).
    pub const fn of<K: WgslKernel>() -> Self {
        const {
            assert!(
                Kernel::is_registered::<K>(),
                "a WgslKernel must be listed in Kernel::ALL, where its checks find it"
            )
        };
        Kernel::register::<K>()
    }

    /// Whether `K` is in [`Kernel::ALL`] (by name, the kernel's identity).
    pub const fn is_registered<K: WgslKernel>() -> bool {
        let mut i = 0;
        while i < Kernel::ALL.len() {
            if same_name(Kernel::ALL[i].name, K::NAME) {
                return true;
            }
            i += 1;
        }
        false
    }

    /// The value of `K`, unchecked: for [`Kernel::ALL`] itself.
    const fn register<K: WgslKernel>() -> Self {
        Kernel {
            name: K::NAME,
            source: K::SOURCE,
            widths: K::WIDTHS,
            workgroup_size: K::WORKGROUP_SIZE,
            bindings: K::BINDINGS,
            params_struct: K::PARAMS_STRUCT,
            params_size: size_of::<K::Params>(),
        }
    }

    /// This kernel's variant with this storage precision and vector width.
    pub const fn id(self, precision: Precision, width: u32) -> KernelId {
        KernelId {
            kernel: self,
            precision,
            width,
        }
    }

    /// Whether this is the kernel `K`.
    pub fn is<K: WgslKernel>(&self) -> bool {
        self.name == K::NAME
    }

    /// File stem ([`WgslKernel::NAME`]).
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The kernel's WGSL, without prelude and `common.wgsl` ([`WgslKernel::SOURCE`]).
    pub const fn source(&self) -> &'static str {
        self.source
    }

    /// Activation vector widths the kernel is built with ([`WgslKernel::WIDTHS`]).
    pub const fn widths(&self) -> &'static [u32] {
        self.widths
    }

    /// Threads per workgroup ([`WgslKernel::WORKGROUP_SIZE`]).
    pub const fn workgroup_size(&self) -> u32 {
        self.workgroup_size
    }

    /// WGSL names of the storage bindings 1, 2, … ([`WgslKernel::BINDINGS`]).
    pub const fn bindings(&self) -> &'static [&'static str] {
        self.bindings
    }

    /// Name of the parameter struct in the WGSL ([`WgslKernel::PARAMS_STRUCT`]).
    pub const fn params_struct(&self) -> &'static str {
        self.params_struct
    }

    /// Size in bytes of the parameter block ([`WgslKernel::Params`]).
    pub const fn params_size(&self) -> usize {
        self.params_size
    }
}

impl PartialEq for Kernel {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Kernel {}

impl std::hash::Hash for Kernel {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl std::fmt::Display for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// One compiled variant: the pipeline-cache key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KernelId {
    /// Which kernel.
    pub kernel: Kernel,
    /// Storage precision.
    pub precision: Precision,
    /// Activation vector width `VW` (1 or 4; one of the kernel's [`Kernel::widths`]).
    pub width: u32,
}

impl KernelId {
    /// The variant of kernel `K` with this storage precision and vector width.
    pub const fn of<K: WgslKernel>(precision: Precision, width: u32) -> Self {
        Kernel::of::<K>().id(precision, width)
    }

    /// Every variant of every kernel, for both precisions (what a pipeline precompilation or a
    /// shader test walks).
    pub fn all() -> Vec<KernelId> {
        let mut ids = Vec::new();
        for kernel in Kernel::ALL {
            for precision in [Precision::F32, Precision::F16] {
                for &width in kernel.widths() {
                    ids.push(kernel.id(precision, width));
                }
            }
        }
        ids
    }

    /// Whether the kernel is built with this vector width.
    pub fn is_built(&self) -> bool {
        self.kernel.widths().contains(&self.width)
    }

    /// A label such as `conv3d.f16.vec4`.
    pub fn label(&self) -> String {
        let width = if self.width == 4 { "vec4" } else { "scalar" };
        format!("{}.{}.{width}", self.kernel.name(), self.precision)
    }

    /// The variant prelude: precision and vector-width aliases and conversions.
    pub fn prelude(&self) -> String {
        let s = self.precision.as_str();
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

/// Parameters of both pool kernels, [`MaxPool3d`] and [`AvgPool3d`] (mirrors `PoolParams` of
/// `common.wgsl`, which both read). Extents in positions, `c` in
/// elements. The average pool is VALID with stride 1: it reads neither the stride nor the padding,
/// which `ops::avgpool3d` sets to 1 and 0.
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
/// Threads per workgroup of [`Conv3d`] and [`Gemm`] (each computes an 8×8 block of the tile).
pub const GEMM_WORKGROUP_SIZE: u32 = 64;
/// Threads per workgroup of the pool kernels, [`MaxPool3d`] and [`AvgPool3d`].
pub const POOL_WORKGROUP_SIZE: u32 = 256;
/// The largest workgroup of any kernel (threads): what an adapter's
/// `maxComputeInvocationsPerWorkgroup` and `maxComputeWorkgroupSizeX` must allow.
pub const MAX_WORKGROUP_SIZE: u32 = {
    let mut max = 0;
    let mut i = 0;
    while i < Kernel::ALL.len() {
        if Kernel::ALL[i].workgroup_size() > max {
            max = Kernel::ALL[i].workgroup_size();
        }
        i += 1;
    }
    max
};
/// Workgroup memory of the conv and GEMM kernels: two 16×64 f32 slices (`tile_a`, `tile_b`).
pub const WORKGROUP_STORAGE_BYTES: u32 = 2 * 16 * 64 * 4;

// Uniform parameter blocks are read as whole 16-byte rows; a kernel's name is its identity, so
// no two kernels of the registry share one.
const _: () = {
    let mut i = 0;
    while i < Kernel::ALL.len() {
        assert!(Kernel::ALL[i].params_size().is_multiple_of(16));
        let mut j = i + 1;
        while j < Kernel::ALL.len() {
            assert!(!same_name(Kernel::ALL[i].name, Kernel::ALL[j].name));
            j += 1;
        }
        i += 1;
    }
};

// WebGPU guarantees 16 KiB of workgroup storage (maxComputeWorkgroupStorageSize).
const _: () = assert!(WORKGROUP_STORAGE_BYTES <= 16384);

#[cfg(test)]
mod tests;
