//! `kinetiscope bench`: I3D inference speed and memory on the CPU (candle) or, with
//! `--backend wgpu`, on a wgpu adapter (see [`run_wgpu`]).
//!
//! Times the network alone (the clip is made once, outside the timing) over `--runs` warm runs
//! after one warm-up, and prints the median time per clip, the GFLOP/s this means by the
//! architecture's count (`i3d_core::arch::macs`, 2 FLOP per multiply-add), and the peak resident
//! memory of the process (VmHWM in /proc/self/status: weights, clip and activations). `--layers`
//! adds every layer's median time and effective GFLOP/s (direct convolution FLOPs ÷ time).

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use candle_core::{Device, Tensor};
use i3d_core::arch::{layer_macs, Shape, I3D_LAYERS};
use serde::Serialize;

/// Arguments of `kinetiscope bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Where the network runs (wgpu: device times per kernel with timestamp queries, and the
    /// conv kernel against a plain GEMM on the same adapter).
    #[arg(long, default_value = "cpu", value_name = "auto|cpu|wgpu")]
    pub backend: engine::BackendChoice,
    /// Clip length (frames); 16, 32 and 64 are the reference points, any T ≥ 9 works.
    #[arg(long, default_value_t = 16)]
    pub frames: usize,
    /// Worker threads (default: one per physical core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Timed runs (after one warm-up run); the median is reported.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Also print every layer's median time (ms) and effective GFLOP/s: the direct convolution's FLOPs ÷ time,
    /// so layers run as Winograd (fewer multiplications) can exceed the machine's peak (wgpu: every dispatch's
    /// device time).
    #[arg(long, visible_alias = "profile")]
    pub layers: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// The weights directory (default: $KINETISCOPE_WEIGHTS, else the per-user data directory).
    #[arg(long, value_name = "PATH")]
    pub weights: Option<std::path::PathBuf>,
}

