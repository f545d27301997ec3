//! The engine: everything between "here are the weights and some frames" and "these are the classes",
//! written once for the native command line and the browser's classifier worker.
//!
//! - **Backend selection** ([`select`]): the user's [`BackendChoice`] and [`PrecisionChoice`];
//!   `auto` takes wgpu on a hardware adapter and the candle CPU path otherwise (also on software
//!   adapters such as lavapipe or SwiftShader, slower than the CPU path on the same cores), and
//!   [`Engine::reason`] says why. Selection comes before the weights, so a browser that cannot run
//!   what was asked for is told so before it downloads anything.
//! - **Verified loading**: the engine takes weights only as [`VerifiedWeights`], bytes already checked
//!   against their manifest entry.
//! - **The GPU→CPU fallback**, one rule everywhere: when the backend was left to `auto` (and the
//!   precision is not f16, which only wgpu has), a wgpu failure while building the model, warming it
//!   up or running a clip rebuilds the model on the CPU, reruns the clip there and says why
//!   ([`Classification::fell_back`]). A backend asked for by name is that backend or an error.
//! - **Backend by measurement** ([`Engine::pick_faster`]): with `auto` on a hardware adapter, a warm-up
//!   clip is timed on wgpu and on the CPU path and the faster one is kept, with both times.
//! - **The pipeline**: frames ([`Engine::preprocess`], the authors' resize/crop/scale) → logits →
//!   probabilities → top-k ([`i3d_core::postprocess::top_k`]) → the class activation map of the top
//!   class from the Mixed_5c features computed on the backend in use.
//!
//! Waiting on a GPU is `async` (the browser cannot block); natively, the `*_blocking` functions drive
//! the futures with `pollster`.

mod error;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;

use candle_core::{Device, Tensor};
use i3d_core::arch::Shape;
use i3d_core::cam::{ActivationMap, LogitsLayer};
use i3d_core::postprocess::{softmax, top_k, Prediction};
use i3d_core::preprocess::{FrameRef, Preprocessor};
use i3d_cpu::InceptionI3d;
use i3d_gpu::{GpuContext, GpuI3d, RunOptions};

pub use error::Error;
pub use i3d_core::manifest::VerifiedWeights;
pub use i3d_core::{Backend, BackendChoice, Precision, PrecisionChoice};

/// What the user asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Where to run.
    pub backend: BackendChoice,
    /// In what number format.
    pub precision: PrecisionChoice,
}

/// A loaded network on one backend.
#[derive(Debug)]
enum Executor {
    Cpu(Box<InceptionI3d>),
    Wgpu(Box<GpuI3d>),
}

/// The result of one clip.
#[derive(Debug, Clone)]
pub struct Classification {
    /// Frames in the clip.
    pub frames: usize,
    /// The 400 logits, model label order.
    pub logits: Vec<f32>,
    /// Softmax probabilities of the 400 classes, model label order.
    pub probs: Vec<f32>,
    /// The most probable classes, most probable first (as many as asked for).
    pub top: Vec<Prediction>,
    /// The activation map of the top class, when asked for and it could be made.
    pub cam: Option<ActivationMap>,
    /// Why the activation map asked for could not be made (the prediction stands without it).
    pub cam_error: Option<String>,
    /// Set when wgpu failed on this clip and the engine moved to the CPU (see the crate docs): why. The
    /// clip was then run on the CPU.
    pub fell_back: Option<String>,
}

/// I3D with its weights, class names and backend, ready to classify clips.
#[derive(Debug)]
pub struct Engine {
    executor: Executor,
    /// The classifier's weights in f32, for activation maps.
    logits_layer: LogitsLayer,
    labels: Vec<String>,
    /// The weights file, kept to rebuild the model on the CPU if the GPU fails.
    weights: Vec<u8>,
    reason: String,
    options: Options,
    preprocessor: Preprocessor,
}

/// Where [`select`] decided to run, before any weights are loaded.
#[derive(Debug)]
pub enum Target {
    /// The candle CPU path.
    Cpu,
    /// wgpu on this adapter.
    Wgpu(GpuContext),
}

/// A backend chosen for the user's options, and why.
#[derive(Debug)]
pub struct Selection {
    /// Where to run.
    pub target: Target,
    /// A sentence for logs and UIs.
    pub reason: String,
    /// What the user asked for.
    pub options: Options,
}

