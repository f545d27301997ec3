//! The network as a visitor sees it: one row per layer of [`I3D_LAYERS`] with its kernel, stride,
//! output shape, parameters, FLOPs and receptive field for a clip of a given length, and each
//! Inception block's four branches. Everything is derived from the layer table: the `/inside` page
//! (through here) and `kinetiscope bench` print the same totals because both come from
//! [`arch::parameters`] and [`arch::macs`].
//!
//! The receptive field is the theoretical one: how many input frames and pixels can reach one
//! output position, grown layer by layer as `rf += (kernel − 1) · jump; jump *= stride` (TF `SAME`
//! padding changes which positions are padded, not the field's extent). An Inception block's field
//! is its widest branch's: 3×3×3 (the 3×3×3 convolutions, and the 3×3×3 pool before branch 3's 1×1×1).
//! The classifier averages over every position left, so its field covers all of them.

use serde::Serialize;

use crate::arch::{self, ConvSpec, Dims3, LayerId, Op, Shape, I3D_LAYERS};
use crate::Error;

/// What kind of layer a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A 3-D convolution (with its folded BatchNorm and ReLU).
    Conv,
    /// 3-D max-pooling.
    MaxPool,
    /// An Inception module (four branches, concatenated).
    Inception,
    /// The average pool before the classifier.
    AvgPool,
    /// The classifier (1×1×1 convolution, averaged over time).
    Logits,
}

impl Kind {
    /// In words, for a table.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Conv => "3D convolution",
            Kind::MaxPool => "max-pool",
            Kind::Inception => "Inception module",
            Kind::AvgPool => "average pool",
            Kind::Logits => "classifier",
        }
    }
}

/// One convolution or pool inside an Inception branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Weight prefix (`Mixed_3b.Branch_1.Conv3d_0b_3x3`) or the pool's name.
    pub name: String,
    /// Kernel (t, h, w).
    pub kernel: Dims3,
    /// Output channels (input channels for a pool).
    pub channels: usize,
}

/// One of an Inception block's four branches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Branch {
    /// `Branch_0` … `Branch_3`.
    pub name: &'static str,
    /// What it computes, in order.
    pub steps: Vec<Step>,
    /// Channels it contributes to the block's output.
    pub channels: usize,
    /// Parameters (weights and biases) of its convolutions.
    pub parameters: usize,
    /// Multiply-adds for the clip.
    pub macs: u64,
}

/// One layer of the network for a clip of a given length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerSummary {
    /// Endpoint name (`Conv3d_1a_7x7`, `Mixed_3b`, …).
    pub name: &'static str,
    /// What it is.
    pub kind: Kind,
    /// Kernel (t, h, w); an Inception block's widest branch (3×3×3).
    pub kernel: Dims3,
    /// Stride (t, h, w).
    pub stride: Dims3,
    /// Output shape N×T×H×W×C (the logits: N×1×1×1×400).
    pub output: Shape,
    /// Parameters (weights and biases after BatchNorm folding).
    pub parameters: usize,
    /// Multiply-adds for the clip (pools count none).
    pub macs: u64,
    /// Input frames, pixels down and pixels across that one output position sees.
    pub receptive_field: Dims3,
    /// Distance between neighbouring output positions, in input frames and pixels.
    pub jump: Dims3,
    /// The four branches of an Inception block; empty otherwise.
    pub branches: Vec<Branch>,
}

impl LayerSummary {
    /// Floating-point operations, 10^9 (2 per multiply-add).
    pub fn gflop(&self) -> f64 {
        2.0 * self.macs as f64 / 1e9
    }
}

/// The whole network for a clip of `frames` frames.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anatomy {
    /// Frames T of the clip (input 1×T×224×224×3).
    pub frames: usize,
    /// Every layer, in order.
    pub layers: Vec<LayerSummary>,
    /// Parameters in all ([`arch::parameters`]).
    pub parameters: usize,
    /// Multiply-adds in all ([`arch::macs`]).
    pub macs: u64,
}

