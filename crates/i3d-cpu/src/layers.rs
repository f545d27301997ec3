//! The I3D layers as candle modules: [`Unit3d`] (conv + folded BN + ReLU), [`MaxPool3dSame`],
//! [`InceptionBlock`], [`AvgPool3dValid`] and [`Logits`]. Tensors are f32, contiguous, on the CPU,
//! channels-last N×T×H×W×C. Each is built from an [`i3d_core::arch`] spec and a `VarBuilder`
//! positioned at the layer (weights `weight` (kt, kh, kw, cin, cout) and `bias` (cout)).
//!
//! Besides [`Module::forward`], the layers have a `forward_ws` that takes its output buffer (and the
//! im2col scratch) from a [`Workspace`], which is how [`crate::InceptionI3d`] runs them.

use candle_core::{bail, DType, Device, Module, Result, Tensor};
use candle_nn::VarBuilder;

use crate::kernels::stem::{self, StemWeight};
use crate::kernels::winograd::{self, WinogradWeight};
use crate::kernels::{self, Buffer, Geometry, Target, Workspace};
use i3d_core::arch::{ConvSpec, Dims3, InceptionSpec, PoolSpec, Shape};
use i3d_core::plan::InceptionPlan;

/// The N×T×H×W×C shape of a 5-D tensor.
pub fn shape5(x: &Tensor) -> Result<Shape> {
    match x.dims() {
        &[n, t, h, w, c] => Ok(Shape { n, t, h, w, c }),
        dims => bail!("i3d: expected an N×T×H×W×C tensor, got dims {dims:?}"),
    }
}

/// Makes `x` an f32, contiguous CPU tensor (a no-op when it already is one).
pub fn prepare(x: &Tensor) -> Result<Tensor> {
    x.to_device(&Device::Cpu)?
        .to_dtype(DType::F32)?
        .contiguous()
}

fn load_conv(spec: &ConvSpec, vb: &VarBuilder) -> Result<(Tensor, Vec<f32>)> {
    let weight = vb
        .get(spec.weight_shape().to_vec(), "weight")?
        .reshape((spec.k(), spec.cout))?
        .to_dtype(DType::F32)?
        .contiguous()?;
    let bias = vb.get(spec.cout, "bias")?.to_dtype(DType::F32)?.to_vec1()?;
    Ok((weight, bias))
}

fn check_channels(name: &str, expected: usize, input: Shape) -> Result<()> {
    if input.c != expected {
        bail!(
            "i3d: {name} expects {expected} input channels, got {}",
            input.c
        )
    }
    Ok(())
}

/// The weight of a [`Unit3d`], in the form its kernel uses (only one form is kept).
#[derive(Debug, Clone)]
pub enum ConvWeight {
    /// The direct im2col GEMM's operand: (kt·kh·kw·cin, cout), rows ordered (dt, dh, dw, ci).
    Direct(Tensor),
    /// Winograd F(2×2×2, 3×3×3) transformed weights (64, cin, cout), for a stride-1 3×3×3 conv.
    Winograd(WinogradWeight),
    /// The banded kernel's weight (kt, kw·kh·cin, cout), for a conv over few input channels (the stem).
    Stem(StemWeight),
}

impl ConvWeight {
    /// The direct (K, cout) weight; an error for a Winograd one.
    pub fn direct(&self) -> Result<&Tensor> {
        match self {
            ConvWeight::Direct(w) => Ok(w),
            ConvWeight::Winograd(_) => bail!("i3d: this conv keeps only Winograd weights"),
            ConvWeight::Stem(_) => bail!("i3d: this conv keeps only banded weights"),
        }
    }

    /// Bytes of f32 weights held.
    pub fn bytes(&self) -> usize {
        4 * match self {
            ConvWeight::Direct(w) => w.elem_count(),
            ConvWeight::Winograd(w) => w.u.elem_count(),
            ConvWeight::Stem(w) => w.len(),
        }
    }
}

/// Conv3d (TF `SAME`, zero padding) with BatchNorm folded into weight and bias, then ReLU:
/// N×T×H×W×cin → N×⌈T/st⌉×⌈H/sh⌉×⌈W/sw⌉×cout.
#[derive(Debug, Clone)]
pub struct Unit3d {
    /// The layer's spec (kernel, stride, channels, ReLU).
    pub spec: ConvSpec,
    /// The weight, direct, Winograd-transformed or banded ([`winograd::preferred`] and
    /// [`stem::preferred`] decide at load).
    pub weight: ConvWeight,
    /// Bias (cout).
    pub bias: Vec<f32>,
}

