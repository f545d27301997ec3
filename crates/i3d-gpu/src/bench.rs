//! Benchmarks: the yardstick of the conv kernel, the plain tiled GEMM (`gemm.wgsl`, same tiles and
//! register blocks, dense operands) timed on the same device, so the implicit-GEMM convolution's
//! throughput can be given as a fraction of what the device does on a GEMM of the same N and K;
//! per-kernel summaries of a profiled clip; and (natively) a whole-clip benchmark.

use crate::context::{encode, GpuContext};
use crate::kernels::{Conv3d, KernelId, Precision, TILE_K, TILE_N};
use crate::model::KernelTime;
use crate::ops::{self, Dispatch};
use crate::Error;
#[cfg(not(target_arch = "wasm32"))]
use crate::GpuI3d;

/// One timed GEMM shape.
#[derive(Debug, Clone, Copy)]
pub struct GemmTiming {
    /// M, N, K.
    pub shape: [usize; 3],
    /// Median seconds per GEMM.
    pub seconds: f64,
    /// Whether the time comes from timestamp queries (else wall clock around submission).
    pub device_timed: bool,
}

impl GemmTiming {
    /// 2·M·N·K / seconds, in GFLOP/s.
    pub fn gflops(&self) -> f64 {
        let [m, n, k] = self.shape;
        2.0 * m as f64 * n as f64 * k as f64 / self.seconds / 1e9
    }
}

/// Deterministic values in [−1, 1) (an LCG: the data only has to be finite and non-zero).
fn pseudo_random(len: usize, mut state: u64) -> Vec<f32> {
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// Times C = A·B (M×K by K×N) with the plain GEMM kernel: `repeats` runs after one warm-up,
/// median. Device time with timestamp queries; natively without them, wall clock per submission.
pub async fn time_gemm(
    ctx: &GpuContext,
    precision: Precision,
    [m, n, k]: [usize; 3],
    repeats: usize,
) -> Result<GemmTiming, Error> {
    ctx.check_precision(precision)?;
    let k_rows = k.next_multiple_of(TILE_K as usize);
    let n_pad = n.next_multiple_of(TILE_N as usize);
    let a = ctx.upload("gemm.a", &encode(&pseudo_random(m * k, 1), precision))?;
    let b = ctx.upload(
        "gemm.b",
        &encode(&pseudo_random(k_rows * n_pad, 2), precision),
    )?;
    let c = ctx.storage("gemm.c", m as u64 * n as u64 * precision.bytes())?;
    let step = ops::gemm(ctx, "gemm", precision, &a, &b, &c, [m, n, k], n_pad)?;
    let repeats = repeats.max(1);
    let mut times = if ctx.summary.timestamps {
        timed_on_device(ctx, &step, repeats).await?
    } else {
        timed_on_host(ctx, &step, repeats)?
    };
    times.sort_by(f64::total_cmp);
    Ok(GemmTiming {
        shape: [m, n, k],
        seconds: times[times.len() / 2],
        device_timed: ctx.summary.timestamps,
    })
}

async fn timed_on_device(
    ctx: &GpuContext,
    step: &Dispatch,
    repeats: usize,
) -> Result<Vec<f64>, Error> {
    let runs = repeats + 1;
    let count = u32::try_from(2 * runs).map_err(|_| Error::Shape("too many repeats".into()))?;
    let queries = ctx.device.create_query_set(&wgpu::QuerySetDescriptor {
        label: Some("gemm.timestamps"),
        ty: wgpu::QueryType::Timestamp,
        count,
    });
    let size = u64::from(count) * 8;
    let resolve = ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("gemm.timestamps.resolve"),
        size,
        usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let staging = ctx.staging("gemm.timestamps.staging", size);
    let steps = vec![step.clone(); runs];
    ctx.push_errors();
    let mut encoder = ctx
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("gemm.bench"),
        });
    ops::encode(&mut encoder, &steps, Some(&queries));
    encoder.resolve_query_set(&queries, 0..count, &resolve, 0);
    encoder.copy_buffer_to_buffer(&resolve, 0, &staging, 0, size);
    ctx.queue.submit([encoder.finish()]);
    ctx.pop_errors("gemm benchmark").await?;
    let bytes = ctx.read(&staging, size).await?;
    let period = f64::from(ctx.queue.get_timestamp_period()) * 1e-9;
    let ticks: Vec<u64> = bytes
        .chunks_exact(8)
        .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        .collect();
    Ok(ticks
        .chunks_exact(2)
        .skip(1)
        .map(|p| p[1].saturating_sub(p[0]) as f64 * period)
        .collect())
}