impl Anatomy {
    /// The network for a clip of `frames` frames (at least [`arch::MIN_FRAMES`]).
    pub fn of(frames: usize) -> Result<Self, Error> {
        let input = Shape::clip(frames);
        arch::check_input(input)?;
        let outputs = arch::output_shapes(I3D_LAYERS, input)?;
        let mut rf: Dims3 = [1, 1, 1];
        let mut jump: Dims3 = [1, 1, 1];
        let mut shape = input;
        let mut layers = Vec::with_capacity(I3D_LAYERS.len());
        for (layer, &output) in I3D_LAYERS.iter().zip(&outputs) {
            let (kind, kernel, stride, branches) = match &layer.op {
                Op::Conv(c) => (Kind::Conv, c.kernel, c.stride, Vec::new()),
                Op::MaxPool(p) => (Kind::MaxPool, p.kernel, p.stride, Vec::new()),
                Op::Inception(b) => (
                    Kind::Inception,
                    [3, 3, 3],
                    [1, 1, 1],
                    inception_branches(layer.name, b, shape)?,
                ),
                Op::AvgPool { kernel } => (Kind::AvgPool, *kernel, [1, 1, 1], Vec::new()),
                Op::Logits(c) => (Kind::Logits, c.kernel, c.stride, Vec::new()),
            };
            // The logits' mean over the positions left acts as a kernel of all of them.
            let reach = match layer.op {
                Op::Logits(_) => [shape.t, shape.h, shape.w],
                _ => kernel,
            };
            for d in 0..3 {
                rf[d] += (reach[d] - 1) * jump[d];
                jump[d] *= stride[d];
            }
            layers.push(LayerSummary {
                name: layer.name,
                kind,
                kernel,
                stride,
                output,
                parameters: layer.convs().iter().map(conv_parameters).sum(),
                macs: layer.macs(shape)?,
                receptive_field: rf,
                jump,
                branches,
            });
            shape = output;
        }
        Ok(Anatomy {
            frames,
            layers,
            parameters: arch::parameters(),
            macs: arch::macs(frames)?,
        })
    }

    /// Floating-point operations in all, 10^9 (2 per multiply-add).
    pub fn gflop(&self) -> f64 {
        2.0 * self.macs as f64 / 1e9
    }

    /// The row of layer `name`.
    pub fn layer(&self, name: &str) -> Option<&LayerSummary> {
        self.layers.iter().find(|l| l.name == name)
    }
}

fn conv_parameters(conv: &ConvSpec) -> usize {
    conv.weight_len() + conv.cout
}

fn step(conv: &ConvSpec) -> Step {
    Step {
        name: conv.name.to_owned(),
        kernel: conv.kernel,
        channels: conv.cout,
    }
}

fn inception_branches(
    block: &str,
    spec: &arch::InceptionSpec,
    input: Shape,
) -> Result<Vec<Branch>, Error> {
    let reduced = |conv: &ConvSpec| Shape {
        c: conv.cout,
        ..input
    };
    let branch =
        |name, convs: &[(&ConvSpec, Shape)], pool: Option<Step>| -> Result<Branch, Error> {
            let mut steps: Vec<Step> = pool.into_iter().collect();
            steps.extend(convs.iter().map(|(c, _)| step(c)));
            let mut macs = 0;
            for (conv, at) in convs {
                macs += conv.macs(*at)?;
            }
            Ok(Branch {
                name,
                channels: convs.last().map_or(0, |(c, _)| c.cout),
                parameters: convs.iter().map(|(c, _)| conv_parameters(c)).sum(),
                macs,
                steps,
            })
        };
    let pool = Step {
        name: format!("{block}.Branch_3.MaxPool3d_0a_3x3"),
        kernel: spec.b3_pool.kernel,
        channels: input.c,
    };
    Ok(vec![
        branch("Branch_0", &[(&spec.b0, input)], None)?,
        branch(
            "Branch_1",
            &[(&spec.b1a, input), (&spec.b1b, reduced(&spec.b1a))],
            None,
        )?,
        branch(
            "Branch_2",
            &[(&spec.b2a, input), (&spec.b2b, reduced(&spec.b2a))],
            None,
        )?,
        branch("Branch_3", &[(&spec.b3, input)], Some(pool))?,
    ])
}

/// The names of the layers whose output is an N×T×H×W×C activation a visitor can look at
/// ([`LayerId::inspectable`]: the convolutions, pools and Inception blocks), in order.
pub fn inspectable() -> impl Iterator<Item = &'static str> {
    LayerId::inspectable().map(LayerId::name)
}