impl Selection {
    /// The backend chosen.
    pub fn backend(&self) -> Backend {
        match self.target {
            Target::Cpu => Backend::Cpu,
            Target::Wgpu(_) => Backend::Wgpu,
        }
    }
}

/// Picks the backend for `options`. Fails when the backend or precision asked for by name cannot be
/// used here (no usable adapter; f16 without `shader-f16` or on the CPU); `auto` never fails.
pub async fn select(options: Options) -> Result<Selection, Error> {
    let (target, reason) = match options.backend {
        BackendChoice::Only(Backend::Cpu) => (Target::Cpu, "the CPU path was asked for".to_owned()),
        BackendChoice::Only(Backend::Wgpu) => {
            let ctx = GpuContext::new()
                .await
                .map_err(|e| Error::Unavailable(format!("wgpu was asked for but cannot be used: {e}")))?;
            let reason = format!("wgpu was asked for: {}", ctx.summary);
            (Target::Wgpu(ctx), reason)
        }
        BackendChoice::Auto => match GpuContext::new().await {
            Ok(ctx) if ctx.summary.device_type == "Cpu" && !wants_f16(options) => (
                Target::Cpu,
                format!(
                    "the best adapter, {}, is a software one; the CPU path is faster on the same cores",
                    ctx.summary.name
                ),
            ),
            Ok(ctx) => {
                let reason = format!("adapter with sufficient limits: {}", ctx.summary);
                (Target::Wgpu(ctx), reason)
            }
            Err(e) => (
                Target::Cpu,
                format!("no usable GPU adapter ({e}); using the CPU path"),
            ),
        },
    };
    match &target {
        Target::Cpu if wants_f16(options) => Err(Error::Unavailable(format!(
            "f16 was asked for, but the CPU path computes in f32 only (f16 storage needs a wgpu adapter with shader-f16); {reason}"
        ))),
        Target::Wgpu(ctx) => {
            if let PrecisionChoice::Only(precision) = options.precision {
                ctx.check_precision(precision)?;
            }
            Ok(Selection { target, reason, options })
        }
        Target::Cpu => Ok(Selection { target, reason, options }),
    }
}

/// Whether f16 storage was asked for by name (only wgpu has it).
fn wants_f16(options: Options) -> bool {
    options.precision == PrecisionChoice::Only(Precision::F16)
}

/// Whether a wgpu failure may move the engine to the CPU: the backend was left to `auto` and the
/// precision asked for is one the CPU has.
fn may_fall_back(options: Options) -> bool {
    options.backend == BackendChoice::Auto && !wants_f16(options)
}

fn build_cpu(weights: &[u8]) -> Result<Executor, Error> {
    Ok(Executor::Cpu(Box::new(
        InceptionI3d::from_safetensors_bytes(weights)?,
    )))
}

impl Engine {
    /// [`select`]s the backend for `options`, then [`Engine::build`]s the network on it.
    pub async fn load(
        weights: VerifiedWeights,
        labels: Vec<String>,
        options: Options,
    ) -> Result<Engine, Error> {
        Engine::build(select(options).await?, weights, labels)
    }

