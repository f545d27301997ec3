//! Backend selection and a backend-independent classifier.
//!
//! [`Backend::select`] picks wgpu when an adapter with sufficient limits exists and the candle CPU
//! path otherwise, and records why ([`Selection::reason`]). [`Classifier`] runs a clip on either.

use candle_core::{Device, Tensor};
use i3d::arch::Shape;
use i3d::InceptionI3d;

use crate::context::GpuContext;
use crate::kernels::Precision;
use crate::model::{GpuI3d, RunOptions};
use crate::Error;

/// What the caller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preference {
    /// wgpu on a hardware adapter, else the CPU.
    #[default]
    Auto,
    /// wgpu, or an error.
    Wgpu,
    /// The candle CPU path.
    Cpu,
}

impl std::str::FromStr for Preference {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "auto" => Ok(Preference::Auto),
            "wgpu" | "gpu" | "webgpu" => Ok(Preference::Wgpu),
            "cpu" => Ok(Preference::Cpu),
            other => Err(Error::Shape(format!(
                "unknown backend `{other}` (expected auto, wgpu or cpu)"
            ))),
        }
    }
}

/// An executor, ready to load weights.
#[derive(Debug, Clone)]
pub enum Backend {
    /// wgpu on this device.
    Wgpu(GpuContext),
    /// candle on the CPU.
    Cpu,
}

/// The chosen backend and why it was chosen.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The backend.
    pub backend: Backend,
    /// A sentence for logs and UIs.
    pub reason: String,
}

impl Backend {
    /// Chooses a backend. Only [`Preference::Wgpu`] can fail (no usable adapter); [`Preference::Auto`]
    /// falls back to the CPU with the reason recorded. `Auto` also prefers the CPU path to a
    /// software adapter (lavapipe natively, SwiftShader in the browser), which runs on the same
    /// cores much slower than the CPU path (measured: 30× natively, ~10× in Chromium).
    pub async fn select(preference: Preference) -> Result<Selection, Error> {
        match preference {
            Preference::Cpu => Ok(Selection {
                backend: Backend::Cpu,
                reason: "the candle CPU path was asked for".into(),
            }),
            Preference::Wgpu => {
                let ctx = GpuContext::new().await?;
                let reason = format!("wgpu was asked for: {}", ctx.summary);
                Ok(Selection {
                    backend: Backend::Wgpu(ctx),
                    reason,
                })
            }
            Preference::Auto => match GpuContext::new().await {
                Ok(ctx) if ctx.summary.device_type == "Cpu" => {
                    Ok(Selection {
                        backend: Backend::Cpu,
                        reason: format!(
                            "the best adapter, {}, is a software one; the candle CPU path is faster on the same cores",
                            ctx.summary.name
                        ),
                    })
                }
                Ok(ctx) => {
                    let reason = format!("adapter with sufficient limits: {}", ctx.summary);
                    Ok(Selection {
                        backend: Backend::Wgpu(ctx),
                        reason,
                    })
                }
                Err(e) => Ok(Selection {
                    backend: Backend::Cpu,
                    reason: format!("no usable WebGPU adapter ({e}); using the candle CPU path"),
                }),
            },
        }
    }

    /// [`Backend::select`], blocking (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn select_blocking(preference: Preference) -> Result<Selection, Error> {
        pollster::block_on(Self::select(preference))
    }

    /// `wgpu` or `cpu`.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Wgpu(_) => "wgpu",
            Backend::Cpu => "cpu",
        }
    }
}

/// I3D on the selected backend.
#[derive(Debug)]
pub enum Classifier {
    /// On a wgpu device.
    Wgpu(Box<GpuI3d>),
    /// On the CPU (candle).
    Cpu(Box<InceptionI3d>),
}

impl Classifier {
    /// Loads the weights (safetensors bytes, f32 or f16) on `backend`. On wgpu, `precision`
    /// defaults to the device's best ([`GpuContext::best_precision`]).
    pub fn new(
        backend: Backend,
        weights: &[u8],
        precision: Option<Precision>,
    ) -> Result<Self, Error> {
        match backend {
            Backend::Wgpu(ctx) => {
                let precision = precision.unwrap_or_else(|| ctx.best_precision());
                Ok(Classifier::Wgpu(Box::new(GpuI3d::new(
                    ctx, weights, precision,
                )?)))
            }
            Backend::Cpu => Ok(Classifier::Cpu(Box::new(
                InceptionI3d::from_safetensors_bytes(weights)?,
            ))),
        }
    }

    /// `wgpu` or `cpu`.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Classifier::Wgpu(_) => "wgpu",
            Classifier::Cpu(_) => "cpu",
        }
    }

    /// Logits (400) of a clip: `input` is 1×`frames`×224×224×3 in [−1, 1].
    pub async fn run(&mut self, input: &[f32], frames: usize) -> Result<Vec<f32>, Error> {
        Ok(self.run_with(input, frames, false).await?.0)
    }

    /// Logits (400) and, when `features` is set, the Mixed_5c features (1×⌈T/8⌉×7×7×1024, for
    /// class activation maps) of a clip, computed on this backend.
    pub async fn run_with(
        &mut self,
        input: &[f32],
        frames: usize,
        features: bool,
    ) -> Result<(Vec<f32>, Option<(Vec<f32>, Shape)>), Error> {
        match self {
            Classifier::Wgpu(model) => {
                let options = RunOptions {
                    features,
                    profile: false,
                };
                let output = model.run(input, frames, options).await?;
                Ok((output.logits, output.features))
            }
            Classifier::Cpu(model) => {
                let shape = Shape::clip(frames);
                if input.len() != shape.elements() {
                    return Err(Error::InputLength {
                        got: input.len(),
                        expected: shape.elements(),
                        frames,
                    });
                }
                let x = Tensor::from_slice(input, shape.dims().to_vec(), &Device::Cpu)
                    .map_err(i3d::Error::from)?;
                let mut mixed_5c = None;
                let mut failure = None;
                let logits = model.forward_endpoints(&x, |layer, t| {
                    if features && layer.name == "Mixed_5c" {
                        let read = t
                            .flatten_all()
                            .and_then(|flat| flat.to_vec1::<f32>())
                            .map_err(i3d::Error::from)
                            .and_then(|values| Ok((values, Shape::from_dims(t.dims())?)));
                        match read {
                            Ok(read) => mixed_5c = Some(read),
                            Err(e) => failure = Some(e),
                        }
                    }
                })?;
                if let Some(e) = failure {
                    return Err(e.into());
                }
                let logits = logits
                    .flatten_all()
                    .and_then(|t| t.to_vec1::<f32>())
                    .map_err(i3d::Error::from)?;
                Ok((logits, mixed_5c))
            }
        }
    }

    /// [`Classifier::run`], blocking (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run_blocking(&mut self, input: &[f32], frames: usize) -> Result<Vec<f32>, Error> {
        pollster::block_on(self.run(input, frames))
    }
}
