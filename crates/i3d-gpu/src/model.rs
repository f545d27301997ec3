//! [`GpuI3d`]: the network on a wgpu device, and its per-clip-length [`Plan`].
//!
//! Input: 1×T×224×224×3 f32 in [−1, 1] (NTHWC, RGB), T ≥ 9. Output: 400 Kinetics-400 logits.
//!
//! A plan walks [`i3d_core::arch::I3D_LAYERS`] once per clip length: it infers every shape, allocates
//! the activations once (two ping-pong buffers sized for the largest activation, plus the Inception
//! scratches), and records every dispatch with its bind group. Running a clip is then one upload,
//! one submission of all ~54 dispatches, and one readback of the logits (plus the features,
//! [`FEATURE_LAYER`]'s output, when asked).

use i3d_core::arch::{self, LayerId, Op, Shape, FEATURE_LAYER, I3D_LAYERS};
use i3d_core::plan::InceptionPlan;

use crate::context::{decode, encode, GpuContext};
use crate::kernels::{KernelId, Precision};
use crate::ops::{self, Dispatch, Region};
use crate::weights::{GpuWeights, LayerWeights};
use crate::Error;

/// Where a layer's input lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loc {
    Input,
    Act(usize),
}

/// Timestamp queries of a profiled run.
#[derive(Debug)]
struct Timestamps {
    queries: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    staging: wgpu::Buffer,
}

/// Everything allocated and recorded for one clip length.
#[derive(Debug)]
pub struct Plan {
    /// Frames T.
    pub frames: usize,
    /// The recorded dispatches, in order.
    pub steps: Vec<Dispatch>,
    /// Bytes of activation memory allocated (input, ping-pong, scratches).
    pub activation_bytes: u64,
    input: wgpu::Buffer,
    acts: [wgpu::Buffer; 2],
    logits: wgpu::Buffer,
    logits_staging: wgpu::Buffer,
    /// (ping-pong buffer index, shape) of the features ([`FEATURE_LAYER`]'s output).
    features: Option<(usize, Shape)>,
    features_staging: Option<wgpu::Buffer>,
    timestamps: Option<Timestamps>,
    /// Where each inspectable layer's output is, in order.
    endpoints: Vec<Endpoint>,
    _scratch: Vec<wgpu::Buffer>,
}

/// A layer's output within a plan: complete after the first `steps` dispatches, in ping-pong
/// buffer `buffer` (until a later layer overwrites it), of shape `shape`.
#[derive(Debug, Clone, Copy)]
struct Endpoint {
    layer: LayerId,
    steps: usize,
    buffer: usize,
    shape: Shape,
}

impl Plan {
    /// Bytes of every activation buffer a plan for `frames` frames allocates, by label: the input,
    /// the two ping-pong buffers (the largest layer output), the Inception scratches (reductions,
    /// pooled input), the average pool and the logits.
    pub fn buffer_sizes(
        frames: usize,
        precision: Precision,
    ) -> Result<Vec<(&'static str, u64)>, Error> {
        let input_shape = Shape::clip(frames);
        arch::check_input(input_shape)?;
        let shapes = arch::output_shapes(I3D_LAYERS, input_shape)?;
        let bytes = precision.bytes();
        let mut act_elems = 0usize;
        let (mut r12_elems, mut pooled_elems, mut avg_elems) = (0usize, 0usize, 0usize);
        let mut shape = input_shape;
        for (layer, out) in I3D_LAYERS.iter().zip(&shapes) {
            match &layer.op {
                Op::Conv(_) | Op::MaxPool(_) => act_elems = act_elems.max(out.elements()),
                Op::Inception(b) => {
                    act_elems = act_elems.max(out.elements());
                    r12_elems =
                        r12_elems.max(InceptionPlan::new(*b).reduction_shape(shape).elements());
                    pooled_elems = pooled_elems.max(shape.elements());
                }
                Op::AvgPool { .. } => avg_elems = out.elements(),
                Op::Logits(_) => {}
            }
            shape = *out;
        }
        let e = |n: usize, b: u64| n as u64 * b;
        Ok(vec![
            ("input", e(input_shape.elements(), bytes)),
            ("activations.0", e(act_elems, bytes)),
            ("activations.1", e(act_elems, bytes)),
            ("inception.reductions", e(r12_elems, bytes)),
            ("inception.pooled", e(pooled_elems, bytes)),
            ("avgpool", e(avg_elems, 4)),
            ("logits", e(i3d_core::arch::NUM_CLASSES, 4)),
        ])
    }

