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
//!   class from the features ([`i3d_core::arch::FEATURE_LAYER`]) computed on the backend in use.
//! - **Custom heads**: the same pass gives the clip feature ([`i3d_core::cam::clip_feature`], the 1024 values the
//!   logits layer reads) and applies a few-shot head ([`heads::Linear`]) to it, with the activation map of its top
//!   class ([`Ask`]); [`Engine::nearest`] relates a custom class to the Kinetics classes.
//! - **One executor interface**: both executors are driven through
//!   [`i3d_core::executor::Executor`] (a checked clip in; logits, features, a layer's output,
//!   per-layer times out). The CPU executor is a type parameter `C` (`i3d_cpu::InceptionI3d` in
//!   the CLI and the worker), so this crate depends on neither candle nor the CPU executor; the
//!   wgpu one is this crate's own, as selecting an adapter comes before the weights.
//!
//! Waiting on a GPU is `async` (the browser cannot block); natively, the `*_blocking` functions drive
//! the futures with `pollster`.

mod error;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;

use i3d_core::arch::{LayerId, Shape};
use i3d_core::cam::{clip_feature, linear_activation_map, ActivationMap, LogitsLayer};
use i3d_core::executor::{Activation, Clip, Executor, Forward, FromWeights, LayerTime};
use i3d_core::postprocess::{softmax, top_k, Prediction};
use i3d_core::preprocess::{FrameRef, Preprocessor};
use i3d_gpu::{Error as GpuError, GpuContext, GpuI3d};

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

/// A loaded network on one backend: the CPU executor `C`, or wgpu.
#[derive(Debug)]
enum Loaded<C> {
    Cpu(Box<C>),
    Wgpu(Box<GpuI3d>),
}

/// What a few-shot head's inputs are, as its file names them ([`heads::Head::feature_layer`]): the clip feature
/// of [`i3d_core::arch::FEATURE_LAYER`].
pub fn feature_layer() -> String {
    format!(
        "{}, averaged over time and space (i3d_core::cam::clip_feature)",
        i3d_core::arch::FEATURE_LAYER.name()
    )
}

/// What to compute for a clip besides its logits and probabilities.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ask<'a> {
    /// How many of the most probable Kinetics classes to rank in [`Classification::top`].
    pub top: usize,
    /// The activation map of the top Kinetics class (and of the top custom class when `head` is set).
    pub cam: bool,
    /// The clip feature ([`Classification::feature`]).
    pub feature: bool,
    /// A head of custom classes, applied to the clip feature ([`Classification::custom`]).
    pub head: Option<&'a heads::Linear>,
}

/// What a custom head says of a clip.
#[derive(Debug, Clone)]
pub struct CustomClassification {
    /// Probabilities of the head's classes, its order.
    pub probs: Vec<f32>,
    /// The activation map of the most probable custom class, when asked for and it could be made.
    pub cam: Option<ActivationMap>,
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
    /// The clip feature ([`i3d_core::cam::clip_feature`], [`i3d_core::arch::FEATURE_CHANNELS`] values), when asked for.
    pub feature: Option<Vec<f32>>,
    /// The custom head's answer, when one was given.
    pub custom: Option<CustomClassification>,
    /// Set when wgpu failed on this clip and the engine moved to the CPU (see the crate docs): why. The
    /// clip was then run on the CPU.
    pub fell_back: Option<String>,
}

