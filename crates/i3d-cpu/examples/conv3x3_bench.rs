//! Times every stride-1 3×3×3 convolution of I3D (the real shapes for a T-frame clip, random
//! weights) on the direct im2col path and on the Winograd path, one line per convolution: the data
//! behind [`i3d_cpu::kernels::winograd::preferred`] (which also keeps 7×7 planes direct).
//!
//! `RAYON_NUM_THREADS=1 cargo run --release -p i3d-cpu --example conv3x3_bench [-- FRAMES [RUNS]]`
//! (candle's matmul and rayon's pool both read RAYON_NUM_THREADS).

use std::time::Instant;

use candle_core::{Device, Tensor};
use i3d_core::arch::Shape;
use i3d_cpu::kernels::winograd::{self, WinogradWeight};
use i3d_cpu::kernels::Workspace;
use i3d_cpu::layers::{ConvWeight, Unit3d};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let frames: usize = args.next().map_or(Ok(16), |a| a.parse())?;
    let runs: usize = args.next().map_or(Ok(7), |a| a.parse())?;
    let convs = winograd::network_convs(frames)?;
    println!(
        "{} thread(s), T = {frames}, median of {runs}; GFLOP counts the direct 27 taps",
        rayon::current_num_threads()
    );
    println!(
        "{:<34} {:>18} {:>7} {:>9} {:>9} {:>8} {:>8} {:>6}",
        "conv", "input", "GFLOP", "direct ms", "wino ms", "dir GF/s", "eff GF/s", "ratio"
    );
    let (mut sum_d, mut sum_w) = (0.0, 0.0);
    for (spec, input) in convs {
        let mut s = 1u64;
        let mut rand = |n: usize, scale: f32| -> Vec<f32> {
            (0..n)
                .map(|_| {
                    s = s
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
                })
                .collect()
        };
        let x = Tensor::from_vec(
            rand(input.elements(), 1.0),
            input.dims().to_vec(),
            &Device::Cpu,
        )?;
        let w = Tensor::from_vec(
            rand(spec.weight_len(), 0.05),
            (spec.k(), spec.cout),
            &Device::Cpu,
        )?;
        let bias = rand(spec.cout, 0.1);
        let direct = Unit3d {
            spec,
            weight: ConvWeight::Direct(w.clone()),
            bias: bias.clone(),
        };
        let wino = Unit3d {
            spec,
            weight: ConvWeight::Winograd(WinogradWeight::from_direct(&w, spec.cin, spec.cout)?),
            bias,
        };
        let mut ws = Workspace::default();
        let dst = Tensor::zeros(
            Shape {
                c: spec.cout,
                ..input
            }
            .dims()
            .to_vec(),
            candle_core::DType::F32,
            &Device::Cpu,
        )?;
        let mut time = |unit: &Unit3d| -> Result<f64, Box<dyn std::error::Error>> {
            let mut t = Vec::new();
            for run in 0..=runs {
                let start = Instant::now();
                unit.forward_into(&x, &mut ws, &dst, 0)?;
                if run > 0 {
                    t.push(start.elapsed().as_secs_f64());
                }
            }
            t.sort_by(f64::total_cmp);
            Ok(t[t.len() / 2])
        };
        let td = time(&direct)?;
        let tw = time(&wino)?;
        sum_d += td;
        sum_w += tw;
        let gflop = 2.0 * (input.positions() * spec.k() * spec.cout) as f64 / 1e9;
        println!(
            "{:<34} {:>18} {:>7.3} {:>9.2} {:>9.2} {:>8.1} {:>8.1} {:>6.2}",
            spec.name,
            input.to_string(),
            gflop,
            td * 1e3,
            tw * 1e3,
            gflop / td,
            gflop / tw,
            td / tw
        );
    }
    println!(
        "total: direct {:.1} ms, winograd {:.1} ms",
        sum_d * 1e3,
        sum_w * 1e3
    );
    Ok(())
}
