//! `cargo xtask bench-native`: `kinetiscope bench` (release, CPU) beside onnxruntime's CPU execution provider
//! (Python, from PyPI) on the same I3D graph and weights, at the same thread counts, alternated.
//!
//! Each round runs, for each `--threads` count, `kinetiscope bench --json` and then `../shared/peers/ort_bench.py`
//! (the ONNX graph `make_onnx.py` makes from the same PyPI checkpoint, see [`bench::peer_model`]), each as a
//! fresh process that times one warm-up and then its runs and reports their median. The summary is the median of
//! those per-round medians, with ratios and each side's peak resident memory, printed like `bench-browser`'s
//! `RESULT` lines. A measurement: it asserts nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, ensure, Context, Result};

use crate::{bench, display_cmd, weights};

/// Timed runs of `ort_bench.py` per process (fixed by the script; after one warm-up).
const ORT_RUNS: u32 = 5;

/// Runs `ort_bench.py` (`sys.argv[1:]`) as `__main__`, then prints the process's peak resident memory
/// (`ru_maxrss`: KiB on Linux, the same peak as VmHWM, which `kinetiscope bench` reports for itself).
const ORT_WRAPPER: &str = "import resource, runpy, sys; sys.argv = sys.argv[1:]; \
runpy.run_path(sys.argv[0], run_name='__main__'); \
print('peak_rss_kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)";

/// Arguments of `cargo xtask bench-native`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchNativeArgs {
    /// Thread counts (ours: rayon's pool; onnxruntime: intra-op threads), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<u32>,
    /// Rounds; each runs both sides once at every thread count, in turn.
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Timed runs per `kinetiscope bench` process, after its warm-up (onnxruntime's script always times 5).
    #[arg(long, default_value_t = ORT_RUNS)]
    runs: u32,
    /// Clip length in frames (224×224 each).
    #[arg(long, default_value_t = 16)]
    frames: u32,
}

/// One process's result.
#[derive(Debug, Clone, Copy)]
struct Sample {
    /// Median time per clip over the process's timed runs, in milliseconds.
    median_ms: f64,
    /// Peak resident memory of the process, in MiB (None: not reported).
    peak_rss_mb: Option<f64>,
}

/// What `kinetiscope bench --json` prints that this reads.
#[derive(Debug, serde::Deserialize)]
struct OursReport {
    threads: usize,
    /// Milliseconds per clip.
    median_ms: f64,
    /// MiB (VmHWM).
    peak_rss_mb: Option<f64>,
}

