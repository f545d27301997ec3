//! Per-kernel device times of one clip and the plain-GEMM yardstick:
//! `cargo run --release -p i3d-gpu --example wgpu_profile -- [frames] [f32|f16]`.

/// Natively only (it blocks and reads files).
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    use std::time::Instant;

    use i3d_core::arch::Shape;
    use i3d_gpu::bench::time_gemm;
    use i3d_gpu::{GpuContext, GpuI3d, Precision, RunOptions};

    let args: Vec<String> = std::env::args().collect();
    let frames: usize = args.get(1).map_or(Ok(16), |s| s.parse())?;
    let precision = match args.get(2).map(String::as_str) {
        Some("f16") => Precision::F16,
        _ => Precision::F32,
    };
    let ctx = pollster::block_on(GpuContext::new())?;
    println!("{}", ctx.summary);
    let dir = i3d_core::manifest::resolve_weights_dir(None)?;
    let file = match precision {
        Precision::F32 => i3d_core::manifest::F32_FILE,
        Precision::F16 => i3d_core::manifest::F16_FILE,
    };
    let bytes = std::fs::read(dir.join(file))?;
    let mut model = GpuI3d::new(ctx.clone(), &bytes, precision)?;
    let input: Vec<f32> = (0..Shape::clip(frames).elements())
        .map(|i| ((i % 251) as f32 / 125.0) - 1.0)
        .collect();
    let t = Instant::now();
    model.run_blocking(&input, frames, RunOptions::default())?;
    println!("first run {:.2} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    model.run_blocking(&input, frames, RunOptions::default())?;
    let wall = t.elapsed().as_secs_f64();
    let out = model.run_blocking(
        &input,
        frames,
        RunOptions {
            profile: true,
            features: false,
        },
    )?;
    let macs = model.plan(frames)?.macs();
    println!(
        "warm run {wall:.2} s, {:.1} GFLOP/s",
        2.0 * macs as f64 / wall / 1e9
    );
    if let Some(profile) = out.profile {
        let total: f64 = profile.iter().map(|k| k.seconds).sum();
        for k in &profile {
            println!(
                "{:<45} {:<18} {:8.2} ms {:7.1} GFLOP/s",
                k.label,
                k.kernel.label(),
                k.seconds * 1e3,
                2.0 * k.macs as f64 / k.seconds / 1e9
            );
        }
        println!("sum of kernels {:.2} s", total);
    }
    // N and K of Conv3d_2c (192, 27·64); M = 8192 keeps A within one binding.
    let shape = [8192, 192, 1728];
    let g = pollster::block_on(time_gemm(&ctx, precision, shape, 3))?;
    println!(
        "plain GEMM {:?}: {:.2} ms, {:.1} GFLOP/s",
        g.shape,
        g.seconds * 1e3,
        g.gflops()
    );
    Ok(())
}