impl Unit3d {
    /// Loads `weight` and `bias` from `vb` (positioned at the layer's prefix). `plane`: the (H, W)
    /// of the layer's input in the network, for [`winograd::preferred`].
    pub fn new(spec: ConvSpec, vb: VarBuilder, plane: (usize, usize)) -> Result<Self> {
        let (weight, bias) = load_conv(&spec, &vb)?;
        Self::from_weight(spec, weight, bias, plane)
    }

    /// From a direct weight (K, cout) and bias: Winograd-transformed (the direct weight then
    /// dropped) when [`winograd::preferred`] says so for inputs of `plane` (H, W), reordered for the
    /// banded kernel when [`stem::preferred`] says so.
    pub fn from_weight(
        spec: ConvSpec,
        weight: Tensor,
        bias: Vec<f32>,
        plane: (usize, usize),
    ) -> Result<Self> {
        let weight = if winograd::preferred(&spec, plane) {
            ConvWeight::Winograd(WinogradWeight::from_direct(&weight, spec.cin, spec.cout)?)
        } else if stem::preferred(&spec) {
            ConvWeight::Stem(StemWeight::from_direct(
                &weight,
                spec.kernel,
                spec.cin,
                spec.cout,
            )?)
        } else {
            ConvWeight::Direct(weight)
        };
        Ok(Unit3d { spec, weight, bias })
    }

    /// The SAME geometry of this conv over `input`.
    pub fn geometry(&self, input: Shape) -> Geometry {
        Geometry::same(input, self.spec.kernel, self.spec.stride, self.spec.cout)
    }

    /// Bytes of weight and bias held.
    pub fn weight_bytes(&self) -> usize {
        self.weight.bytes() + 4 * self.bias.len()
    }

    /// Runs the conv on `x` (contiguous f32) and writes its cout channels at channel `offset` of
    /// the activation `dst` (N×T'×H'×W'×C, C ≥ offset + cout).
    pub fn forward_into(
        &self,
        x: &Tensor,
        workspace: &mut Workspace,
        dst: &Tensor,
        offset: usize,
    ) -> Result<()> {
        let input = shape5(x)?;
        check_channels(self.spec.name, self.spec.cin, input)?;
        let geometry = self.geometry(input);
        let targets = [Target {
            dst,
            offset,
            cols: 0..self.spec.cout,
        }];
        match &self.weight {
            ConvWeight::Direct(w) => kernels::conv3d(
                x,
                &geometry,
                w,
                &self.bias,
                self.spec.relu,
                workspace,
                &targets,
            ),
            ConvWeight::Winograd(w) => winograd::conv3d(
                x,
                &geometry,
                w,
                &self.bias,
                self.spec.relu,
                workspace,
                &targets,
            ),
            ConvWeight::Stem(w) => stem::conv3d(
                x,
                &geometry,
                w,
                &self.bias,
                self.spec.relu,
                workspace,
                &targets,
            ),
        }
    }

    /// The conv of `x` (contiguous f32) into a buffer of `workspace`.
    pub fn forward_ws(&self, x: &Tensor, workspace: &mut Workspace) -> Result<Buffer> {
        let input = shape5(x)?;
        check_channels(self.spec.name, self.spec.cin, input)?;
        let out = workspace.take(self.geometry(input).output)?;
        self.forward_into(x, workspace, &out.view, 0)?;
        Ok(out)
    }
}

impl Module for Unit3d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self
            .forward_ws(&prepare(x)?, &mut Workspace::default())?
            .view)
    }
}

/// Max-pool 3D with TF `SAME` padding (−∞, never wins): N×T×H×W×C → N×⌈T/st⌉×⌈H/sh⌉×⌈W/sw⌉×C.
#[derive(Debug, Clone, Copy)]
pub struct MaxPool3dSame {
    /// Window (kt, kh, kw).
    pub kernel: Dims3,
    /// Stride (st, sh, sw).
    pub stride: Dims3,
}

impl MaxPool3dSame {
    /// From a pool spec.
    pub fn new(spec: PoolSpec) -> Self {
        MaxPool3dSame {
            kernel: spec.kernel,
            stride: spec.stride,
        }
    }