/// Runs the benchmark.
pub fn run(root: &Path, args: &BenchNativeArgs) -> Result<()> {
    ensure!(
        !args.threads.is_empty(),
        "--threads needs at least one count"
    );
    ensure!(
        args.threads.iter().all(|&n| n > 0),
        "--threads: counts must be at least 1"
    );
    ensure!(args.rounds > 0, "--rounds must be at least 1");
    ensure!(args.runs > 0, "--runs must be at least 1");
    ensure!(args.frames >= 9, "--frames must be at least 9");

    let weights_dir = weights::run(&weights::WeightsArgs::default(), root)?;
    let model = bench::peer_model(root)?;
    let python = bench::peer_python(root)?;
    ensure_onnxruntime(&python)?;
    let ort_bench = root.join("../shared/peers/ort_bench.py");
    let ours = build_kinetiscope(root)?;

    let mut results: Vec<(Vec<Sample>, Vec<Sample>)> =
        vec![(Vec::new(), Vec::new()); args.threads.len()];
    let mut ort_version = String::from("onnxruntime");
    for round in 1..=args.rounds {
        for (&threads, (ours_at, ort_at)) in args.threads.iter().zip(&mut results) {
            let a = run_ours(&ours, &weights_dir, threads, args)?;
            let (b, version) = run_ort(&python, &ort_bench, &model, threads, args.frames)?;
            ort_version = version;
            println!(
                "round {round} threads={threads}: kinetiscope {:.0} ms (median of {}, peak RSS {}), \
                 {ort_version} {:.0} ms (median of {ORT_RUNS}, peak RSS {}): {:.2}× onnxruntime",
                a.median_ms,
                args.runs,
                mb(a.peak_rss_mb),
                b.median_ms,
                mb(b.peak_rss_mb),
                a.median_ms / b.median_ms
            );
            ours_at.push(a);
            ort_at.push(b);
        }
    }

    println!(
        "\nnative CPU ms per T={} clip: median of {} rounds' medians (kinetiscope: {} runs per process, \
         onnxruntime: {ORT_RUNS}, each after one warm-up), alternated; peak RSS: the largest of the rounds' processes",
        args.frames, args.rounds, args.runs
    );
    let medians: Vec<(f64, f64)> = results
        .iter()
        .map(|(a, b)| (median(a), median(b)))
        .collect();
    // Each side's time at one thread, when measured: the base of the speed-ups.
    let base = args
        .threads
        .iter()
        .position(|&n| n == 1)
        .and_then(|i| medians.get(i).copied());
    let speed_up = |base: Option<f64>, ms: f64, threads: u32| match base {
        Some(base) if threads > 1 => format!("  speed-up {:.2}× over 1 thread", base / ms),
        _ => String::new(),
    };
    for ((&threads, (ours_at, ort_at)), &(a, b)) in args.threads.iter().zip(&results).zip(&medians)
    {
        println!(
            "RESULT kinetiscope  threads={threads} median_ms={a:.0}  {:.2}× onnxruntime{}  peak_rss_mb={}",
            a / b,
            speed_up(base.map(|(a, _)| a), a, threads),
            peak(ours_at)
        );
        println!(
            "RESULT onnxruntime  threads={threads} median_ms={b:.0}{}  peak_rss_mb={}  ({ort_version})",
            speed_up(base.map(|(_, b)| b), b, threads),
            peak(ort_at)
        );
    }
    Ok(())
}