    /// Builds the network from `weights` (a safetensors file, f32 or f16) on the selected backend;
    /// `labels` are the class names in output order. A wgpu failure falls back to the CPU when the
    /// options allow it (see the crate docs).
    pub fn build(
        selection: Selection,
        weights: VerifiedWeights,
        labels: Vec<String>,
    ) -> Result<Engine, Error> {
        let Selection {
            target,
            mut reason,
            options,
        } = selection;
        let weights = weights.into_bytes();
        let logits_layer = LogitsLayer::from_safetensors_bytes(&weights)?;
        let executor = match target {
            Target::Cpu => build_cpu(&weights)?,
            Target::Wgpu(ctx) => {
                let precision = match options.precision {
                    PrecisionChoice::Auto => ctx.best_precision(),
                    PrecisionChoice::Only(precision) => precision,
                };
                match GpuI3d::new(ctx, &weights, precision) {
                    Ok(model) => Executor::Wgpu(Box::new(model)),
                    Err(e) if may_fall_back(options) => {
                        reason = gpu_failure(&e);
                        build_cpu(&weights)?
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        Ok(Engine {
            executor,
            logits_layer,
            labels,
            weights,
            reason,
            options,
            preprocessor: Preprocessor::new(),
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        match self.executor {
            Executor::Cpu(_) => Backend::Cpu,
            Executor::Wgpu(_) => Backend::Wgpu,
        }
    }

    /// The storage precision in use (the CPU path is f32).
    pub fn precision(&self) -> Precision {
        match &self.executor {
            Executor::Cpu(_) => Precision::F32,
            Executor::Wgpu(model) => model.precision(),
        }
    }

    /// Why this backend: the adapter, or why not wgpu.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Class names, model output order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The longest clip (frames) the backend can run: the adapter's buffer limits on wgpu, none on the CPU.
    pub fn max_frames(&self) -> Option<usize> {
        match &self.executor {
            Executor::Cpu(_) => None,
            Executor::Wgpu(model) => Some(model.max_frames()),
        }
    }

    /// Pre-processes one decoded frame (RGB or RGBA u8) into `out`, one 224×224×3 slot of a clip
    /// ([`i3d_core::preprocess::FRAME_LEN`] floats in [−1, 1]).
    pub fn preprocess(&mut self, frame: FrameRef<'_>, out: &mut [f32]) -> Result<(), Error> {
        Ok(self.preprocessor.frame_into(frame, out)?)
    }

    /// Logits and (when `features`) the Mixed_5c features of a clip on the current executor.
    async fn forward(
        &mut self,
        input: &[f32],
        frames: usize,
        features: bool,
    ) -> Result<Forward, ExecError> {
        check_length(input, frames).map_err(ExecError::Other)?;
        match &mut self.executor {
            Executor::Wgpu(model) => {
                let options = RunOptions {
                    features,
                    profile: false,
                };
                let output = model
                    .run(input, frames, options)
                    .await
                    .map_err(ExecError::Gpu)?;
                Ok((output.logits, output.features))
            }
            Executor::Cpu(model) => {
                run_cpu(model, input, frames, features).map_err(ExecError::Other)
            }
        }
    }

    /// Classifies a pre-processed clip `input` (1×`frames`×224×224×3 in [−1, 1], NTHWC): the `top`
    /// most probable classes, and the activation map of the first when `cam` is set. A wgpu failure
    /// moves the engine to the CPU and reruns the clip there when the options allow it
    /// ([`Classification::fell_back`]).
    pub async fn classify(
        &mut self,
        input: &[f32],
        frames: usize,
        top: usize,
        cam: bool,
    ) -> Result<Classification, Error> {
        let mut fell_back = None;
        let (logits, features) = match self.forward(input, frames, cam).await {
            Ok(output) => output,
            Err(ExecError::Gpu(e)) if may_fall_back(self.options) => {
                self.executor = build_cpu(&self.weights)?;
                self.reason = gpu_failure(&e);
                fell_back = Some(self.reason.clone());
                match self.forward(input, frames, cam).await {
                    Ok(output) => output,
                    Err(ExecError::Gpu(e)) => return Err(e.into()),
                    Err(ExecError::Other(e)) => return Err(e),
                }
            }
            Err(ExecError::Gpu(e)) => return Err(e.into()),
            Err(ExecError::Other(e)) => return Err(e),
        };
        let probs = softmax(&logits);
        let top = top_k(&logits, &self.labels, top);
        // A map that cannot be made costs the map, not the prediction.
        let (cam, cam_error) = match (features, top.first()) {
            (Some((values, shape)), Some(best)) => {
                match self.logits_layer.activation_map(&values, shape, best.index) {
                    Ok(map) => (Some(map), None),
                    Err(e) => (None, Some(e.to_string())),
                }
            }
            _ => (None, None),
        };
        Ok(Classification {
            frames,
            logits,
            probs,
            top,
            cam,
            cam_error,
            fell_back,
        })
    }

    /// With the backend left to `auto` (and a precision the CPU has) and the model on wgpu: times a
    /// clip of `frames` zeros on wgpu and on the CPU path (each run twice, the second timed: the
    /// first compiles pipelines and sizes buffers), keeps the faster one and says so in
    /// [`Engine::reason`]. `now` is a clock in ms (`performance.now()` in the browser). Returns the
    /// times, ms (empty when there was nothing to compare: a backend asked for by name, or the CPU
    /// already). A wgpu failure on the way keeps the CPU, as the fallback rule says.
    pub async fn pick_faster(
        &mut self,
        frames: usize,
        now: &dyn Fn() -> f64,
    ) -> Result<Vec<(Backend, f64)>, Error> {
        if !may_fall_back(self.options) || !matches!(self.executor, Executor::Wgpu(_)) {
            return Ok(Vec::new());
        }
        let input = vec![0.0f32; Shape::clip(frames).elements()];
        let gpu_ms = match self.timed_forward(&input, frames, now).await {
            Ok(ms) => ms,
            Err(ExecError::Gpu(e)) => {
                self.executor = build_cpu(&self.weights)?;
                self.reason = gpu_failure(&e);
                return Ok(Vec::new());
            }
            Err(ExecError::Other(e)) => return Err(e),
        };
        let gpu = std::mem::replace(&mut self.executor, build_cpu(&self.weights)?);
        let cpu_ms = match self.timed_forward(&input, frames, now).await {
            Ok(ms) => ms,
            Err(ExecError::Gpu(e)) => return Err(e.into()),
            Err(ExecError::Other(e)) => return Err(e),
        };
        let winner = if gpu_ms <= cpu_ms {
            self.executor = gpu;
            Backend::Wgpu
        } else {
            Backend::Cpu
        };
        self.reason = format!(
            "{} was faster on a {frames}-frame clip (wgpu {gpu_ms:.0} ms, CPU {cpu_ms:.0} ms; {})",
            winner.label(),
            self.reason
        );
        Ok(vec![(Backend::Wgpu, gpu_ms), (Backend::Cpu, cpu_ms)])
    }

    /// Runs `input` twice on the current executor and returns the second run's time, ms.
    async fn timed_forward(
        &mut self,
        input: &[f32],
        frames: usize,
        now: &dyn Fn() -> f64,
    ) -> Result<f64, ExecError> {
        self.forward(input, frames, false).await?;
        let started = now();
        self.forward(input, frames, false).await?;
        Ok(now() - started)
    }

    /// Runs one clip of zeros of `frames` frames (compiles the kernels, sizes the buffers); a wgpu
    /// failure moves the engine to the CPU when the options allow it. Returns the reason when it did.
    pub async fn warm_up(&mut self, frames: usize) -> Result<Option<String>, Error> {
        let input = vec![0.0f32; Shape::clip(frames).elements()];
        Ok(self.classify(&input, frames, 1, false).await?.fell_back)
    }
}

/// One layer's output for a clip, as the executor in use computed it.
#[derive(Debug, Clone)]
pub struct Activations {
    /// The layer (`Conv3d_1a_7x7` … `Mixed_5c`).
    pub layer: &'static str,
    /// 1×T'×H'×W'×C values, NTHWC.
    pub values: Vec<f32>,
    /// Their shape.
    pub shape: Shape,
    /// Where they were computed.
    pub backend: Backend,
}

impl Engine {
    /// The output of layer `layer` (see [`i3d_core::anatomy::inspectable`]) for a pre-processed
    /// clip `input` (1×`frames`×224×224×3 in [−1, 1]) on the backend in use: the network runs up to
    /// that layer only. Unlike [`Engine::classify`], a wgpu failure here is reported, not fallen
    /// back from (it shows what the backend in use computes).
    pub async fn endpoint(
        &mut self,
        input: &[f32],
        frames: usize,
        layer: &str,
    ) -> Result<Activations, Error> {
        let layer = i3d_core::anatomy::check_inspectable(layer)?;
        check_length(input, frames)?;
        let backend = self.backend();
        let (values, shape) = match &mut self.executor {
            Executor::Wgpu(model) => model.endpoint(input, frames, layer).await?,
            Executor::Cpu(model) => {
                let x = clip_tensor(input, frames)?;
                let out = model.endpoint(&x, layer, |_, _| {})?;
                let shape = Shape::from_dims(out.dims())?;
                let values = out
                    .flatten_all()
                    .and_then(|t| t.to_vec1::<f32>())
                    .map_err(i3d_cpu::Error::from)?;
                (values, shape)
            }
        };
        Ok(Activations {
            layer,
            values,
            shape,
            backend,
        })
    }

    /// The time of each layer of one pass over `input` (1×`frames`×224×224×3), ms, in layer
    /// order: on the CPU path measured with `now` (a clock in ms) after each layer; on wgpu from
    /// timestamp queries (`None` when the adapter has none).
    pub async fn layer_times(
        &mut self,
        input: &[f32],
        frames: usize,
        now: &dyn Fn() -> f64,
    ) -> Result<Option<Vec<(&'static str, f64)>>, Error> {
        check_length(input, frames)?;
        match &mut self.executor {
            Executor::Wgpu(model) => {
                let options = RunOptions {
                    features: false,
                    profile: true,
                };
                let output = model.run(input, frames, options).await?;
                Ok(output.profile.map(|dispatches| {
                    i3d_core::arch::I3D_LAYERS
                        .iter()
                        .map(|layer| {
                            let ms = dispatches
                                .iter()
                                .filter(|d| d.label.split('.').next() == Some(layer.name))
                                .map(|d| d.seconds * 1e3)
                                .sum();
                            (layer.name, ms)
                        })
                        .collect()
                }))
            }
            Executor::Cpu(model) => {
                let x = clip_tensor(input, frames)?;
                let mut times = Vec::new();
                let mut last = now();
                model.forward_endpoints(&x, |layer, _| {
                    let t = now();
                    times.push((layer.name, t - last));
                    last = t;
                })?;
                Ok(Some(times))
            }
        }
    }

    /// The first layer's filters as trained (BatchNorm folded in): 7×7×7×3×64 values in the
    /// stored (kt, kh, kw, cin, cout) order, and that shape.
    pub fn first_layer_filters(&self) -> Result<(Vec<f32>, [usize; 5]), Error> {
        let first = i3d_core::arch::I3D_LAYERS
            .first()
            .and_then(|l| l.convs().first().copied())
            .ok_or_else(|| {
                i3d_core::Error::Weights("the layer table has no first convolution".into())
            })?;
        let shape = first.weight_shape();
        let st = i3d_core::weights::parse(&self.weights)?;
        let values = i3d_core::weights::tensor_f32(&st, &format!("{}.weight", first.name), &shape)?;
        Ok((values, shape))
    }
}

/// Checks that `input` holds a clip of `frames` frames, [`i3d_core::arch::MIN_FRAMES`] to
/// [`i3d_core::arch::MAX_FRAMES`]: the count is bounded before any size is computed from it, and the size
/// is computed with checked arithmetic, so no count can wrap on wasm32 and pass.
fn check_length(input: &[f32], frames: usize) -> Result<(), Error> {
    i3d_core::arch::check_frames(frames)?;
    let expected = i3d_core::preprocess::FRAME_LEN.checked_mul(frames).ok_or(
        i3d_core::Error::TooManyFrames {
            frames,
            max: i3d_core::arch::MAX_FRAMES,
        },
    )?;
    if input.len() != expected {
        return Err(Error::InputLength {
            got: input.len(),
            expected,
            frames,
        });
    }
    Ok(())
}

/// `input` as a candle tensor 1×`frames`×224×224×3 (checked).
fn clip_tensor(input: &[f32], frames: usize) -> Result<Tensor, Error> {
    check_length(input, frames)?;
    Ok(
        Tensor::from_slice(input, Shape::clip(frames).dims().to_vec(), &Device::Cpu)
            .map_err(i3d_cpu::Error::from)?,
    )
}

/// What one forward pass gives: the 400 logits, and the Mixed_5c features (1×T'×7×7×1024) with their
/// shape when they were asked for.
type Forward = (Vec<f32>, Option<(Vec<f32>, Shape)>);

/// A failure of the executor: wgpu's (the engine may fall back) or any other.
enum ExecError {
    Gpu(i3d_gpu::Error),
    Other(Error),
}

/// The reason shown after a wgpu failure.
fn gpu_failure(error: &i3d_gpu::Error) -> String {
    format!("wgpu failed ({error}); switched to the CPU path")
}

/// Logits and optional Mixed_5c features on the candle CPU path.
fn run_cpu(
    model: &InceptionI3d,
    input: &[f32],
    frames: usize,
    features: bool,
) -> Result<Forward, Error> {
    let x = clip_tensor(input, frames)?;
    let mut mixed_5c = None;
    let mut failure = None;
    let logits = model.forward_endpoints(&x, |layer, t| {
        if features && layer.name == "Mixed_5c" {
            let read = t
                .flatten_all()
                .and_then(|flat| flat.to_vec1::<f32>())
                .map_err(i3d_cpu::Error::from)
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
        .map_err(i3d_cpu::Error::from)?;
    Ok((logits, mixed_5c))
}
