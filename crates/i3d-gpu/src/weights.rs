//! The network's weights on the device, one entry per layer of [`I3D_LAYERS`].
//!
//! Read from the converted safetensors file (`P.weight` (kt, kh, kw, cin, cout), `P.bias` (cout),
//! BatchNorm folded, f32 or f16). Inception blocks are loaded as [`InceptionPlan`] says: the three
//! 1×1×1 convolutions that read the block input (b0, b1a, b2a) as one fused GEMM operand.

use i3d_core::arch::{ConvSpec, Layer, Op, I3D_LAYERS};
use i3d_core::plan::InceptionPlan;
use i3d_core::weights::tensor_f32;
use safetensors::SafeTensors;

use crate::context::GpuContext;
use crate::kernels::Precision;
use crate::ops::ConvWeights;
use crate::Error;

/// The weights of one Inception block.
#[derive(Debug, Clone)]
pub struct InceptionWeights {
    /// How the block runs.
    pub plan: InceptionPlan,
    /// b0 | b1a | b2a side by side: (cin, c0 + c1a + c2a).
    pub fused: ConvWeights,
    /// Branch 1, 3×3×3.
    pub b1b: ConvWeights,
    /// Branch 2, 3×3×3.
    pub b2b: ConvWeights,
    /// Branch 3, 1×1×1 after the pool.
    pub b3: ConvWeights,
}

/// The weights of one layer (pools have none).
#[derive(Debug, Clone)]
pub enum LayerWeights {
    /// A conv (or the classifier).
    Conv(ConvWeights),
    /// An Inception block.
    Inception(Box<InceptionWeights>),
    /// A pool.
    None,
}

/// Every layer's weights, in the order of [`I3D_LAYERS`].
#[derive(Debug, Clone)]
pub struct GpuWeights {
    /// Storage precision.
    pub precision: Precision,
    /// One entry per layer.
    pub layers: Vec<(Layer, LayerWeights)>,
    /// Bytes uploaded (padding included).
    pub bytes: u64,
}

/// (weight (K, cout) row-major, bias (cout)) of a conv.
fn conv_tensors(st: &SafeTensors<'_>, spec: &ConvSpec) -> Result<(Vec<f32>, Vec<f32>), Error> {
    Ok((
        tensor_f32(st, &format!("{}.weight", spec.name), &spec.weight_shape())?,
        tensor_f32(st, &format!("{}.bias", spec.name), &[spec.cout])?,
    ))
}

impl GpuWeights {
    /// Uploads the weights of a safetensors file (f32 or f16) in `precision`.
    pub fn from_safetensors(
        ctx: &GpuContext,
        bytes: &[u8],
        precision: Precision,
    ) -> Result<Self, Error> {
        ctx.check_precision(precision)?;
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| Error::Weights(format!("not a safetensors file: {e}")))?;
        let conv = |spec: &ConvSpec| -> Result<ConvWeights, Error> {
            let (w, b) = conv_tensors(&st, spec)?;
            ConvWeights::from_spec(ctx, spec, &w, &b, precision)
        };
        let mut layers = Vec::with_capacity(I3D_LAYERS.len());
        let mut total = 0u64;
        for layer in I3D_LAYERS {
            let weights = match &layer.op {
                Op::Conv(spec) | Op::Logits(spec) => LayerWeights::Conv(conv(spec)?),
                Op::Inception(spec) => {
                    let plan = InceptionPlan::new(*spec);
                    let (w0, b0) = conv_tensors(&st, &spec.b0)?;
                    let (w1, b1) = conv_tensors(&st, &spec.b1a)?;
                    let (w2, b2) = conv_tensors(&st, &spec.b2a)?;
                    let (weight, bias) = plan.fuse([&w0, &w1, &w2], [&b0, &b1, &b2]);
                    let fused = ConvWeights::new(
                        ctx,
                        &format!("{}.Branch_0+1+2.Conv3d_0a_1x1", layer.name),
                        [1, 1, 1],
                        [1, 1, 1],
                        spec.cin,
                        plan.fused_cout,
                        true,
                        &weight,
                        &bias,
                        precision,
                    )?;
                    LayerWeights::Inception(Box::new(InceptionWeights {
                        plan,
                        fused,
                        b1b: conv(&spec.b1b)?,
                        b2b: conv(&spec.b2b)?,
                        b3: conv(&spec.b3)?,
                    }))
                }
                Op::MaxPool(_) | Op::AvgPool { .. } => LayerWeights::None,
            };
            total += match &weights {
                LayerWeights::Conv(w) => w.weight.size() + w.bias.size(),
                LayerWeights::Inception(b) => [&b.fused, &b.b1b, &b.b2b, &b.b3]
                    .iter()
                    .map(|w| w.weight.size() + w.bias.size())
                    .sum(),
                LayerWeights::None => 0,
            };
            layers.push((*layer, weights));
        }
        Ok(GpuWeights {
            precision,
            layers,
            bytes: total,
        })
    }
}