/// The [`inspectable`] layer named `name` (a name from a user or the page).
pub fn check_inspectable(name: &str) -> Result<LayerId, Error> {
    LayerId::named(name)
        .filter(|id| id.is_inspectable())
        .ok_or_else(|| Error::UnknownLayer(name.to_owned()))
}

/// Checks that `layer` is [`inspectable`].
pub fn check_inspectable_id(layer: LayerId) -> Result<LayerId, Error> {
    if layer.is_inspectable() {
        Ok(layer)
    } else {
        Err(Error::UnknownLayer(layer.name().to_owned()))
    }
}

/// The mean of every channel of a 1×T×H×W×C activation (NTHWC `values`), C values.
pub fn channel_means(values: &[f32], shape: Shape) -> Vec<f32> {
    let c = shape.c.max(1);
    let mut sums = vec![0.0f64; c];
    for position in values.chunks_exact(c) {
        for (sum, &v) in sums.iter_mut().zip(position) {
            *sum += f64::from(v);
        }
    }
    let count = (values.len() / c).max(1) as f64;
    sums.into_iter().map(|s| (s / count) as f32).collect()
}

/// The `k` channels with the largest mean activation, strongest first (ties: lower index first):
/// (channel, mean).
pub fn strongest_channels(values: &[f32], shape: Shape, k: usize) -> Vec<(usize, f32)> {
    strongest_of(&channel_means(values, shape), k)
}

/// The `k` largest of per-channel `means` (from [`channel_means`]), strongest first (ties: lower index
/// first): (channel, mean).
pub fn strongest_of(means: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut ranked: Vec<(usize, f32)> = means.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(k);
    ranked
}

/// One channel of a 1×T×H×W×C activation as a T×H'×W' volume (row-major, time first), averaged
/// over `f`×`f` pixel blocks where `f` is the smallest integer factor that brings H and W to at most
/// `max_side` (1 when they already are): returns (values, [T, H', W']).
pub fn channel_volume(
    values: &[f32],
    shape: Shape,
    channel: usize,
    max_side: usize,
) -> (Vec<f32>, Dims3) {
    let (t, h, w, c) = (shape.t, shape.h, shape.w, shape.c);
    let f = h.max(w).div_ceil(max_side.max(1)).max(1);
    let (oh, ow) = (h.div_ceil(f), w.div_ceil(f));
    let mut out = vec![0.0f32; t * oh * ow];
    let mut counts = vec![0u32; t * oh * ow];
    for ti in 0..t {
        for y in 0..h {
            for x in 0..w {
                let cell = (ti * oh + y / f) * ow + x / f;
                out[cell] += values[((ti * h + y) * w + x) * c + channel];
                counts[cell] += 1;
            }
        }
    }
    for (v, n) in out.iter_mut().zip(&counts) {
        *v /= (*n).max(1) as f32;
    }
    (out, [t, oh, ow])
}