#[cfg(not(target_arch = "wasm32"))]
fn timed_on_host(ctx: &GpuContext, step: &Dispatch, repeats: usize) -> Result<Vec<f64>, Error> {
    let mut times = Vec::with_capacity(repeats);
    for i in 0..=repeats {
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("gemm.bench"),
            });
        ops::encode(&mut encoder, std::slice::from_ref(step), None);
        let start = std::time::Instant::now();
        ctx.queue.submit([encoder.finish()]);
        ctx.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Readback(e.to_string()))?;
        if i > 0 {
            times.push(start.elapsed().as_secs_f64());
        }
    }
    Ok(times)
}

#[cfg(target_arch = "wasm32")]
fn timed_on_host(_: &GpuContext, _: &Dispatch, _: usize) -> Result<Vec<f64>, Error> {
    Err(Error::Shape(
        "timing the GEMM in the browser needs timestamp queries".into(),
    ))
}

/// Totals of one kernel variant over a profiled run.
#[derive(Debug, Clone)]
pub struct KernelSummary {
    /// The variant.
    pub kernel: KernelId,
    /// Dispatches of it.
    pub dispatches: usize,
    /// Device seconds, summed.
    pub seconds: f64,
    /// Multiply-adds, summed.
    pub macs: u64,
}

impl KernelSummary {
    /// 2·MAC / s in GFLOP/s (0 for the pools).
    pub fn gflops(&self) -> f64 {
        if self.seconds > 0.0 {
            2.0 * self.macs as f64 / self.seconds / 1e9
        } else {
            0.0
        }
    }
}

/// Groups a profile by kernel variant, in order of first appearance.
pub fn summarize(profile: &[KernelTime]) -> Vec<KernelSummary> {
    let mut out: Vec<KernelSummary> = Vec::new();
    for k in profile {
        match out.iter_mut().find(|s| s.kernel == k.kernel) {
            Some(s) => {
                s.dispatches += 1;
                s.seconds += k.seconds;
                s.macs += k.macs;
            }
            None => out.push(KernelSummary {
                kernel: k.kernel,
                dispatches: 1,
                seconds: k.seconds,
                macs: k.macs,
            }),
        }
    }
    out
}

/// The convolutions' throughput against the plain GEMM on the same device.
#[derive(Debug, Clone)]
pub struct GemmComparison {
    /// The largest convolution of the clip (most multiply-adds).
    pub conv_label: String,
    /// Its (M, N, K).
    pub conv_shape: [usize; 3],
    /// Its GFLOP/s (device time).
    pub conv_gflops: f64,
    /// All convolutions together, GFLOP/s (device time).
    pub all_convs_gflops: f64,
    /// The plain GEMM with the same N and K (M capped by the binding limit).
    pub gemm: GemmTiming,
}

impl GemmComparison {
    /// The largest conv's GFLOP/s as a fraction of the plain GEMM's.
    pub fn ratio(&self) -> f64 {
        self.conv_gflops / self.gemm.gflops()
    }

    /// All convs' GFLOP/s as a fraction of the plain GEMM's.
    pub fn all_convs_ratio(&self) -> f64 {
        self.all_convs_gflops / self.gemm.gflops()
    }
}