    /// Allocates the activations for a 1×`frames`×224×224×3 clip and records every dispatch.
    pub fn new(ctx: &GpuContext, weights: &GpuWeights, frames: usize) -> Result<Self, Error> {
        let sizes = Self::buffer_sizes(frames, weights.precision)?;
        let input_shape = Shape::clip(frames);
        let shapes = arch::output_shapes(I3D_LAYERS, input_shape)?;
        for (label, size) in &sizes {
            ctx.check_binding(label, *size)?;
        }
        let mut buffers = Vec::with_capacity(sizes.len());
        for (label, size) in &sizes {
            buffers.push(ctx.storage(label, *size)?);
        }
        let [input, act0, act1, r12, pooled, avg, logits] = <[wgpu::Buffer; 7]>::try_from(buffers)
            .map_err(|_| Error::Shape("plan: unexpected buffer list".into()))?;
        let acts = [act0, act1];
        let classes = i3d_core::arch::NUM_CLASSES;
        let logits_staging = ctx.staging("logits.staging", (classes * 4) as u64);
        let activation_bytes = [&input, &acts[0], &acts[1], &r12, &pooled, &avg, &logits]
            .iter()
            .map(|b| b.size())
            .sum();

        let mut steps = Vec::new();
        let mut src = Loc::Input;
        let mut shape = input_shape;
        let mut features = None;
        let mut endpoints = Vec::new();
        let buffer = |loc: Loc| match loc {
            Loc::Input => &input,
            Loc::Act(i) => &acts[i],
        };
        for (((layer, w), out), id) in weights.layers.iter().zip(&shapes).zip(LayerId::all()) {
            let expected = id.layer();
            if layer != expected {
                return Err(Error::Weights(format!(
                    "weights for {} where {} was expected",
                    layer.name, expected.name
                )));
            }
            let dst = match src {
                Loc::Act(0) => 1,
                _ => 0,
            };
            let x = buffer(src);
            let y = &acts[dst];
            let first_step = steps.len();
            match (&layer.op, w) {
                (Op::Conv(_), LayerWeights::Conv(w)) => steps.push(ops::conv3d(
                    ctx,
                    layer.name,
                    w,
                    Region::dense(x, shape.c),
                    shape,
                    Region::dense(y, out.c),
                    None,
                )?),
                (Op::MaxPool(pool), LayerWeights::None) => steps.push(ops::maxpool3d(
                    ctx,
                    layer.name,
                    weights.precision,
                    x,
                    shape,
                    *pool,
                    y,
                )?),
                (Op::Inception(spec), LayerWeights::Inception(b)) => {
                    let plan = &b.plan;
                    let [b0_out, b1_out, b2_out, b3_out] = &plan.outputs;
                    let [b1_in, b2_in] = plan.reduction_inputs();
                    let cout = out.c;
                    let red = plan.reduction_channels;
                    let region = |buffer, stride, offset| Region {
                        buffer,
                        stride,
                        offset,
                    };
                    let name = |branch: &str| format!("{}.{branch}", layer.name);
                    // b0 | b1a | b2a: b0's columns into the output, the reductions into the scratch.
                    steps.push(ops::conv3d(
                        ctx,
                        &name("Branch_0+1+2.Conv3d_0a_1x1"),
                        &b.fused,
                        Region::dense(x, shape.c),
                        shape,
                        region(y, cout, b0_out.start),
                        Some((Region::dense(&r12, red), plan.b0_cols.len())),
                    )?);
                    steps.push(ops::conv3d(
                        ctx,
                        spec.b1b.name,
                        &b.b1b,
                        region(&r12, red, b1_in.start),
                        Shape {
                            c: b1_in.len(),
                            ..shape
                        },
                        region(y, cout, b1_out.start),
                        None,
                    )?);
                    steps.push(ops::conv3d(
                        ctx,
                        spec.b2b.name,
                        &b.b2b,
                        region(&r12, red, b2_in.start),
                        Shape {
                            c: b2_in.len(),
                            ..shape
                        },
                        region(y, cout, b2_out.start),
                        None,
                    )?);
                    steps.push(ops::maxpool3d(
                        ctx,
                        &name("Branch_3.MaxPool3d_0a_3x3"),
                        weights.precision,
                        x,
                        shape,
                        spec.b3_pool,
                        &pooled,
                    )?);
                    steps.push(ops::conv3d(
                        ctx,
                        spec.b3.name,
                        &b.b3,
                        Region::dense(&pooled, shape.c),
                        shape,
                        region(y, cout, b3_out.start),
                        None,
                    )?);
                }
                (Op::AvgPool { kernel }, LayerWeights::None) => steps.push(ops::avgpool3d(
                    ctx,
                    layer.name,
                    weights.precision,
                    x,
                    shape,
                    *kernel,
                    &avg,
                )?),
                (Op::Logits(_), LayerWeights::Conv(w)) => steps.push(ops::logits(
                    ctx,
                    layer.name,
                    w,
                    &avg,
                    shape.n,
                    shape.t * shape.h * shape.w,
                    &logits,
                )?),
                _ => {
                    return Err(Error::Weights(format!(
                        "weights of the wrong kind for {}",
                        layer.name
                    )))
                }
            }
            // Every dispatch of this layer is attributed to it (per-layer times, profiles).
            for step in &mut steps[first_step..] {
                step.layer = Some(id);
            }
            if id.is_inspectable() {
                src = Loc::Act(dst);
                endpoints.push(Endpoint {
                    layer: id,
                    steps: steps.len(),
                    buffer: dst,
                    shape: *out,
                });
            }
            if id == FEATURE_LAYER {
                features = Some((dst, *out));
            }
            shape = *out;
        }
        Ok(Plan {
            frames,
            steps,
            activation_bytes,
            input,
            acts,
            logits,
            logits_staging,
            features,
            features_staging: None,
            timestamps: None,
            endpoints,
            _scratch: vec![r12, pooled, avg],
        })
    }

