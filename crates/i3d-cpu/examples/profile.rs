//! Per-layer timing of the candle CPU executor.
//!
//! `cargo run --release -p i3d --example profile -- WEIGHTS.safetensors [FRAMES] [RUNS]`
//! (thread count: `RAYON_NUM_THREADS`). Prints, per layer, the median milliseconds over the
//! warm runs and the GFLOP/s of its convolutions, then the median total.

use std::time::Instant;

use candle_core::{Device, Tensor};
use i3d_core::arch::{layer_macs, Shape, I3D_LAYERS};
use i3d_cpu::InceptionI3d;

/// CPU time (ns) of all threads of this process so far (Linux; 0 elsewhere).
fn cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let weights = args
        .next()
        .ok_or("usage: profile WEIGHTS [FRAMES] [RUNS]")?;
    let frames: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(16);
    let runs: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(3);
    let model = InceptionI3d::from_file(std::path::Path::new(&weights))?;
    let n = frames * 224 * 224 * 3;
    let data: Vec<f32> = (0..n).map(|i| ((i as f32) * 0.001).sin()).collect();
    let x = Tensor::from_vec(data, (1, frames, 224, 224, 3), &Device::Cpu)?;
    let macs = layer_macs(I3D_LAYERS, Shape::clip(frames))?;
    let mut per_layer = vec![Vec::new(); I3D_LAYERS.len()];
    let mut totals = Vec::new();
    let mut cpus = Vec::new();
    for run in 0..=runs {
        let cpu = cpu_ns();
        let start = Instant::now();
        let mut last = start;
        let mut i = 0;
        model.forward_endpoints(&x, |_, _| {
            let now = Instant::now();
            if run > 0 {
                per_layer[i].push((now - last).as_secs_f64());
            }
            last = now;
            i += 1;
        })?;
        if run > 0 {
            totals.push(start.elapsed().as_secs_f64());
            cpus.push((cpu_ns() - cpu) as f64 / 1e9);
        }
    }
    for ((layer, times), macs) in I3D_LAYERS.iter().zip(&mut per_layer).zip(&macs) {
        let t = median(times);
        println!(
            "{:<20} {:8.2} ms {:7.1} GFLOP/s",
            layer.name,
            t * 1e3,
            2.0 * *macs as f64 / t / 1e9
        );
    }
    let total = median(&mut totals);
    let min = totals[0];
    let cpu = median(&mut cpus);
    let all: u64 = macs.iter().sum();
    println!(
        "total T={frames}: median {:.1} ms (min {:.1}), {:.1} GFLOP/s; CPU time median {:.1} ms",
        total * 1e3,
        min * 1e3,
        2.0 * all as f64 / total / 1e9,
        cpu * 1e3
    );
    Ok(())
}
