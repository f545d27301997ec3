//! The yardstick of the conv kernel: the plain tiled GEMM (`gemm.wgsl`, same tiles and register
//! blocks, dense operands) timed on the same device, so the implicit-GEMM convolution's throughput
//! can be given as a fraction of what the device does on a GEMM of the same M, N, K.

use crate::context::{encode, GpuContext};
use crate::kernels::{Precision, TILE_K, TILE_N};
use crate::ops::{self, Dispatch};
use crate::Error;

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
        2.0 * (m * n * k) as f64 / self.seconds / 1e9
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
    let c = ctx.storage("gemm.c", (m * n) as u64 * precision.bytes())?;
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
