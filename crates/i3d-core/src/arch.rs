//! The I3D architecture (Carreira & Zisserman 2017, <https://arxiv.org/abs/1705.07750>) as data.
//!
//! [`I3D_LAYERS`] is the one definition of the network: an ordered table of [`Layer`]s, each with the
//! names of its weights in the converted safetensors file (`P.weight` (kt, kh, kw, cin, cout) and
//! `P.bias` (cout), BatchNorm folded). Every executor (the candle CPU one in this crate, the WebGPU
//! one) walks this table; shape inference ([`output_shapes`]) and the cost model ([`macs`]) walk it too,
//! and `checkpoint` derives the list of tensors a converted checkpoint must hold from it ([`all_convs`]).
//!
//! Tensors are channels-last: N×T×H×W×C. Padding is TensorFlow `SAME` ([`same_padding`]).

use crate::Error;

/// A 3-D extent or step, in (time, height, width) order.
pub type Dims3 = [usize; 3];

/// Smallest clip length (frames) the network accepts: the 2×7×7 VALID average pool needs two time
/// steps after the ÷8 temporal reduction (9 → 5 → 3 → 2).
pub const MIN_FRAMES: usize = 9;

/// Longest clip (frames) the network is run on in one pass: a minute at 25 fps. Bounds what a clip can
/// make an executor allocate (its input alone is 1500 × 224×224×3 f32 = 903 MB), and keeps every size
/// product far from `usize::MAX` on 32-bit targets (wasm32), where an unchecked count could wrap.
pub const MAX_FRAMES: usize = 1500;

/// Spatial side (pixels) of the network input after the centre crop.
pub const INPUT_SIZE: usize = 224;

/// Number of Kinetics-400 classes.
pub const NUM_CLASSES: usize = 400;

/// Channels of the features ([`FEATURE_LAYER`]'s output, the input of the classifier).
pub const FEATURE_CHANNELS: usize = 1024;

/// A 3-D convolution (no bias in the original; after BatchNorm folding every conv has a bias).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvSpec {
    /// Weight prefix `P`: the tensors are `P.weight` (kt, kh, kw, cin, cout) and `P.bias` (cout).
    pub name: &'static str,
    /// Kernel extent (kt, kh, kw).
    pub kernel: Dims3,
    /// Stride (st, sh, sw).
    pub stride: Dims3,
    /// Input channels.
    pub cin: usize,
    /// Output channels.
    pub cout: usize,
    /// Whether a ReLU follows (every conv but the logits).
    pub relu: bool,
}

impl ConvSpec {
    /// Number of weights: kt·kh·kw·cin·cout.
    pub const fn weight_len(&self) -> usize {
        self.kernel[0] * self.kernel[1] * self.kernel[2] * self.cin * self.cout
    }

    /// Rows of the weight seen as a (K, cout) GEMM operand: K = kt·kh·kw·cin.
    pub const fn k(&self) -> usize {
        self.kernel[0] * self.kernel[1] * self.kernel[2] * self.cin
    }

    /// Shape of `P.weight`: (kt, kh, kw, cin, cout).
    pub const fn weight_shape(&self) -> [usize; 5] {
        [
            self.kernel[0],
            self.kernel[1],
            self.kernel[2],
            self.cin,
            self.cout,
        ]
    }

    /// Output shape for an N×T×H×W×cin input, with TF `SAME` padding.
    pub fn output_shape(&self, input: Shape) -> Result<Shape, Error> {
        if input.c != self.cin {
            return Err(Error::Channels {
                layer: self.name,
                expected: self.cin,
                got: input.c,
            });
        }
        let [t, h, w] = same_output(input.thw(), self.stride);
        Ok(Shape {
            n: input.n,
            t,
            h,
            w,
            c: self.cout,
        })
    }

    /// Multiply-adds for an input of this shape (padded taps included, as every GEMM does them).
    pub fn macs(&self, input: Shape) -> Result<u64, Error> {
        let out = self.output_shape(input)?;
        Ok(out.positions() as u64 * self.k() as u64 * self.cout as u64)
    }
}

/// Max-pooling with TF `SAME` padding (padding never wins: it counts as −∞).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSpec {
    /// Window extent (kt, kh, kw).
    pub kernel: Dims3,
    /// Stride (st, sh, sw).
    pub stride: Dims3,
}

impl PoolSpec {
    /// Output shape with TF `SAME` padding (channels unchanged).
    pub fn output_shape(&self, input: Shape) -> Shape {
        let [t, h, w] = same_output(input.thw(), self.stride);
        Shape { t, h, w, ..input }
    }
}