    /// Queues the upload of a clip (1×T×224×224×3 f32) into the input buffer, in `precision`.
    fn write_input(&self, ctx: &GpuContext, input: &[f32], precision: Precision) {
        match precision {
            Precision::F32 => ctx
                .queue
                .write_buffer(&self.input, 0, bytemuck::cast_slice(input)),
            Precision::F16 => ctx
                .queue
                .write_buffer(&self.input, 0, &encode(input, precision)),
        }
    }

    /// Multiply-adds of one run.
    pub fn macs(&self) -> u64 {
        self.steps.iter().map(|s| s.macs).sum()
    }
}

/// What to read back besides the logits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Read back the features ([`FEATURE_LAYER`]'s output, 1×⌈T/8⌉×7×7×1024).
    pub features: bool,
    /// Time every dispatch with timestamp queries (needs the feature; ignored without it).
    pub profile: bool,
}

/// The time of one dispatch, from timestamp queries.
#[derive(Debug, Clone)]
pub struct KernelTime {
    /// Dispatch label.
    pub label: String,
    /// The layer the dispatch belongs to (`None` outside the network, e.g. a benchmark GEMM).
    pub layer: Option<LayerId>,
    /// Kernel variant.
    pub kernel: KernelId,
    /// Seconds on the device.
    pub seconds: f64,
    /// Multiply-adds.
    pub macs: u64,
    /// (M, N, K) when the dispatch is a GEMM (the convolutions).
    pub gemm_shape: Option<[usize; 3]>,
}

/// The result of one clip.
#[derive(Debug, Clone)]
pub struct Output {
    /// 400 logits.
    pub logits: Vec<f32>,
    /// The features ([`FEATURE_LAYER`]'s output) and their shape, when asked.
    pub features: Option<(Vec<f32>, Shape)>,
    /// Per-dispatch device times, when asked and supported.
    pub profile: Option<Vec<KernelTime>>,
}

/// I3D on a wgpu device.
#[derive(Debug)]
pub struct GpuI3d {
    ctx: GpuContext,
    weights: GpuWeights,
    plan: Option<Plan>,
}