    /// The SAME geometry of this pool over `input`.
    pub fn geometry(&self, input: Shape) -> Geometry {
        Geometry::same(input, self.kernel, self.stride, input.c)
    }

    /// The pool of `x` (contiguous f32) into a buffer of `workspace`.
    pub fn forward_ws(&self, x: &Tensor, workspace: &mut Workspace) -> Result<Buffer> {
        let geometry = self.geometry(shape5(x)?);
        let out = workspace.take(geometry.output)?;
        kernels::max_pool3d(x, &geometry, &out.view)?;
        Ok(out)
    }
}

impl Module for MaxPool3dSame {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self
            .forward_ws(&prepare(x)?, &mut Workspace::default())?
            .view)
    }
}

/// Average pool, VALID, stride 1: N×T×H×W×C → N×(T−kt+1)×(H−kh+1)×(W−kw+1)×C.
#[derive(Debug, Clone, Copy)]
pub struct AvgPool3dValid {
    /// Window (kt, kh, kw).
    pub kernel: Dims3,
}

impl Module for AvgPool3dValid {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = prepare(x)?;
        let input = shape5(&x)?;
        let [kt, kh, kw] = self.kernel;
        if input.t < kt || input.h < kh || input.w < kw {
            bail!(
                "i3d: the {kt}×{kh}×{kw} average pool needs at least that many positions, got {input}"
            )
        }
        let out = Shape {
            t: input.t + 1 - kt,
            h: input.h + 1 - kh,
            w: input.w + 1 - kw,
            ..input
        };
        let data =
            kernels::with_slice(&x, |s| Ok(kernels::avg_pool3d_valid(s, input, self.kernel)))?;
        Tensor::from_vec(data, out.dims().to_vec(), &Device::Cpu)
    }
}

/// An Inception module: concat(b0, b1, b2, b3) along channels, N×T×H×W×cin → N×T×H×W×cout.
///
/// Runs as [`InceptionPlan`] says: b0, b1a and b2a as one GEMM against their fused weights, b0's
/// columns straight into the output and the reductions into scratch; branch 3 pools its GEMM rows
/// chunk by chunk; every branch writes straight into its channel slice of the output.
#[derive(Debug, Clone)]
pub struct InceptionBlock {
    /// The block's spec.
    pub spec: InceptionSpec,
    /// How it runs.
    pub plan: InceptionPlan,
    /// Branch 0 (its weight is a view of the fused 1×1×1 weight).
    pub b0: Unit3d,
    /// Branch 1 reduction (1×1×1; a view of the fused weight).
    pub b1a: Unit3d,
    /// Branch 1 (3×3×3).
    pub b1b: Unit3d,
    /// Branch 2 reduction (1×1×1; a view of the fused weight).
    pub b2a: Unit3d,
    /// Branch 2 (3×3×3).
    pub b2b: Unit3d,
    /// Branch 3 pool (3×3×3, stride 1).
    pub b3_pool: MaxPool3dSame,
    /// Branch 3 projection (1×1×1).
    pub b3: Unit3d,
    /// (cin, c0 + c1a + c2a): the weights of b0, b1a and b2a side by side.
    fused_weight: Tensor,
    /// Their biases, side by side.
    fused_bias: Vec<f32>,
}

impl InceptionBlock {
    /// Loads the six convolutions from `vb` (positioned at the block, e.g. `Mixed_3b`). `plane`:
    /// the (H, W) of the block's input in the network (it picks the 3×3×3 convs' kernels).
    pub fn new(spec: InceptionSpec, vb: VarBuilder, plane: (usize, usize)) -> Result<Self> {
        let unit = |conv: ConvSpec| {
            // The weight prefix is `Mixed_3b.Branch_1.Conv3d_0b_3x3`: the part after the block name.
            let Some((_, rest)) = conv.name.split_once('.') else {
                bail!("i3d: malformed weight prefix {}", conv.name)
            };
            Unit3d::new(conv, vb.pp(rest), plane)
        };
        let plan = InceptionPlan::new(spec);
        let mut b0 = unit(spec.b0)?;
        let mut b1a = unit(spec.b1a)?;
        let b1b = unit(spec.b1b)?;
        let mut b2a = unit(spec.b2a)?;
        let b2b = unit(spec.b2b)?;
        let b3 = unit(spec.b3)?;
        let rows =
            |u: &Unit3d| -> Result<Vec<f32>> { u.weight.direct()?.flatten_all()?.to_vec1::<f32>() };
        let (fused, fused_bias) = plan.fuse(
            [&rows(&b0)?, &rows(&b1a)?, &rows(&b2a)?],
            [&b0.bias, &b1a.bias, &b2a.bias],
        );
        let fused_weight = Tensor::from_vec(fused, (spec.cin, plan.fused_cout), &Device::Cpu)?;
        // The branch units keep (strided) views of the fused weight rather than their own copies.
        let view = |cols: &std::ops::Range<usize>| fused_weight.narrow(1, cols.start, cols.len());
        b0.weight = ConvWeight::Direct(view(&plan.b0_cols)?);
        b1a.weight = ConvWeight::Direct(view(&plan.b1_reduction_cols)?);
        b2a.weight = ConvWeight::Direct(view(&plan.b2_reduction_cols)?);
        Ok(InceptionBlock {
            spec,
            plan,
            b0,
            b1a,
            b1b,
            b2a,
            b2b,
            b3_pool: MaxPool3dSame::new(spec.b3_pool),
            b3,
            fused_weight,
            fused_bias,
        })
    }