/// An Inception module: four branches concatenated along channels, in this order:
/// b0 = 1×1×1; b1 = 1×1×1 → 3×3×3; b2 = 1×1×1 → 3×3×3; b3 = max-pool 3×3×3 stride 1 → 1×1×1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InceptionSpec {
    /// Input channels.
    pub cin: usize,
    /// Branch 0, `Branch_0.Conv3d_0a_1x1`.
    pub b0: ConvSpec,
    /// Branch 1 reduction, `Branch_1.Conv3d_0a_1x1`.
    pub b1a: ConvSpec,
    /// Branch 1 3×3×3, `Branch_1.Conv3d_0b_3x3`.
    pub b1b: ConvSpec,
    /// Branch 2 reduction, `Branch_2.Conv3d_0a_1x1`.
    pub b2a: ConvSpec,
    /// Branch 2 3×3×3, `Branch_2.Conv3d_0b_3x3`.
    pub b2b: ConvSpec,
    /// The max-pool of branch 3 (3×3×3, stride 1).
    pub b3_pool: PoolSpec,
    /// Branch 3 projection after the pool, `Branch_3.Conv3d_0b_1x1`.
    pub b3: ConvSpec,
}

impl InceptionSpec {
    /// Output channels: b0 + b1b + b2b + b3.
    pub const fn cout(&self) -> usize {
        self.b0.cout + self.b1b.cout + self.b2b.cout + self.b3.cout
    }

    /// All six convolutions, in weight-file order (b0, b1a, b1b, b2a, b2b, b3).
    pub const fn convs(&self) -> [ConvSpec; 6] {
        [self.b0, self.b1a, self.b1b, self.b2a, self.b2b, self.b3]
    }

    /// Output shape (spatial size unchanged, channels [`InceptionSpec::cout`]).
    pub fn output_shape(&self, input: Shape) -> Result<Shape, Error> {
        for conv in [self.b0, self.b1a, self.b2a, self.b3] {
            conv.output_shape(input)?;
        }
        Ok(Shape {
            c: self.cout(),
            ..input
        })
    }

    /// Multiply-adds of the six convolutions.
    pub fn macs(&self, input: Shape) -> Result<u64, Error> {
        let b1 = self.b1a.output_shape(input)?;
        let b2 = self.b2a.output_shape(input)?;
        Ok(self.b0.macs(input)?
            + self.b1a.macs(input)?
            + self.b1b.macs(b1)?
            + self.b2a.macs(input)?
            + self.b2b.macs(b2)?
            + self.b3.macs(input)?)
    }
}

/// What a layer does.
// The table is `const` data, built once and walked by reference: boxing the large variant would
// only make it non-`const`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Convolution (TF `SAME`, zero padding), bias, optional ReLU.
    Conv(ConvSpec),
    /// Max-pooling (TF `SAME`, −∞ padding).
    MaxPool(PoolSpec),
    /// An Inception module.
    Inception(InceptionSpec),
    /// Average pooling, VALID, stride 1, over a window (kt, kh, kw): N×T×H×W×C → N×(T−kt+1)×(H−kh+1)×(W−kw+1)×C.
    AvgPool {
        /// Window extent (kt, kh, kw).
        kernel: Dims3,
    },
    /// The classifier: a 1×1×1 conv with bias and no ReLU, then the mean over the remaining
    /// positions: N×T'×1×1×C → N×classes.
    Logits(ConvSpec),
}

/// One entry of the layer table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer {
    /// Endpoint name, as in the reference implementation (`Conv3d_1a_7x7`, `MaxPool3d_2a_3x3`, `Mixed_3b`, …).
    pub name: &'static str,
    /// The operation.
    pub op: Op,
}

impl Layer {
    /// Output shape for the given input shape. The logits' shape is N×1×1×1×classes.
    pub fn output_shape(&self, input: Shape) -> Result<Shape, Error> {
        match &self.op {
            Op::Conv(conv) => conv.output_shape(input),
            Op::MaxPool(pool) => Ok(pool.output_shape(input)),
            Op::Inception(block) => block.output_shape(input),
            Op::AvgPool { kernel } => {
                let [kt, kh, kw] = *kernel;
                if input.t < kt || input.h < kh || input.w < kw {
                    return Err(Error::TooSmall {
                        layer: self.name,
                        need: *kernel,
                        got: input.thw(),
                    });
                }
                Ok(Shape {
                    t: input.t - kt + 1,
                    h: input.h - kh + 1,
                    w: input.w - kw + 1,
                    ..input
                })
            }
            Op::Logits(conv) => {
                conv.output_shape(input)?;
                Ok(Shape {
                    n: input.n,
                    t: 1,
                    h: 1,
                    w: 1,
                    c: conv.cout,
                })
            }
        }
    }