impl GpuI3d {
    /// Uploads the weights of a safetensors file (f32 or f16) in `precision`.
    pub fn new(ctx: GpuContext, weights: &[u8], precision: Precision) -> Result<Self, Error> {
        let weights = GpuWeights::from_safetensors(&ctx, weights, precision)?;
        Ok(GpuI3d {
            ctx,
            weights,
            plan: None,
        })
    }

    /// The device context.
    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    /// The storage precision.
    pub fn precision(&self) -> Precision {
        self.weights.precision
    }

    /// Bytes of weights on the device.
    pub fn weight_bytes(&self) -> u64 {
        self.weights.bytes
    }

    /// The longest clip (frames) whose buffers fit this device's binding limits (0 if none does).
    pub fn max_frames(&self) -> usize {
        let fits = |frames: usize| {
            Plan::buffer_sizes(frames, self.weights.precision).is_ok_and(|sizes| {
                sizes
                    .iter()
                    .all(|(label, size)| self.ctx.check_binding(label, *size).is_ok())
            })
        };
        let (mut lo, mut hi) = (arch::MIN_FRAMES, 1 << 16);
        if !fits(lo) {
            return 0;
        }
        while lo + 1 < hi {
            let mid = (lo + hi) / 2;
            if fits(mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The plan for `frames` frames, built (and checked against the device limits) on first use.
    pub fn plan(&mut self, frames: usize) -> Result<&Plan, Error> {
        self.ensure_plan(frames).map(|p| &*p)
    }

    fn ensure_plan(&mut self, frames: usize) -> Result<&mut Plan, Error> {
        if self.plan.as_ref().is_none_or(|p| p.frames != frames) {
            self.plan = None;
            self.plan = Some(Plan::new(&self.ctx, &self.weights, frames)?);
        }
        self.plan
            .as_mut()
            .ok_or_else(|| Error::Shape("no plan".into()))
    }

    /// Checks that `input` holds a 1×`frames`×224×224×3 clip and builds the plan for `frames` (once),
    /// with wgpu's errors caught in their own scope.
    async fn prepare(&mut self, input: &[f32], frames: usize) -> Result<(), Error> {
        let expected = Shape::clip(frames).elements();
        if input.len() != expected {
            return Err(Error::InputLength {
                got: input.len(),
                expected,
                frames,
            });
        }
        let ctx = self.ctx.clone();
        ctx.push_errors();
        let built = self.ensure_plan(frames).map(|_| ());
        ctx.pop_errors("planning").await?;
        built
    }

    /// Logits (400) of a clip: `input` is 1×`frames`×224×224×3 in [−1, 1].
    pub async fn logits(&mut self, input: &[f32], frames: usize) -> Result<Vec<f32>, Error> {
        Ok(self.run(input, frames, RunOptions::default()).await?.logits)
    }

    /// The output of `layer` (one of [`LayerId::inspectable`], `Conv3d_1a_7x7` … `Mixed_5c`) for a
    /// clip `input` (1×`frames`×224×224×3 in [−1, 1]): the dispatches up to that layer, then one
    /// readback. Returns the values (1×T'×H'×W'×C, NTHWC, f32 whatever the storage precision) and
    /// their shape.
    pub async fn endpoint(
        &mut self,
        input: &[f32],
        frames: usize,
        layer: LayerId,
    ) -> Result<(Vec<f32>, Shape), Error> {
        let layer = i3d_core::anatomy::check_inspectable_id(layer)?;
        self.prepare(input, frames).await?;
        let precision = self.weights.precision;
        let ctx = self.ctx.clone();
        let plan = self.ensure_plan(frames)?;
        let endpoint = plan
            .endpoints
            .iter()
            .find(|e| e.layer == layer)
            .copied()
            .ok_or_else(|| Error::Shape(format!("the plan has no output for {layer}")))?;
        let size = endpoint.shape.elements() as u64 * precision.bytes();
        ctx.push_errors();
        let staging = ctx.staging("endpoint.staging", size.next_multiple_of(4));
        plan.write_input(&ctx, input, precision);
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("i3d.endpoint"),
            });
        ops::encode(&mut encoder, &plan.steps[..endpoint.steps], None);
        encoder.copy_buffer_to_buffer(
            &plan.acts[endpoint.buffer],
            0,
            &staging,
            0,
            size.next_multiple_of(4),
        );
        ctx.queue.submit([encoder.finish()]);
        ctx.pop_errors("submission").await?;
        let mut values = decode(&ctx.read(&staging, size).await?, precision);
        values.truncate(endpoint.shape.elements());
        Ok((values, endpoint.shape))
    }

    /// Runs one clip: one upload, one submission, and the readbacks asked for.
    pub async fn run(
        &mut self,
        input: &[f32],
        frames: usize,
        options: RunOptions,
    ) -> Result<Output, Error> {
        self.prepare(input, frames).await?;
        let precision = self.weights.precision;
        let ctx = self.ctx.clone();
        let plan = self.ensure_plan(frames)?;
        let profile = options.profile && ctx.summary.timestamps;
        if profile && plan.timestamps.is_none() {
            let count = u32::try_from(2 * plan.steps.len())
                .map_err(|_| Error::Shape("too many dispatches to time".into()))?;
            let size = u64::from(count) * 8;
            plan.timestamps = Some(Timestamps {
                queries: ctx.device.create_query_set(&wgpu::QuerySetDescriptor {
                    label: Some("i3d.timestamps"),
                    ty: wgpu::QueryType::Timestamp,
                    count,
                }),
                resolve: ctx.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("i3d.timestamps.resolve"),
                    size,
                    usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                }),
                staging: ctx.staging("i3d.timestamps.staging", size),
            });
        }
        let features = match (options.features, plan.features) {
            (true, Some((index, shape))) => {
                let size = shape.elements() as u64 * precision.bytes();
                if plan.features_staging.is_none() {
                    plan.features_staging = Some(ctx.staging("features.staging", size));
                }
                Some((index, shape, size))
            }
            _ => None,
        };

