//! Encodes annotation files as binary assets (see `kinetics::asset`) and reports their sizes.
//!
//! `cargo run -p kinetics --example encode_asset -- OUT_DIR FILE...` writes `OUT_DIR/NAME.kntk` for
//! each annotation file (CSV or JSON) and prints rows, input bytes and asset bytes.

use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let out_dir = args.next().ok_or("usage: encode_asset OUT_DIR FILE...")?;
    std::fs::create_dir_all(&out_dir)?;
    for path in args {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(&path)?;
        let annotations = kinetics::parse(&name, &bytes, &kinetics::ReadOptions::default())?;
        let encoded = kinetics::asset::encode(&annotations);
        let stem = Path::new(&name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target = out_dir.join(format!("{stem}.kntk"));
        std::fs::write(&target, &encoded)?;
        println!(
            "{name}: {} rows, {} B in, {} B asset ({:.2} B/clip) -> {}",
            annotations.clips.len(),
            bytes.len(),
            encoded.len(),
            encoded.len() as f64 / annotations.clips.len().max(1) as f64,
            target.display()
        );
    }
    Ok(())
}