    /// Multiply-adds of this layer for the given input (convolutions only; pools are not counted).
    pub fn macs(&self, input: Shape) -> Result<u64, Error> {
        match &self.op {
            Op::Conv(conv) | Op::Logits(conv) => conv.macs(input),
            Op::Inception(block) => block.macs(input),
            Op::MaxPool(_) | Op::AvgPool { .. } => Ok(0),
        }
    }

    /// The convolutions of this layer (weights to load), in order.
    pub fn convs(&self) -> Vec<ConvSpec> {
        match &self.op {
            Op::Conv(conv) | Op::Logits(conv) => vec![*conv],
            Op::Inception(block) => block.convs().to_vec(),
            Op::MaxPool(_) | Op::AvgPool { .. } => Vec::new(),
        }
    }
}

/// A 5-D activation shape N×T×H×W×C (channels last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Shape {
    /// Batch.
    pub n: usize,
    /// Time (frames).
    pub t: usize,
    /// Height (pixels).
    pub h: usize,
    /// Width (pixels).
    pub w: usize,
    /// Channels.
    pub c: usize,
}

impl Shape {
    /// The network input for a clip of `frames` frames: 1×T×224×224×3.
    pub const fn clip(frames: usize) -> Self {
        Shape {
            n: 1,
            t: frames,
            h: INPUT_SIZE,
            w: INPUT_SIZE,
            c: 3,
        }
    }

    /// (t, h, w).
    pub const fn thw(&self) -> Dims3 {
        [self.t, self.h, self.w]
    }

    /// Number of positions N·T·H·W.
    pub const fn positions(&self) -> usize {
        self.n * self.t * self.h * self.w
    }

    /// Number of elements N·T·H·W·C.
    pub const fn elements(&self) -> usize {
        self.positions() * self.c
    }

    /// As an array [n, t, h, w, c].
    pub const fn dims(&self) -> [usize; 5] {
        [self.n, self.t, self.h, self.w, self.c]
    }

    /// From a 5-D dims slice [n, t, h, w, c].
    pub fn from_dims(dims: &[usize]) -> Result<Self, Error> {
        match dims {
            [n, t, h, w, c] => Ok(Shape {
                n: *n,
                t: *t,
                h: *h,
                w: *w,
                c: *c,
            }),
            _ => Err(Error::Rank { got: dims.to_vec() }),
        }
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}×{}×{}×{}×{}", self.n, self.t, self.h, self.w, self.c)
    }
}

/// TF `SAME` padding along one axis: returns (output size, pad before, pad after).
///
/// out = ⌈in / stride⌉, total = max((out − 1)·stride + k − in, 0), before = ⌊total / 2⌋, after = the rest.
pub const fn same_padding(input: usize, kernel: usize, stride: usize) -> (usize, usize, usize) {
    let out = input.div_ceil(stride);
    let total = (out.saturating_sub(1) * stride + kernel).saturating_sub(input);
    let before = total / 2;
    (out, before, total - before)
}

/// TF `SAME` output extent for each axis.
pub fn same_output(input: Dims3, stride: Dims3) -> Dims3 {
    [
        input[0].div_ceil(stride[0]),
        input[1].div_ceil(stride[1]),
        input[2].div_ceil(stride[2]),
    ]
}

const fn conv(name: &'static str, k: usize, s: usize, cin: usize, cout: usize) -> ConvSpec {
    ConvSpec {
        name,
        kernel: [k, k, k],
        stride: [s, s, s],
        cin,
        cout,
        relu: true,
    }
}

/// Builds an [`InceptionSpec`] from the block name, input channels and the six widths
/// [b0, b1a, b1b, b2a, b2b, b3] as listed in the paper.
macro_rules! inception {
    ($name:literal, $cin:expr, [$b0:expr, $b1a:expr, $b1b:expr, $b2a:expr, $b2b:expr, $b3:expr]) => {
        Layer {
            name: $name,
            op: Op::Inception(InceptionSpec {
                cin: $cin,
                b0: conv(concat!($name, ".Branch_0.Conv3d_0a_1x1"), 1, 1, $cin, $b0),
                b1a: conv(concat!($name, ".Branch_1.Conv3d_0a_1x1"), 1, 1, $cin, $b1a),
                b1b: conv(concat!($name, ".Branch_1.Conv3d_0b_3x3"), 3, 1, $b1a, $b1b),
                b2a: conv(concat!($name, ".Branch_2.Conv3d_0a_1x1"), 1, 1, $cin, $b2a),
                b2b: conv(concat!($name, ".Branch_2.Conv3d_0b_3x3"), 3, 1, $b2a, $b2b),
                b3_pool: PoolSpec {
                    kernel: [3, 3, 3],
                    stride: [1, 1, 1],
                },
                b3: conv(concat!($name, ".Branch_3.Conv3d_0b_1x1"), 1, 1, $cin, $b3),
            }),
        }
    };
}