    /// Bytes of weights and biases held (b0, b1a and b2a share the fused weight).
    pub fn weight_bytes(&self) -> usize {
        4 * (self.fused_weight.elem_count() + self.fused_bias.len())
            + [&self.b0, &self.b1a, &self.b2a]
                .iter()
                .map(|u| 4 * u.bias.len())
                .sum::<usize>()
            + [&self.b1b, &self.b2b, &self.b3]
                .iter()
                .map(|u| u.weight_bytes())
                .sum::<usize>()
    }

    /// The block on `x` (contiguous f32) into a buffer of `workspace`.
    pub fn forward_ws(&self, x: &Tensor, workspace: &mut Workspace) -> Result<Buffer> {
        let input = shape5(x)?;
        check_channels(self.b0.spec.name, self.spec.cin, input)?;
        let plan = &self.plan;
        let [b0_out, b1_out, b2_out, b3_out] = plan.outputs.clone();
        let out = workspace.take(Shape {
            c: self.spec.cout(),
            ..input
        })?;
        // The two reductions in separate scratch buffers: the CPU conv reads a contiguous input.
        let r1 = workspace.take(Shape {
            c: plan.b1_reduction_cols.len(),
            ..input
        })?;
        let r2 = workspace.take(Shape {
            c: plan.b2_reduction_cols.len(),
            ..input
        })?;
        kernels::conv3d(
            x,
            &Geometry::same(input, [1, 1, 1], [1, 1, 1], plan.fused_cout),
            &self.fused_weight,
            &self.fused_bias,
            true,
            workspace,
            &[
                Target {
                    dst: &out.view,
                    offset: b0_out.start,
                    cols: plan.b0_cols.clone(),
                },
                Target {
                    dst: &r1.view,
                    offset: 0,
                    cols: plan.b1_reduction_cols.clone(),
                },
                Target {
                    dst: &r2.view,
                    offset: 0,
                    cols: plan.b2_reduction_cols.clone(),
                },
            ],
        )?;
        self.b1b
            .forward_into(&r1.view, workspace, &out.view, b1_out.start)?;
        workspace.give(r1);
        self.b2b
            .forward_into(&r2.view, workspace, &out.view, b2_out.start)?;
        workspace.give(r2);
        kernels::pool_conv1x1(
            x,
            &self.b3_pool.geometry(input),
            self.b3.weight.direct()?,
            &self.b3.bias,
            true,
            workspace,
            &[Target {
                dst: &out.view,
                offset: b3_out.start,
                cols: 0..b3_out.len(),
            }],
        )?;
        Ok(out)
    }
}

impl Module for InceptionBlock {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self
            .forward_ws(&prepare(x)?, &mut Workspace::default())?
            .view)
    }
}

/// The classifier: a 1×1×1 conv with bias (no ReLU) on N×T'×H'×W'×C, averaged over the T'·H'·W'
/// positions: → N×classes logits.
#[derive(Debug, Clone)]
pub struct Logits {
    /// The 1×1×1 conv (`relu` is false).
    pub conv: Unit3d,
}

impl Module for Logits {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let per_position = self.conv.forward(x)?;
        let (n, t, h, w, c) = per_position.dims5()?;
        per_position.reshape((n, t * h * w, c))?.mean(1)
    }
}