/// I3D with its weights, class names and backend, ready to classify clips. `C` is the CPU
/// executor (`i3d_cpu::InceptionI3d`): what runs when there is no usable GPU, and what a wgpu
/// failure falls back to.
#[derive(Debug)]
pub struct Engine<C> {
    executor: Loaded<C>,
    /// The classifier's weights in f32, for activation maps.
    logits_layer: LogitsLayer,
    labels: Vec<String>,
    /// The weights file, kept to rebuild the model on the CPU if the GPU fails.
    weights: Vec<u8>,
    reason: String,
    reason_detail: Option<String>,
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
    /// A sentence for logs and UIs, in plain words.
    pub reason: String,
    /// The raw detail behind [`Self::reason`] (wgpu's own message), for those who ask.
    pub reason_detail: Option<String>,
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
    let mut reason_detail = None;
    let (target, reason) = match options.backend {
        BackendChoice::Only(Backend::Cpu) => (Target::Cpu, "the CPU path was asked for".to_owned()),
        BackendChoice::Only(Backend::Wgpu) => {
            let ctx = GpuContext::new().await.map_err(|e| {
                Error::Unavailable(format!("wgpu was asked for but cannot be used: {e}"))
            })?;
            let reason = format!("wgpu was asked for: {}", ctx.summary);
            (Target::Wgpu(ctx), reason)
        }
        BackendChoice::Auto => match GpuContext::new().await {
            Ok(ctx) if ctx.summary.device_type == "Cpu" && !wants_f16(options) => {
                reason_detail = Some(ctx.summary.to_string());
                (
                    Target::Cpu,
                    format!(
                        "the adapter is a software renderer ({}), slower than the CPU path on the same cores",
                        ctx.summary.name
                    ),
                )
            }
            Ok(ctx) => {
                let reason = format!("adapter with sufficient limits: {}", ctx.summary);
                (Target::Wgpu(ctx), reason)
            }
            Err(e) => {
                let plain = match &e {
                    GpuError::NoWebGpu => "this browser has no WebGPU",
                    GpuError::NoAdapter(_) if cfg!(target_arch = "wasm32") => {
                        "WebGPU is available but found no adapter"
                    }
                    GpuError::NoAdapter(_) => "no GPU adapter was found",
                    _ => "the GPU cannot run the network",
                };
                reason_detail = Some(e.to_string());
                (Target::Cpu, plain.to_owned())
            }
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
            Ok(Selection {
                target,
                reason,
                reason_detail,
                options,
            })
        }
        Target::Cpu => Ok(Selection {
            target,
            reason,
            reason_detail,
            options,
        }),
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

fn build_cpu<C: FromWeights>(weights: &[u8]) -> Result<Loaded<C>, Error> {
    Ok(Loaded::Cpu(Box::new(
        C::from_weights(weights).map_err(Error::cpu)?,
    )))
}

impl<C: FromWeights> Engine<C> {
    /// [`select`]s the backend for `options`, then [`Engine::build`]s the network on it.
    pub async fn load(
        weights: VerifiedWeights,
        labels: Vec<String>,
        options: Options,
    ) -> Result<Self, Error> {
        Self::build(select(options).await?, weights, labels)
    }

    /// Builds the network from `weights` (a safetensors file, f32 or f16) on the selected backend;
    /// `labels` are the class names in output order. A wgpu failure falls back to the CPU when the
    /// options allow it (see the crate docs).
    pub fn build(
        selection: Selection,
        weights: VerifiedWeights,
        labels: Vec<String>,
    ) -> Result<Self, Error> {
        let Selection {
            target,
            mut reason,
            mut reason_detail,
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
                    Ok(model) => Loaded::Wgpu(Box::new(model)),
                    Err(e) if may_fall_back(options) => {
                        (reason, reason_detail) = gpu_failure(&e);
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
            reason_detail,
            options,
            preprocessor: Preprocessor::new(),
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        match &self.executor {
            Loaded::Cpu(model) => model.backend(),
            Loaded::Wgpu(model) => Executor::backend(&**model),
        }
    }

    /// The storage precision in use (the CPU path is f32).
    pub fn precision(&self) -> Precision {
        match &self.executor {
            Loaded::Cpu(model) => model.precision(),
            Loaded::Wgpu(model) => Executor::precision(&**model),
        }
    }

    /// Why this backend: the adapter, or why not wgpu.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The raw detail behind [`Self::reason`] (wgpu's own message), when there is one.
    pub fn reason_detail(&self) -> Option<&str> {
        self.reason_detail.as_deref()
    }

    /// Class names, model output order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The longest clip (frames) the backend can run: the adapter's buffer limits on wgpu, none on the CPU.
    pub fn max_frames(&self) -> Option<usize> {
        match &self.executor {
            Loaded::Cpu(model) => model.max_frames(),
            Loaded::Wgpu(model) => Executor::max_frames(&**model),
        }
    }

    /// Pre-processes one decoded frame (RGB or RGBA u8) into `out`, one 224×224×3 slot of a clip
    /// ([`i3d_core::preprocess::FRAME_LEN`] floats in [−1, 1]).
    pub fn preprocess(&mut self, frame: FrameRef<'_>, out: &mut [f32]) -> Result<(), Error> {
        Ok(self.preprocessor.frame_into(frame, out)?)
    }

    /// Logits and (when `features`) the features of a clip on the current executor.
    async fn forward(
        &mut self,
        input: &[f32],
        frames: usize,
        features: bool,
    ) -> Result<Forward, ExecError> {
        let clip = clip(input, frames).map_err(ExecError::Other)?;
        match &mut self.executor {
            Loaded::Wgpu(model) => Executor::forward(&mut **model, clip, features)
                .await
                .map_err(ExecError::Gpu),
            Loaded::Cpu(model) => model
                .forward(clip, features)
                .await
                .map_err(|e| ExecError::Other(Error::cpu(e))),
        }
    }

    /// Classifies a pre-processed clip `input` (1×`frames`×224×224×3 in [−1, 1], NTHWC): the `ask.top`
    /// most probable classes, the activation map of the first when `ask.cam` is set, the clip feature and a custom
    /// head's answer when asked (one pass: the features come from the pass that classifies). A wgpu failure moves
    /// the engine to the CPU and reruns the clip there when the options allow it ([`Classification::fell_back`]).
    /// A head of another feature length is an [`Error::Head`].
    pub async fn classify(
        &mut self,
        input: &[f32],
        frames: usize,
        ask: Ask<'_>,
    ) -> Result<Classification, Error> {
        let Ask {
            top,
            cam,
            feature,
            head,
        } = ask;
        if let Some(head) = head {
            if head.dim != i3d_core::arch::FEATURE_CHANNELS {
                return Err(Error::Head(format!(
                    "the head reads {} feature values, this network gives {}",
                    head.dim,
                    i3d_core::arch::FEATURE_CHANNELS
                )));
            }
        }
        // The feature map is read for a map, the clip feature or a head.
        let read_features = cam || feature || head.is_some();
        let mut fell_back = None;
        let Forward { logits, features } = match self.forward(input, frames, read_features).await {
            Ok(output) => output,
            Err(ExecError::Gpu(e)) if may_fall_back(self.options) => {
                self.executor = build_cpu(&self.weights)?;
                (self.reason, self.reason_detail) = gpu_failure(&e);
                fell_back = Some(self.reason.clone());
                match self.forward(input, frames, read_features).await {
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
        let Some(features) = features else {
            return Ok(Classification {
                frames,
                logits,
                probs,
                top,
                cam: None,
                cam_error: None,
                feature: None,
                custom: None,
                fell_back,
            });
        };
        // A map that cannot be made costs the map, not the prediction.
        let (map, cam_error) = match (cam, top.first()) {
            (true, Some(best)) => {
                match self
                    .logits_layer
                    .activation_map(&features.values, features.shape, best.index)
                {
                    Ok(map) => (Some(map), None),
                    Err(e) => (None, Some(e.to_string())),
                }
            }
            _ => (None, None),
        };
        // The clip feature only when it is used: a map alone never costs the prediction.
        let clip = if feature || head.is_some() {
            Some(clip_feature(&features.values, features.shape)?)
        } else {
            None
        };
        let custom = head.zip(clip.as_ref()).map(|(head, clip)| {
            let probs = head.probabilities(clip);
            let best = i3d_core::postprocess::top_indices(&probs, 1);
            let cam = best
                .first()
                .filter(|_| cam)
                .and_then(|&class| head.row(class))
                .and_then(|row| linear_activation_map(&features.values, features.shape, row).ok());
            CustomClassification { probs, cam }
        });
        Ok(Classification {
            frames,
            logits,
            probs,
            top,
            cam: map,
            cam_error,
            feature: clip.filter(|_| feature),
            custom,
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
        if !may_fall_back(self.options) || !matches!(self.executor, Loaded::Wgpu(_)) {
            return Ok(Vec::new());
        }
        let input = vec![0.0f32; Shape::clip(frames).elements()];
        let gpu_ms = match self.timed_forward(&input, frames, now).await {
            Ok(ms) => ms,
            Err(ExecError::Gpu(e)) => {
                self.executor = build_cpu(&self.weights)?;
                (self.reason, self.reason_detail) = gpu_failure(&e);
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
        let ask = Ask {
            top: 1,
            ..Ask::default()
        };
        Ok(self.classify(&input, frames, ask).await?.fell_back)
    }

    /// The `k` Kinetics classes nearest to `vector` (a custom class's mean clip feature or its weights,
    /// [`i3d_core::arch::FEATURE_CHANNELS`] values) by the cosine with their classifier weights, as (class index,
    /// cosine), nearest first ([`LogitsLayer::nearest`]).
    pub fn nearest(&self, vector: &[f32], k: usize) -> Vec<(usize, f32)> {
        self.logits_layer.nearest(vector, k)
    }
}

/// One layer's output for a clip, as the executor in use computed it.
#[derive(Debug, Clone)]
pub struct Activations {
    /// The layer (`Conv3d_1a_7x7` … `Mixed_5c`).
    pub layer: LayerId,
    /// 1×T'×H'×W'×C values, NTHWC.
    pub values: Vec<f32>,
    /// Their shape.
    pub shape: Shape,
    /// Where they were computed.
    pub backend: Backend,
}

impl<C: FromWeights> Engine<C> {
    /// The output of `layer` (one of [`LayerId::inspectable`]) for a pre-processed clip `input`
    /// (1×`frames`×224×224×3 in [−1, 1]) on the backend in use: the network runs up to that layer
    /// only. Unlike [`Engine::classify`], a wgpu failure here is reported, not fallen back from (it
    /// shows what the backend in use computes).
    pub async fn endpoint(
        &mut self,
        input: &[f32],
        frames: usize,
        layer: LayerId,
    ) -> Result<Activations, Error> {
        let layer = i3d_core::anatomy::check_inspectable_id(layer)?;
        let clip = clip(input, frames)?;
        let backend = self.backend();
        let Activation { values, shape } = match &mut self.executor {
            Loaded::Wgpu(model) => Executor::endpoint(&mut **model, clip, layer).await?,
            Loaded::Cpu(model) => model.endpoint(clip, layer).await.map_err(Error::cpu)?,
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
    ) -> Result<Option<Vec<LayerTime>>, Error> {
        let clip = clip(input, frames)?;
        match &mut self.executor {
            Loaded::Wgpu(model) => Ok(Executor::layer_times(&mut **model, clip, now).await?),
            Loaded::Cpu(model) => model.layer_times(clip, now).await.map_err(Error::cpu),
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

/// `input` as a clip of `frames` frames, [`i3d_core::arch::MIN_FRAMES`] to
/// [`i3d_core::arch::MAX_FRAMES`] (checked by count first, see [`Clip::new`]).
fn clip(input: &[f32], frames: usize) -> Result<Clip<'_>, Error> {
    Clip::new(input, frames).map_err(|e| match e {
        i3d_core::Error::ClipLength {
            got,
            expected,
            frames,
        } => Error::InputLength {
            got,
            expected,
            frames,
        },
        e => e.into(),
    })
}

/// A failure of the executor: wgpu's (the engine may fall back) or any other.
enum ExecError {
    Gpu(i3d_gpu::Error),
    Other(Error),
}

/// The reason shown after a wgpu failure, in plain words, and wgpu's own message.
fn gpu_failure(error: &i3d_gpu::Error) -> (String, Option<String>) {
    (
        "the GPU failed while running the network, so it switched to the CPU path".to_owned(),
        Some(error.to_string()),
    )
}