/// `values` scaled to bytes over their own range: (bytes, min, max); 0 everywhere for a constant.
pub fn quantize(values: &[f32]) -> (Vec<u8>, f32, f32) {
    let (min, max) = values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let spread = max - min;
    if spread.is_nan() || spread <= 0.0 {
        return (vec![0; values.len()], min, max);
    }
    let scale = 255.0 / spread;
    let bytes = values
        .iter()
        .map(|&v| ((v - min) * scale).round().clamp(0.0, 255.0) as u8)
        .collect();
    (bytes, min, max)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn totals_are_the_architecture_s_12_69_m_parameters_and_55_6_gflop_at_16_frames() {
        let a = Anatomy::of(16).unwrap();
        assert_eq!(a.parameters, 12_689_984);
        assert_eq!(
            a.layers.iter().map(|l| l.parameters).sum::<usize>(),
            a.parameters
        );
        assert_eq!(a.layers.iter().map(|l| l.macs).sum::<u64>(), a.macs);
        assert_eq!(format!("{:.1}", a.gflop()), "55.6");
        assert_eq!(a.layers.len(), I3D_LAYERS.len());
    }

    #[test]
    fn inception_branches_add_up_to_the_block() {
        let a = Anatomy::of(16).unwrap();
        for layer in a.layers.iter().filter(|l| l.kind == Kind::Inception) {
            assert_eq!(layer.branches.len(), 4, "{}", layer.name);
            let channels: usize = layer.branches.iter().map(|b| b.channels).sum();
            assert_eq!(channels, layer.output.c, "{}", layer.name);
            let params: usize = layer.branches.iter().map(|b| b.parameters).sum();
            assert_eq!(params, layer.parameters, "{}", layer.name);
            let macs: u64 = layer.branches.iter().map(|b| b.macs).sum();
            assert_eq!(macs, layer.macs, "{}", layer.name);
        }
        let mixed_3b = a.layer("Mixed_3b").unwrap();
        // 64 + 128 + 32 + 32 channels, as in the I3D paper's Inception-v1 table.
        let widths: Vec<usize> = mixed_3b.branches.iter().map(|b| b.channels).collect();
        assert_eq!(widths, [64, 128, 32, 32]);
        assert_eq!(mixed_3b.branches[3].steps[0].kernel, [3, 3, 3]);
    }

    #[test]
    fn the_receptive_field_grows_layer_by_layer() {
        let a = Anatomy::of(16).unwrap();
        let rf = |name: &str| a.layer(name).unwrap().receptive_field;
        // The first 7×7×7 convolution sees 7 frames and 7×7 pixels.
        assert_eq!(rf("Conv3d_1a_7x7"), [7, 7, 7]);
        // The 1×3×3 stride-1×2×2 pool: +2 pixel steps of 2 pixels, no frames.
        assert_eq!(rf("MaxPool3d_2a_3x3"), [7, 11, 11]);
        assert_eq!(a.layer("MaxPool3d_2a_3x3").unwrap().jump, [2, 4, 4]);
        // Conv3d_2c 3×3×3 at jump 2 frames / 4 pixels.
        assert_eq!(rf("Conv3d_2c_3x3"), [11, 19, 19]);
        // Grows monotonically to the end, and ends wider than the clip and the frame.
        let mut last = [0, 0, 0];
        for layer in &a.layers {
            assert!(
                layer
                    .receptive_field
                    .iter()
                    .zip(&last)
                    .all(|(now, before)| now >= before),
                "{}",
                layer.name
            );
            last = layer.receptive_field;
        }
        let mixed_5c = rf("Mixed_5c");
        assert!(mixed_5c[0] > 16 && mixed_5c[1] > 224, "{mixed_5c:?}");
    }

    #[test]
    fn too_short_a_clip_is_refused() {
        assert!(Anatomy::of(arch::MIN_FRAMES - 1).is_err());
    }

    #[test]
    fn channels_are_ranked_by_mean_and_cut_out_as_volumes() {
        // 1×2×2×4×3: channel c at (t, y, x) = c·100 + t·10 + y·4 + x (channel 2 strongest).
        let shape = Shape {
            n: 1,
            t: 2,
            h: 2,
            w: 4,
            c: 3,
        };
        let mut values = Vec::new();
        for t in 0..2 {
            for y in 0..2 {
                for x in 0..4 {
                    for c in 0..3 {
                        values.push((c * 100 + t * 10 + y * 4 + x) as f32);
                    }
                }
            }
        }
        let means = channel_means(&values, shape);
        assert_eq!(means, [8.5, 108.5, 208.5]);
        let top: Vec<usize> = strongest_channels(&values, shape, 2)
            .iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(top, [2, 1]);
        let (volume, dims) = channel_volume(&values, shape, 1, 8);
        assert_eq!(dims, [2, 2, 4]);
        assert_eq!(volume[0], 100.0);
        assert_eq!(volume[2 * 4 * 2 - 1], 117.0);
        // Halved: 2×2 blocks averaged.
        let (small, dims) = channel_volume(&values, shape, 0, 2);
        assert_eq!(dims, [2, 1, 2]);
        assert_eq!(small, [2.5, 4.5, 12.5, 14.5]);
        let (bytes, min, max) = quantize(&[-1.0, 0.0, 1.0]);
        assert_eq!((bytes, min, max), (vec![0, 128, 255], -1.0, 1.0));
        assert_eq!(quantize(&[3.0, 3.0]).0, [0, 0]);
    }
}