/// Times the plain GEMM at the N and K of the largest convolution of `profile` (M as large as one
/// binding allows, up to the conv's) and compares.
pub async fn compare_with_gemm(
    ctx: &GpuContext,
    precision: Precision,
    profile: &[KernelTime],
) -> Result<Option<GemmComparison>, Error> {
    let convs: Vec<&KernelTime> = profile
        .iter()
        .filter(|k| k.kernel.kernel.is::<Conv3d>())
        .collect();
    let Some(largest) = convs.iter().max_by_key(|k| k.macs) else {
        return Ok(None);
    };
    let Some([m, n, k]) = largest.gemm_shape else {
        return Ok(None);
    };
    let row_bytes = (k.max(n) as u64) * precision.bytes();
    let max_rows = (ctx.summary.max_storage_binding / row_bytes.max(1)) as usize / 64 * 64;
    let gemm_m = m.min(max_rows.max(64));
    let gemm = time_gemm(ctx, precision, [gemm_m, n, k], 3).await?;
    let (seconds, macs) = convs
        .iter()
        .fold((0.0, 0u64), |(s, m), c| (s + c.seconds, m + c.macs));
    Ok(Some(GemmComparison {
        conv_label: largest.label.clone(),
        conv_shape: [m, n, k],
        conv_gflops: 2.0 * largest.macs as f64 / largest.seconds / 1e9,
        all_convs_gflops: 2.0 * macs as f64 / seconds / 1e9,
        gemm,
    }))
}

/// A clip benchmark of [`GpuI3d`] (native: wall-clock times).
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone)]
pub struct ClipBench {
    /// Frames per clip.
    pub frames: usize,
    /// Wall-clock seconds of each timed run (upload, one submission, logits readback).
    pub seconds: Vec<f64>,
    /// Multiply-adds per clip.
    pub macs: u64,
    /// Per-dispatch device times of one more run (with timestamp queries).
    pub profile: Option<Vec<KernelTime>>,
    /// The conv kernel against the plain GEMM (with timestamp queries).
    pub gemm: Option<GemmComparison>,
}

#[cfg(not(target_arch = "wasm32"))]
impl ClipBench {
    /// Median wall-clock seconds per clip.
    pub fn median(&self) -> f64 {
        let mut v = self.seconds.clone();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    }

    /// GFLOP/s at the median.
    pub fn gflops(&self) -> f64 {
        2.0 * self.macs as f64 / self.median() / 1e9
    }
}

/// Runs one warm-up clip, `runs` timed clips, then (with timestamp queries) one profiled clip
/// and the GEMM comparison. The clip is a smooth deterministic pattern in [−1, 1].
#[cfg(not(target_arch = "wasm32"))]
pub fn bench_clip(model: &mut GpuI3d, frames: usize, runs: usize) -> Result<ClipBench, Error> {
    let n = i3d_core::arch::Shape::clip(frames).elements();
    let input: Vec<f32> = (0..n).map(|i| ((i % 9973) as f32 * 0.013).sin()).collect();
    let options = crate::RunOptions::default();
    model.run_blocking(&input, frames, options)?;
    let mut seconds = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let start = std::time::Instant::now();
        model.run_blocking(&input, frames, options)?;
        seconds.push(start.elapsed().as_secs_f64());
    }
    let macs = model.plan(frames)?.macs();
    let ctx = model.context().clone();
    let (profile, gemm) = if ctx.summary.timestamps {
        let profile = model
            .run_blocking(
                &input,
                frames,
                crate::RunOptions {
                    profile: true,
                    features: false,
                },
            )?
            .profile;
        let gemm = match &profile {
            Some(p) => pollster::block_on(compare_with_gemm(&ctx, model.precision(), p))?,
            None => None,
        };
        (profile, gemm)
    } else {
        (None, None)
    };
    Ok(ClipBench {
        frames,
        seconds,
        macs,
        profile,
        gemm,
    })
}
