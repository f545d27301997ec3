//! The I3D layers as candle modules: [`Unit3d`] (conv + folded BN + ReLU), [`MaxPool3dSame`],
//! [`InceptionBlock`], [`AvgPool3dValid`] and [`Logits`]. Tensors are f32, contiguous, on the CPU,
//! channels-last N×T×H×W×C. Each is built from an [`crate::arch`] spec and a `VarBuilder`
//! positioned at the layer (weights `weight` (kt, kh, kw, cin, cout) and `bias` (cout)).

use candle_core::{bail, DType, Device, Module, Result, Tensor};
use candle_nn::VarBuilder;

use crate::arch::{ConvSpec, Dims3, InceptionSpec, PoolSpec, Shape};
use crate::kernels::{self, Geometry, Scratch, Target};

/// The N×T×H×W×C shape of a 5-D tensor.
pub fn shape5(x: &Tensor) -> Result<Shape> {
    match x.dims() {
        &[n, t, h, w, c] => Ok(Shape { n, t, h, w, c }),
        dims => bail!("i3d: expected an N×T×H×W×C tensor, got dims {dims:?}"),
    }
}

/// Makes `x` an f32, contiguous CPU tensor (a no-op when it already is one).
fn prepare(x: &Tensor) -> Result<Tensor> {
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

fn tensor5(data: Vec<f32>, shape: Shape) -> Result<Tensor> {
    Tensor::from_vec(data, shape.dims().to_vec(), &Device::Cpu)
}

/// Conv3d (TF `SAME`, zero padding) with BatchNorm folded into weight and bias, then ReLU:
/// N×T×H×W×cin → N×⌈T/st⌉×⌈H/sh⌉×⌈W/sw⌉×cout.
#[derive(Debug, Clone)]
pub struct Unit3d {
    /// The layer's spec (kernel, stride, channels, ReLU).
    pub spec: ConvSpec,
    /// Weight as a GEMM operand: (kt·kh·kw·cin, cout).
    pub weight: Tensor,
    /// Bias (cout).
    pub bias: Vec<f32>,
}

impl Unit3d {
    /// Loads `weight` and `bias` from `vb` (positioned at the layer's prefix).
    pub fn new(spec: ConvSpec, vb: VarBuilder) -> Result<Self> {
        let (weight, bias) = load_conv(&spec, &vb)?;
        Ok(Unit3d { spec, weight, bias })
    }

    /// The SAME geometry of this conv over `input`.
    pub fn geometry(&self, input: Shape) -> Geometry {
        Geometry::same(input, self.spec.kernel, self.spec.stride, self.spec.cout)
    }

    fn check(&self, input: Shape) -> Result<()> {
        if input.c != self.spec.cin {
            bail!(
                "i3d: {} expects {} input channels, got {}",
                self.spec.name,
                self.spec.cin,
                input.c
            )
        }
        Ok(())
    }

    /// Runs the conv on `x` (contiguous f32) and writes its cout channels at channel `offset` of
    /// `dst` (rows of `stride` floats, one per output position).
    pub fn forward_into(
        &self,
        x: &Tensor,
        scratch: &mut Scratch,
        dst: &mut [f32],
        stride: usize,
        offset: usize,
    ) -> Result<()> {
        let input = shape5(x)?;
        self.check(input)?;
        let mut targets = [Target {
            dst,
            stride,
            offset,
            cols: 0..self.spec.cout,
        }];
        kernels::conv3d(
            x,
            &self.geometry(input),
            &self.weight,
            &self.bias,
            self.spec.relu,
            scratch,
            &mut targets,
        )
    }

    /// [`Module::forward`] with a caller-owned im2col scratch.
    pub fn forward_with(&self, x: &Tensor, scratch: &mut Scratch) -> Result<Tensor> {
        let x = prepare(x)?;
        let input = shape5(&x)?;
        self.check(input)?;
        let out = self.geometry(input).output;
        let mut data = vec![0.0f32; out.elements()];
        self.forward_into(&x, scratch, &mut data, out.c, 0)?;
        tensor5(data, out)
    }
}

impl Module for Unit3d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_with(x, &mut Scratch::default())
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

    /// Pools `x` (contiguous f32) into a new buffer; returns its data and shape.
    pub fn pool(&self, x: &Tensor) -> Result<(Vec<f32>, Shape)> {
        let input = shape5(x)?;
        let out = PoolSpec {
            kernel: self.kernel,
            stride: self.stride,
        }
        .output_shape(input);
        let data = kernels::with_slice(x, |s| {
            Ok(kernels::max_pool3d(s, input, self.kernel, self.stride))
        })?;
        Ok((data, out))
    }
}

impl Module for MaxPool3dSame {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (data, out) = self.pool(&prepare(x)?)?;
        tensor5(data, out)
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
        tensor5(data, out)
    }
}