/// The RGB I3D of Kinetics-400, input N×T×224×224×3 in [−1, 1], output N×400 logits.
pub const I3D_LAYERS: &[Layer] = &[
    Layer {
        name: "Conv3d_1a_7x7",
        op: Op::Conv(conv("Conv3d_1a_7x7", 7, 2, 3, 64)),
    },
    Layer {
        name: "MaxPool3d_2a_3x3",
        op: Op::MaxPool(PoolSpec {
            kernel: [1, 3, 3],
            stride: [1, 2, 2],
        }),
    },
    Layer {
        name: "Conv3d_2b_1x1",
        op: Op::Conv(conv("Conv3d_2b_1x1", 1, 1, 64, 64)),
    },
    Layer {
        name: "Conv3d_2c_3x3",
        op: Op::Conv(conv("Conv3d_2c_3x3", 3, 1, 64, 192)),
    },
    Layer {
        name: "MaxPool3d_3a_3x3",
        op: Op::MaxPool(PoolSpec {
            kernel: [1, 3, 3],
            stride: [1, 2, 2],
        }),
    },
    inception!("Mixed_3b", 192, [64, 96, 128, 16, 32, 32]),
    inception!("Mixed_3c", 256, [128, 128, 192, 32, 96, 64]),
    Layer {
        name: "MaxPool3d_4a_3x3",
        op: Op::MaxPool(PoolSpec {
            kernel: [3, 3, 3],
            stride: [2, 2, 2],
        }),
    },
    inception!("Mixed_4b", 480, [192, 96, 208, 16, 48, 64]),
    inception!("Mixed_4c", 512, [160, 112, 224, 24, 64, 64]),
    inception!("Mixed_4d", 512, [128, 128, 256, 24, 64, 64]),
    inception!("Mixed_4e", 512, [112, 144, 288, 32, 64, 64]),
    inception!("Mixed_4f", 528, [256, 160, 320, 32, 128, 128]),
    Layer {
        name: "MaxPool3d_5a_2x2",
        op: Op::MaxPool(PoolSpec {
            kernel: [2, 2, 2],
            stride: [2, 2, 2],
        }),
    },
    inception!("Mixed_5b", 832, [256, 160, 320, 32, 128, 128]),
    inception!("Mixed_5c", 832, [384, 192, 384, 48, 128, 128]),
    Layer {
        name: "AvgPool3d_5d_2x7x7",
        op: Op::AvgPool { kernel: [2, 7, 7] },
    },
    Layer {
        name: "Logits",
        op: Op::Logits(ConvSpec {
            name: "Logits.Conv3d_0c_1x1",
            kernel: [1, 1, 1],
            stride: [1, 1, 1],
            cin: FEATURE_CHANNELS,
            cout: NUM_CLASSES,
            relu: false,
        }),
    },
];

/// A layer of [`I3D_LAYERS`], by position: how executors, profiles and the engine name a layer
/// (its [`LayerId::name`] is for people and the wire). Only the table makes them, so every id
/// names a layer that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LayerId(usize);

impl LayerId {
    /// Every layer, in network order (`Conv3d_1a_7x7` … `Logits`).
    pub fn all() -> impl DoubleEndedIterator<Item = LayerId> + ExactSizeIterator {
        (0..I3D_LAYERS.len()).map(LayerId)
    }

    /// The layers whose output is an N×T×H×W×C activation a visitor can look at (the convolutions,
    /// pools and Inception blocks, `Conv3d_1a_7x7` … `Mixed_5c`), in order.
    pub fn inspectable() -> impl Iterator<Item = LayerId> {
        LayerId::all().filter(|id| id.is_inspectable())
    }

    /// The layer named `name`, if the table has one (a const fn, so constants such as
    /// [`FEATURE_LAYER`] are checked when compiled).
    pub const fn named(name: &str) -> Option<LayerId> {
        let mut i = 0;
        while i < I3D_LAYERS.len() {
            if same_name(I3D_LAYERS[i].name, name) {
                return Some(LayerId(i));
            }
            i += 1;
        }
        None
    }

