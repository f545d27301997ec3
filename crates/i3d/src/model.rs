//! The I3D network (Carreira & Zisserman, "Quo Vadis, Action Recognition?", CVPR 2017,
//! <https://arxiv.org/abs/1705.07750>) on candle's CPU device, built by walking
//! [`crate::arch::I3D_LAYERS`].
//!
//! Input: N×T×224×224×3 f32 in [−1, 1] (NTHWC, RGB), T ≥ 9. Output: N×400 Kinetics-400 logits.
//! Weights: a safetensors file with BatchNorm folded (`P.weight` (kt, kh, kw, cin, cout),
//! `P.bias` (cout), f32 or f16; f16 is widened to f32 at load).

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::VarBuilder;

use crate::arch::{self, Layer, Op, Shape, I3D_LAYERS};
use crate::kernels::Scratch;
use crate::layers::{shape5, AvgPool3dValid, InceptionBlock, Logits, MaxPool3dSame, Unit3d};
use crate::Error;

/// The executable form of one [`Layer`].
#[derive(Debug, Clone)]
pub enum Block {
    /// Conv + ReLU.
    Unit(Unit3d),
    /// Max-pool.
    MaxPool(MaxPool3dSame),
    /// Inception module.
    Inception(Box<InceptionBlock>),
    /// VALID average pool.
    AvgPool(AvgPool3dValid),
    /// Classifier.
    Logits(Logits),
}

impl Block {
    fn forward(&self, x: &Tensor, scratch: &mut Scratch) -> candle_core::Result<Tensor> {
        match self {
            Block::Unit(unit) => unit.forward_with(x, scratch),
            Block::MaxPool(pool) => pool.forward(x),
            Block::Inception(block) => block.forward_with(x, scratch),
            Block::AvgPool(pool) => pool.forward(x),
            Block::Logits(logits) => logits.forward(x),
        }
    }
}

/// Inception-v1 I3D, RGB stream, Kinetics-400.
#[derive(Debug, Clone)]
pub struct InceptionI3d {
    /// The layer table and its executable blocks, in order.
    pub blocks: Vec<(Layer, Block)>,
}

impl InceptionI3d {
    /// Builds the network from a `VarBuilder` rooted at the weight names (`Conv3d_1a_7x7.weight`, …).
    pub fn new(vb: VarBuilder) -> Result<Self, Error> {
        let blocks = I3D_LAYERS
            .iter()
            .map(|layer| {
                let block = match layer.op {
                    Op::Conv(spec) => Block::Unit(Unit3d::new(spec, vb.pp(spec.name))?),
                    Op::MaxPool(spec) => Block::MaxPool(MaxPool3dSame::new(spec)),
                    Op::Inception(spec) => {
                        Block::Inception(Box::new(InceptionBlock::new(spec, vb.pp(layer.name))?))
                    }
                    Op::AvgPool { kernel } => Block::AvgPool(AvgPool3dValid { kernel }),
                    Op::Logits(spec) => Block::Logits(Logits {
                        conv: Unit3d::new(spec, vb.pp(spec.name))?,
                    }),
                };
                Ok((*layer, block))
            })
            .collect::<Result<Vec<_>, Error>>()
            .map_err(|e| match e {
                Error::Candle(e) => Error::Weights(e.to_string()),
                e => e,
            })?;
        Ok(InceptionI3d { blocks })
    }

    /// Builds the network from the bytes of a safetensors weights file (f32 or f16).
    /// Works the same in the browser (wasm32) and natively.
    pub fn from_safetensors_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let vb = VarBuilder::from_slice_safetensors(bytes, DType::F32, &Device::Cpu)
            .map_err(|e| Error::Weights(format!("not a safetensors file: {e}")))?;
        Self::new(vb)
    }

    /// Reads a safetensors weights file (f32 or f16) and builds the network.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_file(path: &std::path::Path) -> Result<Self, Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_safetensors_bytes(&bytes).map_err(|e| match e {
            Error::Weights(msg) => Error::Weights(format!("{}: {msg}", path.display())),
            e => e,
        })
    }

    /// Checks that `x` is a clip the network accepts: N×T×224×224×3 with T ≥ 9.
    pub fn check_input(x: &Tensor) -> Result<Shape, Error> {
        let shape = Shape::from_dims(x.dims()).map_err(|_| Error::InputShape {
            got: x.dims().to_vec(),
        })?;
        arch::check_input(shape)?;
        Ok(shape)
    }

    /// Runs the network on `x` (N×T×224×224×3, values in [−1, 1]) and calls `visit` with every
    /// layer's output as it is produced (endpoints `Conv3d_1a_7x7` … `Mixed_5c`,
    /// `AvgPool3d_5d_2x7x7`, and `Logits` N×400). Returns the logits (N×400).
    pub fn forward_endpoints(
        &self,
        x: &Tensor,
        mut visit: impl FnMut(&Layer, &Tensor),
    ) -> Result<Tensor, Error> {
        Self::check_input(x)?;
        let mut scratch = Scratch::default();
        let mut x = x.to_dtype(DType::F32)?.contiguous()?;
        for (layer, block) in &self.blocks {
            x = block.forward(&x, &mut scratch)?;
            visit(layer, &x);
        }
        Ok(x)
    }

    /// Logits N×400 for a clip N×T×224×224×3 (values in [−1, 1]).
    pub fn logits(&self, x: &Tensor) -> Result<Tensor, Error> {
        self.forward_endpoints(x, |_, _| {})
    }

    /// The Mixed_5c features N×T'×7×7×1024 (T' = ⌈T/8⌉) of a clip N×T×224×224×3.
    pub fn features(&self, x: &Tensor) -> Result<Tensor, Error> {
        Self::check_input(x)?;
        let mut scratch = Scratch::default();
        let mut x = x.to_dtype(DType::F32)?.contiguous()?;
        for (layer, block) in &self.blocks {
            x = block.forward(&x, &mut scratch)?;
            if layer.name == "Mixed_5c" {
                shape5(&x)?;
                return Ok(x);
            }
        }
        Err(Error::Weights("the layer table has no Mixed_5c".into()))
    }
}

impl Module for InceptionI3d {
    /// Logits N×400 for a clip N×T×224×224×3.
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.logits(x).map_err(|e| match e {
            Error::Candle(e) => e,
            e => candle_core::Error::wrap(e),
        })
    }
}