/// An Inception module: concat(b0, b1, b2, b3) along channels, N×T×H×W×cin → N×T×H×W×cout.
///
/// The three 1×1×1 convolutions reading the block input (b0, b1a, b2a) run as one GEMM against
/// their concatenated weights; every branch writes straight into its channel slice of the output.
#[derive(Debug, Clone)]
pub struct InceptionBlock {
    /// The block's spec.
    pub spec: InceptionSpec,
    /// Branch 0.
    pub b0: Unit3d,
    /// Branch 1 reduction (1×1×1).
    pub b1a: Unit3d,
    /// Branch 1 (3×3×3).
    pub b1b: Unit3d,
    /// Branch 2 reduction (1×1×1).
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
    /// Loads the six convolutions from `vb` (positioned at the block, e.g. `Mixed_3b`).
    pub fn new(spec: InceptionSpec, vb: VarBuilder) -> Result<Self> {
        let unit = |conv: ConvSpec| {
            // The weight prefix is `Mixed_3b.Branch_1.Conv3d_0b_3x3`: the part after the block name.
            let Some((_, rest)) = conv.name.split_once('.') else {
                bail!("i3d: malformed weight prefix {}", conv.name)
            };
            Unit3d::new(conv, vb.pp(rest))
        };
        let mut b0 = unit(spec.b0)?;
        let mut b1a = unit(spec.b1a)?;
        let b1b = unit(spec.b1b)?;
        let mut b2a = unit(spec.b2a)?;
        let b2b = unit(spec.b2b)?;
        let b3 = unit(spec.b3)?;
        let fused_weight = Tensor::cat(&[&b0.weight, &b1a.weight, &b2a.weight], 1)?.contiguous()?;
        let fused_bias = [&b0.bias[..], &b1a.bias, &b2a.bias].concat();
        // The branch units keep (strided) views of the fused weight rather than their own copies.
        let (c0, c1a, c2a) = (spec.b0.cout, spec.b1a.cout, spec.b2a.cout);
        b0.weight = fused_weight.narrow(1, 0, c0)?;
        b1a.weight = fused_weight.narrow(1, c0, c1a)?;
        b2a.weight = fused_weight.narrow(1, c0 + c1a, c2a)?;
        Ok(InceptionBlock {
            spec,
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

    /// [`Module::forward`] with a caller-owned im2col scratch.
    pub fn forward_with(&self, x: &Tensor, scratch: &mut Scratch) -> Result<Tensor> {
        let x = prepare(x)?;
        let input = shape5(&x)?;
        if input.c != self.spec.cin {
            bail!(
                "i3d: {} expects {} input channels, got {}",
                self.b0.spec.name,
                self.spec.cin,
                input.c
            )
        }
        let cout = self.spec.cout();
        let (c0, c1a, c2a) = (self.b0.spec.cout, self.b1a.spec.cout, self.b2a.spec.cout);
        let (c1b, c2b) = (self.b1b.spec.cout, self.b2b.spec.cout);
        let m = input.positions();
        let mut out = vec![0.0f32; m * cout];
        let mut r1 = vec![0.0f32; m * c1a];
        let mut r2 = vec![0.0f32; m * c2a];
        {
            let mut targets = [
                Target {
                    dst: &mut out,
                    stride: cout,
                    offset: 0,
                    cols: 0..c0,
                },
                Target {
                    dst: &mut r1,
                    stride: c1a,
                    offset: 0,
                    cols: c0..c0 + c1a,
                },
                Target {
                    dst: &mut r2,
                    stride: c2a,
                    offset: 0,
                    cols: c0 + c1a..c0 + c1a + c2a,
                },
            ];
            let geometry = Geometry::same(input, [1, 1, 1], [1, 1, 1], c0 + c1a + c2a);
            kernels::conv3d(
                &x,
                &geometry,
                &self.fused_weight,
                &self.fused_bias,
                true,
                scratch,
                &mut targets,
            )?;
        }
        let r1 = tensor5(r1, Shape { c: c1a, ..input })?;
        self.b1b.forward_into(&r1, scratch, &mut out, cout, c0)?;
        drop(r1);
        let r2 = tensor5(r2, Shape { c: c2a, ..input })?;
        self.b2b
            .forward_into(&r2, scratch, &mut out, cout, c0 + c1b)?;
        drop(r2);
        let (pooled, pooled_shape) = self.b3_pool.pool(&x)?;
        let pooled = tensor5(pooled, pooled_shape)?;
        self.b3
            .forward_into(&pooled, scratch, &mut out, cout, c0 + c1b + c2b)?;
        tensor5(out, Shape { c: cout, ..input })
    }
}

impl Module for InceptionBlock {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_with(x, &mut Scratch::default())
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