    /// Position in [`I3D_LAYERS`].
    pub const fn index(self) -> usize {
        self.0
    }

    /// The layer's table entry.
    pub const fn layer(self) -> &'static Layer {
        &I3D_LAYERS[self.0]
    }

    /// The layer's name (`Conv3d_1a_7x7`, `Mixed_3b`, …), as the reference implementation and the
    /// page say it.
    pub const fn name(self) -> &'static str {
        I3D_LAYERS[self.0].name
    }

    /// Whether the layer's output is an activation a visitor can look at (see [`LayerId::inspectable`]).
    pub const fn is_inspectable(self) -> bool {
        matches!(
            I3D_LAYERS[self.0].op,
            Op::Conv(_) | Op::MaxPool(_) | Op::Inception(_)
        )
    }
}

impl std::fmt::Display for LayerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Byte equality of two names, usable in constants (layer names here, kernel names in `i3d-gpu`).
pub const fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The layer whose output is the clip's features (1×⌈T/8⌉×7×7×[`FEATURE_CHANNELS`]): the input of the
/// classifier, what class activation maps are made from. Named here once.
pub const FEATURE_LAYER: LayerId = match LayerId::named("Mixed_5c") {
    Some(id) => id,
    None => panic!("the layer table has no Mixed_5c"),
};

/// Checks a clip input shape: N×T×224×224×3 with [`MIN_FRAMES`] ≤ T ≤ [`MAX_FRAMES`].
pub fn check_input(input: Shape) -> Result<(), Error> {
    check_frames(input.t)?;
    if input.h != INPUT_SIZE || input.w != INPUT_SIZE || input.c != 3 || input.n == 0 {
        return Err(Error::InputShape {
            got: input.dims().to_vec(),
        });
    }
    Ok(())
}

/// Checks a clip's frame count: [`MIN_FRAMES`] ≤ `frames` ≤ [`MAX_FRAMES`].
pub fn check_frames(frames: usize) -> Result<(), Error> {
    if frames < MIN_FRAMES {
        return Err(Error::TooFewFrames {
            frames,
            min: MIN_FRAMES,
        });
    }
    if frames > MAX_FRAMES {
        return Err(Error::TooManyFrames {
            frames,
            max: MAX_FRAMES,
        });
    }
    Ok(())
}

/// Output shape of every layer of `layers` for `input`, in order (the last is N×1×1×1×classes).
pub fn output_shapes(layers: &[Layer], input: Shape) -> Result<Vec<Shape>, Error> {
    let mut shape = input;
    let mut shapes = Vec::with_capacity(layers.len());
    for layer in layers {
        shape = layer.output_shape(shape)?;
        shapes.push(shape);
    }
    Ok(shapes)
}

/// Multiply-adds of each layer of `layers` for `input`, in order.
pub fn layer_macs(layers: &[Layer], input: Shape) -> Result<Vec<u64>, Error> {
    let mut shape = input;
    let mut macs = Vec::with_capacity(layers.len());
    for layer in layers {
        macs.push(layer.macs(shape)?);
        shape = layer.output_shape(shape)?;
    }
    Ok(macs)
}

/// Total multiply-adds of I3D for a clip of `frames` frames (1×T×224×224×3). 1 MAC = 2 FLOP.
pub fn macs(frames: usize) -> Result<u64, Error> {
    let input = Shape::clip(frames);
    check_input(input)?;
    Ok(layer_macs(I3D_LAYERS, input)?.iter().sum())
}

/// Number of time positions the logits are averaged over for a clip of `frames` frames.
pub fn logit_positions(frames: usize) -> Result<usize, Error> {
    let input = Shape::clip(frames);
    check_input(input)?;
    let shapes = output_shapes(I3D_LAYERS, input)?;
    let pooled = shapes
        .iter()
        .zip(I3D_LAYERS)
        .find(|(_, layer)| matches!(layer.op, Op::AvgPool { .. }))
        .map(|(shape, _)| shape.t * shape.h * shape.w);
    Ok(pooled.unwrap_or(1))
}

/// Every convolution of the table, in order (the weights a checkpoint must hold).
pub fn all_convs(layers: &[Layer]) -> Vec<ConvSpec> {
    layers.iter().flat_map(Layer::convs).collect()
}

/// Parameters of I3D after BatchNorm folding: every convolution's weights and bias (12,689,984).
pub fn parameters() -> usize {
    all_convs(I3D_LAYERS)
        .iter()
        .map(|conv| conv.weight_len() + conv.cout)
        .sum()
}

#[cfg(test)]
mod tests;
