//! GEMM throughput of candle's CPU matmul on the shapes of I3D's convolutions.
//!
//! `cargo run --release -p i3d --example gemm` (threads: `RAYON_NUM_THREADS`).

use std::time::Instant;

use candle_core::{Device, Tensor};

fn main() -> candle_core::Result<()> {
    // (rows, K, cout): stem chunk, Conv3d_2c chunk, Mixed_3c b1b chunk, a 1×1 chunk, Mixed_4 3×3 chunk.
    for (m, k, n) in [
        // Chunks of 4 MiB of im2col rows: the stem, Conv3d_2c, Mixed_3c b1b, Mixed_4f b1b.
        (1008, 1029, 64),
        (560, 1728, 192),
        (280, 3456, 192),
        (238, 4320, 320),
        // A 1×1×1 chunk (Mixed_3c b0+b1a+b2a) and whole layers.
        (1820, 256, 288),
        (6272, 3456, 192),
        (25088, 1728, 192),
    ] {
        let a = Tensor::rand(-1f32, 1f32, (m, k), &Device::Cpu)?;
        let b = Tensor::rand(-1f32, 1f32, (k, n), &Device::Cpu)?;
        let mut times = Vec::new();
        for _ in 0..12 {
            let t = Instant::now();
            let c = a.matmul(&b)?;
            drop(c);
            times.push(t.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let t = times[times.len() / 2];
        println!(
            "m={m:5} k={k:5} n={n:4}: {:7.3} ms {:6.1} GFLOP/s",
            t * 1e3,
            2.0 * (m * k * n) as f64 / t / 1e9
        );
    }
    Ok(())
}
