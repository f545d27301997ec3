//! `cargo xtask fuzz [--seconds N] [--target NAME]`: the libFuzzer targets of `fuzz/` (every parser of untrusted
//! bytes), each run for N seconds on a corpus seeded from the real files in `../shared` and the weights.
//!
//! The targets are built with the instrumentation cargo-fuzz uses (sanitizer coverage through stable `-C`
//! flags, `--cfg fuzzing`, debug assertions and overflow checks) but no sanitizer, so the stable toolchain
//! builds them and nothing needs installing (`cargo fuzz run NAME` works too where cargo-fuzz is installed).
//! A crash fails the run and leaves its input in `target/fuzz/artifacts/NAME/`; each crash found becomes a
//! regression test in the crate it concerns. `cargo xtask test` runs every target briefly.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::run_cmd;

/// The targets (`fuzz/fuzz_targets/NAME.rs`).
pub const TARGETS: &[&str] = &[
    "annotations",
    "asset",
    "pickle",
    "weights",
    "ppm",
    "protocol",
    "head",
];

/// Where the instrumented build, the corpora and the crash artifacts go.
const FUZZ_DIR: &str = "target/fuzz";
/// The host triple: with `--target`, the instrumentation flags reach only the fuzzed code, not build
/// scripts and proc-macros (which could not link the coverage callbacks).
const HOST: &str = "x86_64-unknown-linux-gnu";
/// Seeds are cut to this many bytes (libFuzzer's `-max_len` follows the largest seed).
const SEED_BYTES: usize = 4096;
/// The longest input tried, bytes.
const MAX_LEN: usize = 65_536;

/// Arguments of `cargo xtask fuzz`.
#[derive(Debug, Clone, clap::Args)]
pub struct FuzzArgs {
    /// Seconds per target.
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// Only these targets (repeatable); all by default.
    #[arg(long)]
    pub target: Vec<String>,
}

/// What one target did.
#[derive(Debug)]
pub struct Outcome {
    /// The target.
    pub target: String,
    /// Inputs executed.
    pub runs: u64,
    /// Seconds it ran.
    pub seconds: u64,
}

/// Builds the targets and runs those asked for; fails on the first crash.
pub fn run(root: &Path, args: &FuzzArgs) -> Result<Vec<Outcome>> {
    let targets: Vec<&str> = if args.target.is_empty() {
        TARGETS.to_vec()
    } else {
        for t in &args.target {
            if !TARGETS.contains(&t.as_str()) {
                bail!("no fuzz target {t:?}; the targets are {TARGETS:?}");
            }
        }
        args.target.iter().map(String::as_str).collect()
    };
    build(root)?;
    let mut outcomes = Vec::new();
    for target in targets {
        let corpus = seed(root, target)?;
        outcomes.push(fuzz_one(root, target, &corpus, args.seconds)?);
    }
    for o in &outcomes {
        println!(
            "fuzz: {:<12} {:>10} runs in {:>4} s, no crash",
            o.target, o.runs, o.seconds
        );
    }
    Ok(outcomes)
}

fn build(root: &Path) -> Result<()> {
    let flags = [
        "-Cpasses=sancov-module",
        "-Cllvm-args=-sanitizer-coverage-level=4",
        "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
        "-Cllvm-args=-sanitizer-coverage-pc-table",
        "-Cllvm-args=-sanitizer-coverage-trace-compares",
        "--cfg",
        "fuzzing",
        "-Cdebug-assertions",
        "-Coverflow-checks",
    ];
    run_cmd(
        Command::new("cargo")
            .args(["build", "--release", "--target", HOST, "--manifest-path"])
            .arg(root.join("fuzz/Cargo.toml"))
            .arg("--target-dir")
            .arg(root.join(FUZZ_DIR))
            .env("RUSTFLAGS", flags.join(" ")),
    )
}