/// One layer's median time in `--layers`.
#[derive(Debug, Serialize)]
struct LayerTime {
    name: &'static str,
    /// Median milliseconds over the timed runs.
    ms: f64,
    /// Effective GFLOP/s: the direct convolution's FLOPs (2 per multiply-add of the architecture's count) ÷ the
    /// median time; a Winograd layer does fewer multiplications, so its rate can exceed the machine's peak.
    gflops: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    backend: &'static str,
    frames: usize,
    threads: usize,
    runs: usize,
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
    gflop_per_clip: f64,
    /// Parameters of the network (the `/inside` page shows the same count).
    parameters: usize,
    gflops: f64,
    peak_rss_mb: Option<f64>,
    buffers_mb: f64,
    /// Weights as the CPU kernels hold them (Winograd layers: transformed).
    weights_mb: f64,
    layers: Vec<LayerTime>,
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// Peak resident set size (VmHWM) of this process, in bytes (Linux only).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The f32 weights of the weights directory, checked against the manifest. (The benchmark times
/// each executor alone, so it builds them itself rather than through the engine.)
fn verified_weights(dir: Option<&std::path::Path>) -> Result<Vec<u8>> {
    use i3d_core::manifest::{read_weights, resolve_weights_dir};
    let dir = resolve_weights_dir(dir)?;
    let (weights, _) = read_weights(&dir, engine::Precision::F32)?;
    Ok(weights.into_bytes())
}

/// Runs `kinetiscope bench`.
pub fn run(args: BenchArgs) -> Result<()> {
    if let Some(threads) = args.threads {
        if threads == 0 {
            bail!("--threads must be at least 1");
        }
        // candle's own ops size their work split from RAYON_NUM_THREADS on every call, and the
        // global rayon pool (our kernels' threads) reads it once: set both before anything runs.
        std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()?;
    }
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let macs = i3d_core::arch::macs(args.frames)?;
    let weights = verified_weights(args.weights.as_deref())?;
    let options = engine::Options {
        backend: args.backend,
        precision: engine::PrecisionChoice::Auto,
    };
    let selection = pollster::block_on(engine::select(options))?;
    eprintln!("backend {}: {}", selection.backend(), selection.reason);
    if let engine::Target::Wgpu(ctx) = selection.target {
        let precision = ctx.best_precision();
        let mut model = i3d_gpu::GpuI3d::new(ctx, &weights, precision)?;
        return run_wgpu(&args, &mut model);
    }
    let per_layer_macs = layer_macs(I3D_LAYERS, Shape::clip(args.frames))?;
    let model = i3d_cpu::InceptionI3d::from_safetensors_bytes(&weights)?;
    // A smooth deterministic clip in [-1, 1] (the values do not change the work).
    let n = args.frames * 224 * 224 * 3;
    let data: Vec<f32> = (0..n).map(|i| ((i % 9973) as f32 * 0.013).sin()).collect();
    let clip = Tensor::from_vec(data, (1, args.frames, 224, 224, 3), &Device::Cpu)?;

    let mut totals = Vec::with_capacity(args.runs);
    let mut layers = vec![Vec::with_capacity(args.runs); I3D_LAYERS.len()];
    for run in 0..=args.runs {
        let start = Instant::now();
        let mut last = start;
        let mut i = 0;
        model.forward_endpoints(&clip, |_, _| {
            let now = Instant::now();
            if run > 0 {
                if let Some(times) = layers.get_mut(i) {
                    times.push(now - last);
                }
            }
            last = now;
            i += 1;
        })?;
        if run > 0 {
            totals.push(start.elapsed());
        }
    }
    let med = median(&mut totals);
    let (min, max) = (totals[0], totals[totals.len() - 1]);
    let flop = 2.0 * macs as f64;
    let report = Report {
        backend: "cpu",
        frames: args.frames,
        threads: rayon::current_num_threads(),
        runs: args.runs,
        median_ms: med.as_secs_f64() * 1e3,
        min_ms: min.as_secs_f64() * 1e3,
        max_ms: max.as_secs_f64() * 1e3,
        gflop_per_clip: flop / 1e9,
        parameters: i3d_core::arch::parameters(),
        gflops: flop / med.as_secs_f64() / 1e9,
        peak_rss_mb: peak_rss_bytes().map(|b| b as f64 / (1 << 20) as f64),
        buffers_mb: model.buffer_bytes() as f64 / (1 << 20) as f64,
        weights_mb: model.weight_bytes() as f64 / (1 << 20) as f64,
        layers: if args.layers {
            I3D_LAYERS
                .iter()
                .zip(&mut layers)
                .zip(&per_layer_macs)
                .map(|((layer, times), &macs)| {
                    let t = median(times).as_secs_f64();
                    LayerTime {
                        name: layer.name,
                        ms: t * 1e3,
                        gflops: if t > 0.0 {
                            2.0 * macs as f64 / t / 1e9
                        } else {
                            0.0
                        },
                    }
                })
                .collect()
        } else {
            Vec::new()
        },
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    println!(
        "I3D T={} on cpu (candle), {} thread(s), median of {} runs: {:.1} ms per clip \
         (min {:.1}, max {:.1}), {:.1} GFLOP/s ({:.2} GFLOP per clip, {:.2} M parameters)",
        report.frames,
        report.threads,
        report.runs,
        report.median_ms,
        report.min_ms,
        report.max_ms,
        report.gflops,
        report.gflop_per_clip,
        report.parameters as f64 / 1e6
    );
    match report.peak_rss_mb {
        Some(mb) => println!(
            "peak memory (VmHWM): {mb:.0} MB (activation buffers {:.0} MB, weights {:.1} MB)",
            report.buffers_mb, report.weights_mb
        ),
        None => println!(
            "peak memory: unknown (no /proc/self/status); activation buffers {:.0} MB, weights {:.1} MB",
            report.buffers_mb, report.weights_mb
        ),
    }
    if !report.layers.is_empty() {
        println!(
            "per layer, median of {} runs: ms and effective GFLOP/s = direct convolution FLOPs ÷ time \
             (Winograd layers do fewer multiplications, so theirs can exceed the machine's peak)",
            report.runs
        );
    }
    for layer in &report.layers {
        println!(
            "  {:<20} {:8.2} ms {:7.1} GFLOP/s",
            layer.name, layer.ms, layer.gflops
        );
    }
    Ok(())
}

#[derive(Debug, Serialize)]
struct KernelReport {
    kernel: String,
    dispatches: usize,
    ms: f64,
    gflops: f64,
}

#[derive(Debug, Serialize)]
struct DispatchReport {
    label: String,
    kernel: String,
    ms: f64,
    gflops: f64,
}

#[derive(Debug, Serialize)]
struct GemmReport {
    conv: String,
    conv_mnk: [usize; 3],
    conv_gflops: f64,
    all_convs_gflops: f64,
    gemm_mnk: [usize; 3],
    gemm_gflops: f64,
    ratio: f64,
    all_convs_ratio: f64,
}

#[derive(Debug, Serialize)]
struct GpuReport {
    backend: &'static str,
    adapter: String,
    precision: String,
    frames: usize,
    runs: usize,
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
    gflop_per_clip: f64,
    /// Parameters of the network (the `/inside` page shows the same count).
    parameters: usize,
    gflops: f64,
    device_ms: Option<f64>,
    kernels: Vec<KernelReport>,
    dispatches: Vec<DispatchReport>,
    conv_vs_gemm: Option<GemmReport>,
    peak_rss_mb: Option<f64>,
}

/// `kinetiscope bench --backend wgpu`: wall-clock time per clip (upload, one submission, logits
/// readback), per-kernel device times from timestamp queries, and the conv kernel against the
/// plain GEMM kernel on the same adapter.
fn run_wgpu(args: &BenchArgs, model: &mut i3d_gpu::GpuI3d) -> Result<()> {
    let bench = i3d_gpu::bench::bench_clip(model, args.frames, args.runs)?;
    let mut times = bench.seconds.clone();
    times.sort_by(f64::total_cmp);
    let ms = |s: f64| s * 1e3;
    let gflops = |macs: u64, s: f64| {
        if s > 0.0 {
            2.0 * macs as f64 / s / 1e9
        } else {
            0.0
        }
    };
    let profile = bench.profile.clone().unwrap_or_default();
    let report = GpuReport {
        backend: "wgpu",
        adapter: model.context().summary.to_string(),
        precision: model.precision().to_string(),
        frames: args.frames,
        runs: times.len(),
        median_ms: ms(bench.median()),
        min_ms: ms(times.first().copied().unwrap_or_default()),
        max_ms: ms(times.last().copied().unwrap_or_default()),
        gflop_per_clip: 2.0 * bench.macs as f64 / 1e9,
        parameters: i3d_core::arch::parameters(),
        gflops: bench.gflops(),
        device_ms: bench
            .profile
            .as_ref()
            .map(|p| ms(p.iter().map(|k| k.seconds).sum())),
        kernels: i3d_gpu::bench::summarize(&profile)
            .iter()
            .map(|k| KernelReport {
                kernel: k.kernel.label(),
                dispatches: k.dispatches,
                ms: ms(k.seconds),
                gflops: k.gflops(),
            })
            .collect(),
        dispatches: if args.layers {
            profile
                .iter()
                .map(|k| DispatchReport {
                    label: k.label.clone(),
                    kernel: k.kernel.label(),
                    ms: ms(k.seconds),
                    gflops: gflops(k.macs, k.seconds),
                })
                .collect()
        } else {
            Vec::new()
        },
        conv_vs_gemm: bench.gemm.as_ref().map(|g| GemmReport {
            conv: g.conv_label.clone(),
            conv_mnk: g.conv_shape,
            conv_gflops: g.conv_gflops,
            all_convs_gflops: g.all_convs_gflops,
            gemm_mnk: g.gemm.shape,
            gemm_gflops: g.gemm.gflops(),
            ratio: g.ratio(),
            all_convs_ratio: g.all_convs_ratio(),
        }),
        peak_rss_mb: peak_rss_bytes().map(|b| b as f64 / (1 << 20) as f64),
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    println!(
        "I3D T={} on wgpu ({}, {} storage), median of {} runs: {:.1} ms per clip \
         (min {:.1}, max {:.1}), {:.1} GFLOP/s ({:.2} GFLOP per clip, {:.2} M parameters)",
        report.frames,
        report.adapter,
        report.precision,
        report.runs,
        report.median_ms,
        report.min_ms,
        report.max_ms,
        report.gflops,
        report.gflop_per_clip,
        report.parameters as f64 / 1e6
    );
    match report.device_ms {
        Some(device) => {
            println!("device time (timestamp queries, one profiled run): {device:.1} ms")
        }
        None => println!("per-kernel times: the adapter has no timestamp queries"),
    }
    for k in &report.kernels {
        println!(
            "  {:<22} {:3} dispatches {:9.2} ms {:7.1} GFLOP/s",
            k.kernel, k.dispatches, k.ms, k.gflops
        );
    }
    for d in &report.dispatches {
        println!(
            "    {:<42} {:<20} {:8.2} ms {:7.1} GFLOP/s",
            d.label, d.kernel, d.ms, d.gflops
        );
    }
    if let Some(g) = &report.conv_vs_gemm {
        println!(
            "conv3d vs plain GEMM: {} (M,N,K = {:?}) {:.1} GFLOP/s, plain GEMM ({:?}) {:.1} GFLOP/s: \
             {:.0}%; all convs {:.1} GFLOP/s: {:.0}%",
            g.conv,
            g.conv_mnk,
            g.conv_gflops,
            g.gemm_mnk,
            g.gemm_gflops,
            100.0 * g.ratio,
            g.all_convs_gflops,
            100.0 * g.all_convs_ratio
        );
    }
    if let Some(mb) = report.peak_rss_mb {
        println!("peak memory (VmHWM): {mb:.0} MB");
    }
    Ok(())
}
