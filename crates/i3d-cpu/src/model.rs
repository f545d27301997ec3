//! The I3D network (Carreira & Zisserman, "Quo Vadis, Action Recognition?", CVPR 2017,
//! <https://arxiv.org/abs/1705.07750>) on candle's CPU device, built by walking
//! [`i3d_core::arch::I3D_LAYERS`].
//!
//! Input: N×T×224×224×3 f32 in [−1, 1] (NTHWC, RGB), T ≥ 9. Output: N×400 Kinetics-400 logits.
//! Weights: a safetensors file with BatchNorm folded (`P.weight` (kt, kh, kw, cin, cout),
//! `P.bias` (cout), f32 or f16; f16 is widened to f32 at load).

use std::sync::Mutex;

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::VarBuilder;

use crate::kernels::{Buffer, Workspace};
use crate::layers::{
    prepare, shape5, AvgPool3dValid, InceptionBlock, Logits, MaxPool3dSame, Unit3d,
};
use crate::Error;
use i3d_core::arch::{self, LayerId, Op, Shape, FEATURE_LAYER};

/// The executable form of one [`i3d_core::arch::Layer`].
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
    /// Runs the block on `x` (contiguous f32), its output in a buffer of `workspace` (the small
    /// average-pool and logits outputs are ordinary tensors).
    pub fn forward_ws(&self, x: &Tensor, workspace: &mut Workspace) -> candle_core::Result<Buffer> {
        match self {
            Block::Unit(unit) => unit.forward_ws(x, workspace),
            Block::MaxPool(pool) => pool.forward_ws(x, workspace),
            Block::Inception(block) => block.forward_ws(x, workspace),
            Block::AvgPool(pool) => Ok(Buffer::detached(pool.forward(x)?)),
            Block::Logits(logits) => Ok(Buffer::detached(logits.forward(x)?)),
        }
    }
}

/// Inception-v1 I3D, RGB stream, Kinetics-400.
///
/// Keeps the activation buffers of its last run for the next one (see [`Workspace`]);
/// [`InceptionI3d::release_buffers`] frees them.
#[derive(Debug)]
pub struct InceptionI3d {
    /// The layer table and its executable blocks, in order.
    pub blocks: Vec<(LayerId, Block)>,
    workspace: Mutex<Workspace>,
}

impl Clone for InceptionI3d {
    fn clone(&self) -> Self {
        InceptionI3d {
            blocks: self.blocks.clone(),
            workspace: Mutex::default(),
        }
    }
}

impl InceptionI3d {
    /// Builds the network from a `VarBuilder` rooted at the weight names (`Conv3d_1a_7x7.weight`, …).
    pub fn new(vb: VarBuilder) -> Result<Self, Error> {
        // Each layer's input plane (H, W): fixed by the 224×224 input, whatever the clip length.
        let clip = Shape::clip(arch::MIN_FRAMES);
        let mut planes = vec![(clip.h, clip.w)];
        planes.extend(
            arch::output_shapes(arch::I3D_LAYERS, clip)?
                .iter()
                .map(|s| (s.h, s.w)),
        );
        let blocks = LayerId::all()
            .zip(planes)
            .map(|(id, plane)| {
                let layer = id.layer();
                let block = match layer.op {
                    Op::Conv(spec) => Block::Unit(Unit3d::new(spec, vb.pp(spec.name), plane)?),
                    Op::MaxPool(spec) => Block::MaxPool(MaxPool3dSame::new(spec)),
                    Op::Inception(spec) => Block::Inception(Box::new(InceptionBlock::new(
                        spec,
                        vb.pp(layer.name),
                        plane,
                    )?)),
                    Op::AvgPool { kernel } => Block::AvgPool(AvgPool3dValid { kernel }),
                    Op::Logits(spec) => Block::Logits(Logits {
                        conv: Unit3d::new(spec, vb.pp(spec.name), plane)?,
                    }),
                };
                Ok((id, block))
            })
            .collect::<Result<Vec<_>, Error>>()
            .map_err(|e| match e {
                Error::Candle(e) => Error::weights(e.to_string()),
                e => e,
            })?;
        Ok(InceptionI3d {
            blocks,
            workspace: Mutex::default(),
        })
    }

    /// Frees the activation buffers kept from the last run.
    pub fn release_buffers(&self) {
        if let Ok(mut workspace) = self.workspace.lock() {
            *workspace = Workspace::default();
        }
    }

    /// Bytes of weights and biases held, in the forms the kernels use (f32; Winograd layers keep
    /// only their transformed weights).
    pub fn weight_bytes(&self) -> usize {
        self.blocks
            .iter()
            .map(|(_, block)| match block {
                Block::Unit(unit) => unit.weight_bytes(),
                Block::Inception(block) => block.weight_bytes(),
                Block::Logits(logits) => logits.conv.weight_bytes(),
                Block::MaxPool(_) | Block::AvgPool(_) => 0,
            })
            .sum()
    }