        ctx.push_errors();
        plan.write_input(&ctx, input, precision);
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("i3d.clip"),
            });
        let timestamps = plan.timestamps.as_ref().filter(|_| profile);
        ops::encode(&mut encoder, &plan.steps, timestamps.map(|t| &t.queries));
        let logits_size = plan.logits_staging.size().min(plan.logits.size());
        encoder.copy_buffer_to_buffer(&plan.logits, 0, &plan.logits_staging, 0, logits_size);
        if let (Some((index, _, size)), Some(staging)) = (features, &plan.features_staging) {
            encoder.copy_buffer_to_buffer(
                &plan.acts[index],
                0,
                staging,
                0,
                size.next_multiple_of(4),
            );
        }
        if let Some(t) = timestamps {
            encoder.resolve_query_set(&t.queries, 0..2 * plan.steps.len() as u32, &t.resolve, 0);
            encoder.copy_buffer_to_buffer(&t.resolve, 0, &t.staging, 0, t.resolve.size());
        }
        ctx.queue.submit([encoder.finish()]);
        ctx.pop_errors("submission").await?;

        let classes = i3d_core::arch::NUM_CLASSES;
        let logits = decode(
            &ctx.read(&plan.logits_staging, (classes * 4) as u64).await?,
            Precision::F32,
        );
        let features = match (features, &plan.features_staging) {
            (Some((_, shape, size)), Some(staging)) => {
                Some((decode(&ctx.read(staging, size).await?, precision), shape))
            }
            _ => None,
        };
        let profile = match timestamps {
            Some(t) => {
                let ticks = decode_u64(&ctx.read(&t.staging, t.staging.size()).await?);
                let period = f64::from(ctx.queue.get_timestamp_period()) * 1e-9;
                Some(
                    plan.steps
                        .iter()
                        .zip(ticks.chunks_exact(2))
                        .map(|(step, pair)| KernelTime {
                            label: step.label.clone(),
                            layer: step.layer,
                            kernel: step.kernel,
                            seconds: pair[1].saturating_sub(pair[0]) as f64 * period,
                            macs: step.macs,
                            gemm_shape: step.gemm_shape,
                        })
                        .collect(),
                )
            }
            None => None,
        };
        Ok(Output {
            logits,
            features,
            profile,
        })
    }

    /// [`GpuI3d::run`], blocking (native only: the browser cannot block).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run_blocking(
        &mut self,
        input: &[f32],
        frames: usize,
        options: RunOptions,
    ) -> Result<Output, Error> {
        pollster::block_on(self.run(input, frames, options))
    }
}

fn decode_u64(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks_exact(8)
        .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        .collect()
}