/// `target/fuzz/corpus/TARGET`, with its seeds written (again) from the real inputs.
fn seed(root: &Path, target: &str) -> Result<PathBuf> {
    let corpus = root.join(FUZZ_DIR).join("corpus").join(target);
    std::fs::create_dir_all(&corpus).with_context(|| format!("creating {}", corpus.display()))?;
    let shared = root.join("../shared");
    let head = |path: &Path| -> Result<Vec<u8>> {
        let mut bytes =
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        bytes.truncate(SEED_BYTES);
        Ok(bytes)
    };
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    match target {
        "annotations" | "asset" => {
            for name in ["kinetics-400_val.csv", "kinetics-600_test.csv"] {
                let bytes = head(&shared.join("data/kinetics").join(name))?;
                seeds.push((name.into(), bytes));
            }
            seeds.push((
                "val.json".into(),
                br#"{"-49tMSUTnZg": {"annotations": {"label": "abseiling", "segment": [16.0, 26.0]}, "duration": 10.0, "subset": "validate", "url": "https://www.youtube.com/watch?v=-49tMSUTnZg"}}"#.to_vec(),
            ));
            if target == "asset" {
                // The assets are encoded annotations: seed with the encodings of the text seeds.
                let options = kinetics::parse::ReadOptions::skipping();
                seeds = seeds
                    .iter()
                    .filter_map(|(name, bytes)| {
                        kinetics::parse::parse(name, bytes, &options)
                            .ok()
                            .map(|a| (format!("{name}.bin"), kinetics::asset::encode(&a)))
                    })
                    .collect();
            }
        }
        "pickle" => {
            // The head of the real checkpoint, and small pickles of every protocol Python writes.
            let archive = crate::weights::fetch_archive(&crate::weights::cache_dir(root))?;
            let checkpoint = checkpoint::archive::read_archive(&archive)?;
            seeds.push((
                "checkpoint-head".into(),
                checkpoint[..checkpoint.len().min(SEED_BYTES)].to_vec(),
            ));
            for protocol in 2..=5 {
                let out = Command::new("python3")
                    .args(["-c", &format!(
                        "import pickle,sys; sys.stdout.buffer.write(pickle.dumps({{'params': {{'Conv3d_1a_7x7': {{'conv_3d': {{'kernel': [[1.0, 2.0]], 'bias': (0.5,)}}}}}}, 'batch_stats': {{}}, 'n': -7, 'big': 2**70, 's': b'x' * 3}}, protocol={protocol}))"
                    )])
                    .output()
                    .context("running python3 for the pickle seeds")?;
                seeds.push((format!("small-{protocol}.pkl"), out.stdout));
            }
        }
        "weights" => {
            let weights = crate::weights::run(&crate::weights::WeightsArgs::default(), root)?;
            seeds.push((
                "manifest.json".into(),
                std::fs::read(weights.join(checkpoint::MANIFEST_FILE))?,
            ));
            seeds.push((
                "f16-head".into(),
                head(&weights.join(checkpoint::F16_FILE))?,
            ));
        }
        "ppm" => {
            seeds.push((
                "2x2.ppm".into(),
                [&b"P6\n2 2\n255\n"[..], &[7u8; 12]].concat(),
            ));
            seeds.push((
                "comment.ppm".into(),
                b"P6\n# ffmpeg\n1 1 255\n\x01\x02\x03".to_vec(),
            ));
        }
        "protocol" => {
            for json in [
                r#"{"kind":"load","backend":"auto","precision":{"only":"f32"},"manifest_url":"/model/m.json","threads":4}"#,
                r#"{"kind":"classify","id":7,"width":320,"height":240,"cam":true}"#,
                r#"{"kind":"run","id":1,"frames":16}"#,
                r#"{"kind":"booted","version":3}"#,
                r#"{"kind":"failed","id":null,"message":"no weights"}"#,
            ] {
                seeds.push((format!("{}.json", seeds.len()), json.as_bytes().to_vec()));
            }
        }
        "head" => {
            // A head file as the app exports it: two classes over three features.
            let head = r#"{"format":1,"classes":["wave","clap"],"feature_layer":"Mixed_5c","model_sha256":"ab","linear":{"classes":2,"dim":3,"weights":[1.0,0.0,-1.0,0.5,0.5,0.5],"bias":[0.0,0.1]},"settings":{"l2":0.01,"seed":19230,"max_iterations":500,"tolerance":1e-7},"report":{"examples":4,"training_accuracy":1.0,"validation":{"validation":"leave_one_out","accuracy":1.0,"per_class":[1.0,1.0],"confusion":[[2,0],[0,2]]},"iterations":9,"gradient_norm":1e-8},"examples":[{"class":0,"features":[1.0,2.0,3.0]},{"class":1,"features":[0.0,1.0,0.5]}]}"#;
            seeds.push(("head.json".into(), head.as_bytes().to_vec()));
        }
        other => bail!("no seeds for {other}"),
    }
    for (name, bytes) in seeds {
        std::fs::write(corpus.join(format!("seed-{name}")), bytes)?;
    }
    Ok(corpus)
}

fn fuzz_one(root: &Path, target: &str, corpus: &Path, seconds: u64) -> Result<Outcome> {
    let binary = root.join(FUZZ_DIR).join(HOST).join("release").join(target);
    let artifacts = root.join(FUZZ_DIR).join("artifacts").join(target);
    std::fs::create_dir_all(&artifacts)?;
    println!("fuzz: {target} for {seconds} s");
    let output = Command::new(&binary)
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-max_len={MAX_LEN}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg("-print_final_stats=1")
        .arg(corpus)
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
    let log = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        bail!(
            "fuzz target {target} crashed (input saved in {}):\n{}",
            artifacts.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    // libFuzzer's last words: "Done 123456 runs in 60 second(s)".
    let runs = log
        .lines()
        .find_map(|l| {
            l.strip_prefix("Done ")
                .and_then(|r| r.split_whitespace().next())
        })
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("{target}: no run count in libFuzzer's output"))?;
    Ok(Outcome {
        target: target.to_owned(),
        runs,
        seconds,
    })
}