/// The median (the upper one of an even count, as `bench-browser` takes it) of the samples' medians, in ms.
fn median(samples: &[Sample]) -> f64 {
    let mut ms: Vec<f64> = samples.iter().map(|s| s.median_ms).collect();
    ms.sort_by(f64::total_cmp);
    ms.get(ms.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The largest peak resident memory of the samples, in MiB, as text (`?` when none was reported).
fn peak(samples: &[Sample]) -> String {
    let max = samples
        .iter()
        .filter_map(|s| s.peak_rss_mb)
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
    max.map_or_else(|| "?".into(), |mb| format!("{mb:.0}"))
}

/// A size in MiB as text (`? MB` when unknown).
fn mb(size: Option<f64>) -> String {
    size.map_or_else(|| "? MB".into(), |mb| format!("{mb:.0} MB"))
}

/// Installs onnxruntime (PyPI, unpinned, as `../shared/peers/README.md` does) into the peers' virtual
/// environment unless it imports already.
fn ensure_onnxruntime(python: &Path) -> Result<()> {
    let present = Command::new(python)
        .args(["-c", "import onnxruntime, numpy"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("could not start {}", python.display()))?
        .success();
    if !present {
        bench::pip_install(python, &["onnxruntime", "numpy"])?;
    }
    Ok(())
}

/// `cargo build --release -p kinetiscope`; returns the executable cargo reports (wherever the target directory
/// is: `target/` or `$CARGO_TARGET_DIR`).
fn build_kinetiscope(root: &Path) -> Result<PathBuf> {
    let mut cargo = Command::new("cargo");
    cargo
        .args([
            "build",
            "--release",
            "-p",
            "kinetiscope",
            "--bin",
            "kinetiscope",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(root)
        .stderr(Stdio::inherit());
    eprintln!("$ {}", display_cmd(&cargo));
    let output = cargo
        .output()
        .with_context(|| format!("could not start `{}`", display_cmd(&cargo)))?;
    ensure!(
        output.status.success(),
        "`{}` failed ({})",
        display_cmd(&cargo),
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "kinetiscope")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .context("cargo reported no kinetiscope executable")
}

/// One `kinetiscope bench --json` process at `threads` threads.
fn run_ours(
    exe: &Path,
    weights_dir: &Path,
    threads: u32,
    args: &BenchNativeArgs,
) -> Result<Sample> {
    let mut cmd = Command::new(exe);
    cmd.arg("bench")
        .args(["--backend", "cpu", "--json"])
        .args(["--frames", &args.frames.to_string()])
        .args(["--threads", &threads.to_string()])
        .args(["--runs", &args.runs.to_string()])
        .arg("--weights")
        .arg(weights_dir);
    let stdout = output_of(&mut cmd)?;
    let report: OursReport = serde_json::from_str(stdout.trim())
        .with_context(|| format!("`{}` printed no report: {stdout}", display_cmd(&cmd)))?;
    ensure!(
        report.threads == threads as usize,
        "kinetiscope ran on {} threads, not {threads}",
        report.threads
    );
    Ok(Sample {
        median_ms: report.median_ms,
        peak_rss_mb: report.peak_rss_mb,
    })
}

/// One `ort_bench.py` process at `threads` intra-op threads; returns its sample and onnxruntime's name and version.
fn run_ort(
    python: &Path,
    script: &Path,
    model: &Path,
    threads: u32,
    frames: u32,
) -> Result<(Sample, String)> {
    let mut cmd = Command::new(python);
    cmd.args(["-c", ORT_WRAPPER])
        .arg(script)
        .arg(model)
        .args(["--threads", &threads.to_string()])
        .args(["--frames", &frames.to_string()]);
    let stdout = output_of(&mut cmd)?;
    parse_ort(&stdout, threads)
        .with_context(|| format!("reading the output of `{}`:\n{stdout}", display_cmd(&cmd)))
}

/// Reads `onnxruntime 1.x cpu threads=N T=16: median 0.525 s, …` and the wrapper's `peak_rss_kib K`.
fn parse_ort(stdout: &str, threads: u32) -> Result<(Sample, String)> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("onnxruntime "))
        .context("no timing line")?;
    let (head, rest) = line.split_once(':').context("no ':' in the timing line")?;
    ensure!(
        head.contains(&format!("threads={threads} ")),
        "not run at {threads} threads: {head}"
    );
    let seconds: f64 = rest
        .trim()
        .strip_prefix("median ")
        .and_then(|r| r.split_whitespace().next())
        .context("no median")?
        .parse()
        .context("the median is not a number")?;
    let version = head
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let peak_rss_mb = stdout
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kib "))
        .map(|kib| kib.trim().parse::<f64>().map(|k| k / 1024.0))
        .transpose()
        .context("the peak RSS is not a number")?;
    Ok((
        Sample {
            median_ms: seconds * 1e3,
            peak_rss_mb,
        },
        version,
    ))
}

/// Runs a command (echoed), its stderr shown, and returns its stdout; fails with its status if it fails.
fn output_of(cmd: &mut Command) -> Result<String> {
    eprintln!("$ {}", display_cmd(cmd));
    let output = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start `{}`", display_cmd(cmd)))?;
    if !output.status.success() {
        bail!("`{}` failed ({})", display_cmd(cmd), output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_ort_bench_output() {
        let out = "onnxruntime 1.22.0 cpu threads=2 T=16: median 0.525 s, 106 GFLOP/s\npeak_rss_kib 409600\n";
        let (sample, version) = parse_ort(out, 2).unwrap();
        assert!((sample.median_ms - 525.0).abs() < 1e-9);
        assert_eq!(sample.peak_rss_mb, Some(400.0));
        assert_eq!(version, "onnxruntime 1.22.0");
        assert!(parse_ort(out, 1).is_err());
        assert!(parse_ort("nothing", 2).is_err());
    }
}