    /// Bytes of activation buffers kept from the last run.
    pub fn buffer_bytes(&self) -> usize {
        self.workspace.lock().map_or(0, |w| w.bytes())
    }

    /// Runs the blocks on `x` with the model's workspace (or a fresh one if another run holds it),
    /// calling `visit` after each; stops after the layer `until` if given.
    fn run(
        &self,
        x: &Tensor,
        until: Option<LayerId>,
        mut visit: impl FnMut(LayerId, &Tensor),
    ) -> Result<Tensor, Error> {
        Self::check_input(x)?;
        let x = prepare(x)?;
        let mut own = None;
        let mut guard = self.workspace.try_lock().ok();
        let workspace = match guard.as_deref_mut() {
            Some(w) => w,
            None => own.insert(Workspace::default()),
        };
        let mut current: Option<Buffer> = None;
        for &(id, ref block) in &self.blocks {
            let input = current.as_ref().map_or(&x, |b| &b.view);
            let out = block.forward_ws(input, workspace)?;
            visit(id, &out.view);
            if let Some(previous) = current.replace(out) {
                workspace.give(previous);
            }
            if until == Some(id) {
                break;
            }
        }
        match current {
            // The output is handed to the caller: copy it out if it lives in the workspace.
            Some(out) if until.is_some() => Ok(out.view.copy()?),
            Some(out) => Ok(out.view),
            None => Err(Error::weights("the network has no layers")),
        }
    }

    /// Builds the network from the bytes of a safetensors weights file (f32 or f16).
    /// Works the same in the browser (wasm32) and natively.
    pub fn from_safetensors_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let vb = VarBuilder::from_slice_safetensors(bytes, DType::F32, &Device::Cpu)
            .map_err(|e| Error::weights(format!("not a safetensors file: {e}")))?;
        Self::new(vb)
    }

    /// Reads a safetensors weights file (f32 or f16) and builds the network.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_file(path: &std::path::Path) -> Result<Self, Error> {
        let bytes = std::fs::read(path).map_err(|source| i3d_core::Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_safetensors_bytes(&bytes).map_err(|e| match e {
            Error::Network(i3d_core::Error::Weights(msg)) => {
                Error::weights(format!("{}: {msg}", path.display()))
            }
            e => e,
        })
    }

    /// Checks that `x` is a clip the network accepts: N×T×224×224×3 with T ≥ 9.
    pub fn check_input(x: &Tensor) -> Result<Shape, Error> {
        let shape = Shape::from_dims(x.dims()).map_err(|_| i3d_core::Error::InputShape {
            got: x.dims().to_vec(),
        })?;
        arch::check_input(shape)?;
        Ok(shape)
    }

    /// Runs the network on `x` (N×T×224×224×3, values in [−1, 1]) and calls `visit` with every
    /// layer's output as it is produced (endpoints `Conv3d_1a_7x7` … `Mixed_5c`,
    /// `AvgPool3d_5d_2x7x7`, and `Logits` N×400). Returns the logits (N×400).
    ///
    /// The tensors passed to `visit` up to `Mixed_5c` live in recycled buffers: read them in the
    /// callback, or keep a `.copy()`.
    pub fn forward_endpoints(
        &self,
        x: &Tensor,
        visit: impl FnMut(LayerId, &Tensor),
    ) -> Result<Tensor, Error> {
        self.run(x, None, visit)
    }

    /// The output of `layer` (one of [`LayerId::inspectable`]: `Conv3d_1a_7x7` … `Mixed_5c`,
    /// N×T'×H'×W'×C) for a clip N×T×224×224×3: the network runs up to that layer and stops.
    /// `visit` is called after each layer, as in [`Self::forward_endpoints`].
    pub fn endpoint(
        &self,
        x: &Tensor,
        layer: LayerId,
        visit: impl FnMut(LayerId, &Tensor),
    ) -> Result<Tensor, Error> {
        let layer = i3d_core::anatomy::check_inspectable_id(layer)?;
        self.run(x, Some(layer), visit)
    }

    /// Logits N×400 for a clip N×T×224×224×3 (values in [−1, 1]).
    pub fn logits(&self, x: &Tensor) -> Result<Tensor, Error> {
        self.run(x, None, |_, _| {})
    }

    /// The features ([`FEATURE_LAYER`]'s output) N×T'×7×7×1024 (T' = ⌈T/8⌉) of a clip N×T×224×224×3.
    pub fn features(&self, x: &Tensor) -> Result<Tensor, Error> {
        let features = self.run(x, Some(FEATURE_LAYER), |_, _| {})?;
        shape5(&features)?;
        Ok(features)
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
