//! `cargo xtask data`: the annotation assets the web app ships in `dist/data/`.
//!
//! For each official annotation file (`https://s3.amazonaws.com/kinetics/{400,600,700_2020}/annotations/
//! {train,val,test}.csv`) it looks, in order, in `--from DIR`, in `../shared/data/kinetics`, and in the download
//! cache `target/kinetics-annotations/`; what none of them has is downloaded (unless `--offline`; on a machine
//! without internet the first failed connection ends the attempts). Each file found is parsed by
//! [`kinetics::parse`] and written as a compact asset ([`kinetics::asset::encode`], about 14 bytes per clip)
//! to `target/site-assets/data/`, with `manifest.json` listing the assets and the files that are missing.
//! trunk copies that folder to `dist/data/` (see `index.html`); the app fetches the manifest, then the assets
//! it needs.
//!
//! Idempotent: an asset whose input has the same size and modification time as recorded in the manifest
//! is not written again, and the manifest is rewritten only when it changes. Missing files are reported,
//! never fatal.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{Context, Result};
use kinetics::bundle::{BundledAsset, Manifest, MissingFile, MANIFEST_FILE, MANIFEST_VERSION};

mod download;

use download::Downloader;

/// Where the assets and the manifest go (relative to the workspace root); trunk copies it to `dist/data/`.
pub const OUT_DIR: &str = "target/site-assets/data";
/// Where downloaded CSVs are kept, so that they are downloaded once.
const CACHE_DIR: &str = "target/kinetics-annotations";
/// The shared folder of real annotation files, when this checkout has one.
const SHARED_DIR: &str = "../shared/data/kinetics";
/// Dataset folder names of the official download URLs, with the file name stem used for them here.
const DATASETS: [(&str, &str); 3] = [
    ("400", "kinetics-400"),
    ("600", "kinetics-600"),
    ("700_2020", "kinetics-700-2020"),
];
const SPLITS: [&str; 3] = ["train", "val", "test"];
/// Connection (and DNS) time limit: a machine without internet must fall back quickly.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// `cargo xtask data`: prepare the annotation assets of the web app.
#[derive(Debug, Default, clap::Args)]
pub struct DataArgs {
    /// A folder with annotation CSVs, named like `kinetics-400_val.csv`, `400/val.csv` or
    /// `400/annotations/val.csv`; looked at before `../shared/data/kinetics` and the download cache.
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// Never try to download missing files.
    #[arg(long)]
    pub offline: bool,
    /// Write every asset again, even when it is up to date.
    #[arg(long)]
    pub force: bool,
}

/// `cargo xtask data` with default arguments, as the site build runs it.
pub fn prepare(root: &Path) -> Result<()> {
    run(&DataArgs::default(), root)
}

/// Finds or downloads the annotation files and writes the assets and the manifest (see the module docs).
pub fn run(args: &DataArgs, root: &Path) -> Result<()> {
    let out = root.join(OUT_DIR);
    fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let manifest_path = out.join(MANIFEST_FILE);
    let previous: Option<Manifest> = fs::read(&manifest_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .filter(Manifest::is_current);

    let mut downloader = (!args.offline).then(Downloader::new);
    let mut manifest = Manifest {
        version: MANIFEST_VERSION,
        asset_version: kinetics::asset::VERSION,
        sources: Vec::new(),
        missing: Vec::new(),
    };
    for (dataset, stem) in DATASETS {
        for split in SPLITS {
            let url =
                format!("https://s3.amazonaws.com/kinetics/{dataset}/annotations/{split}.csv");
            let found = match find_local(args.from.as_deref(), root, dataset, stem, split) {
                Some(path) => Some((path.clone(), display_path(root, &path))),
                None => match downloader.as_mut() {
                    Some(downloader) => {
                        let cache = root
                            .join(CACHE_DIR)
                            .join(dataset)
                            .join(format!("{split}.csv"));
                        downloader
                            .fetch(&url, &cache)?
                            .then(|| (cache, url.clone()))
                    }
                    None => None,
                },
            };
            let Some((input, origin)) = found else {
                manifest.missing.push(MissingFile {
                    dataset: dataset.into(),
                    split: split.into(),
                    url,
                });
                continue;
            };
            let reused = previous
                .as_ref()
                .filter(|_| !args.force)
                .and_then(|previous| up_to_date(previous, &out, dataset, split, &input, &origin));
            let entry = match reused {
                Some(entry) => entry,
                None => encode(&input, &out, dataset, stem, split, origin)?,
            };
            manifest.sources.push(entry);
        }
    }

    for entry in &manifest.sources {
        eprintln!(
            "data: {:<8} {:<5} {:>7} clips {:>9} bytes  {}  (from {})",
            entry.dataset, entry.split, entry.clips, entry.bytes, entry.file, entry.origin
        );
    }
    if !manifest.missing.is_empty() {
        let names: Vec<String> = manifest
            .missing
            .iter()
            .map(|m| format!("{}/{}", m.dataset, m.split))
            .collect();
        eprintln!(
            "data: not found (the app can still load them from a file or URL): {}",
            names.join(", ")
        );
    }
    remove_stale_assets(&out, &manifest)?;
    let json = serde_json::to_string_pretty(&manifest)? + "\n";
    if fs::read_to_string(&manifest_path).ok().as_deref() != Some(json.as_str()) {
        write_atomically(&manifest_path, json.as_bytes())?;
    }
    eprintln!(
        "data: {} assets in {}",
        manifest.sources.len(),
        out.display()
    );
    Ok(())
}

/// The first local CSV for `dataset`/`split`: in `from`, then in the shared folder, then in the download
/// cache.
fn find_local(
    from: Option<&Path>,
    root: &Path,
    dataset: &str,
    stem: &str,
    split: &str,
) -> Option<PathBuf> {
    let names = [
        format!("{stem}_{split}.csv"),
        format!("{}_{split}.csv", stem.replacen('-', "", 1)),
        format!("{dataset}/{split}.csv"),
        format!("{dataset}/annotations/{split}.csv"),
    ];
    let folders = from
        .map(Path::to_path_buf)
        .into_iter()
        .chain([root.join(SHARED_DIR)]);
    for folder in folders {
        for name in &names {
            let path = folder.join(name);
            if path.is_file() {
                return Some(path);
            }
        }
    }
    let cached = root
        .join(CACHE_DIR)
        .join(dataset)
        .join(format!("{split}.csv"));
    cached.is_file().then_some(cached)
}

/// The recorded entry for this input if its asset is still there and the input has not changed.
fn up_to_date(
    previous: &Manifest,
    out: &Path,
    dataset: &str,
    split: &str,
    input: &Path,
    origin: &str,
) -> Option<BundledAsset> {
    let entry = previous
        .sources
        .iter()
        .find(|e| e.dataset == dataset && e.split == split && e.origin == origin)?;
    let (input_bytes, input_modified) = fingerprint(input).ok()?;
    let asset_bytes = fs::metadata(out.join(&entry.file)).ok()?.len();
    (entry.input_bytes == input_bytes
        && entry.input_modified == input_modified
        && entry.bytes == asset_bytes)
        .then(|| entry.clone())
}

/// Size in bytes and modification time (seconds since the epoch) of a file.
fn fingerprint(path: &Path) -> Result<(u64, u64)> {
    let meta = fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    Ok((meta.len(), modified))
}

/// Parses one CSV (skipping and counting malformed rows) and writes its asset.
fn encode(
    input: &Path,
    out: &Path,
    dataset: &str,
    stem: &str,
    split: &str,
    origin: String,
) -> Result<BundledAsset> {
    let bytes = fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    let source = format!("{stem}_{split}.csv");
    let annotations = kinetics::parse(&source, &bytes, &kinetics::ReadOptions::skipping())
        .with_context(|| format!("cannot parse {}", input.display()))?;
    for error in &annotations.skipped.first_errors {
        eprintln!("data: skipped a row of {}: {error}", input.display());
    }
    let asset = kinetics::asset::encode(&annotations);
    let file = format!("{stem}_{split}.kntk");
    write_atomically(&out.join(&file), &asset)?;
    let (input_bytes, input_modified) = fingerprint(input)?;
    Ok(BundledAsset {
        dataset: dataset.into(),
        split: split.into(),
        file,
        source,
        clips: annotations.clips.len(),
        labelled: annotations.labelled(),
        skipped: annotations.skipped.rows,
        bytes: asset.len() as u64,
        origin,
        input_bytes,
        input_modified,
    })
}

/// Deletes `*.kntk` files of the output folder that the manifest no longer lists.
fn remove_stale_assets(out: &Path, manifest: &Manifest) -> Result<()> {
    for item in fs::read_dir(out)? {
        let path = item?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.ends_with(".kntk") && !manifest.sources.iter().any(|e| e.file == name) {
            fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same folder, so readers never see half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("part");
    fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// `path` relative to the workspace root when it is inside or beside it, else as given.
fn display_path(root: &Path, path: &Path) -> String {
    if let Ok(relative) = path.strip_prefix(root) {
        return relative.display().to_string();
    }
    match (root.parent(), path.canonicalize().ok()) {
        (Some(parent), Some(path)) => match path.strip_prefix(parent) {
            Ok(relative) => Path::new("..").join(relative).display().to_string(),
            Err(_) => path.display().to_string(),
        },
        _ => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn local_names_are_found() {
        let dir =
            std::env::temp_dir().join(format!("kinetiscope-data-test-{}", std::process::id()));
        let from = dir.join("from");
        fs::create_dir_all(from.join("600/annotations")).unwrap();
        fs::write(from.join("kinetics-400_val.csv"), "x").unwrap();
        fs::write(from.join("600/annotations/train.csv"), "x").unwrap();
        let root = dir.join("root");
        let found = |dataset, stem, split| find_local(Some(&from), &root, dataset, stem, split);
        assert_eq!(
            found("400", "kinetics-400", "val"),
            Some(from.join("kinetics-400_val.csv"))
        );
        assert_eq!(
            found("600", "kinetics-600", "train"),
            Some(from.join("600/annotations/train.csv"))
        );
        assert_eq!(found("700_2020", "kinetics-700-2020", "val"), None);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// The real files of `../shared/data/kinetics` become assets that decode to the same clips, and a
    /// second run writes nothing.
    #[test]
    fn shared_files_become_assets_idempotently() {
        let shared = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/data/kinetics"
        ));
        let root =
            std::env::temp_dir().join(format!("kinetiscope-data-run-{}", std::process::id()));
        let args = DataArgs {
            from: Some(shared.to_path_buf()),
            offline: true,
            force: false,
        };
        run(&args, &root).unwrap();
        let out = root.join(OUT_DIR);
        let manifest: Manifest =
            serde_json::from_slice(&fs::read(out.join(MANIFEST_FILE)).unwrap()).unwrap();
        let listed: Vec<(&str, &str, usize)> = manifest
            .sources
            .iter()
            .map(|e| (e.dataset.as_str(), e.split.as_str(), e.clips))
            .collect();
        assert_eq!(
            listed,
            [
                ("400", "val", 19_906),
                ("400", "test", 38_685),
                ("600", "val", 30_000),
                ("600", "test", 72_924)
            ]
        );
        assert_eq!(manifest.missing.len(), 5);
        let val = &manifest.sources[0];
        let asset = fs::read(out.join(&val.file)).unwrap();
        assert_eq!(asset.len() as u64, val.bytes);
        let decoded = kinetics::asset::decode(&asset).unwrap();
        let csv = fs::read(shared.join("kinetics-400_val.csv")).unwrap();
        let parsed = kinetics::parse(
            "kinetics-400_val.csv",
            &csv,
            &kinetics::ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(decoded.clips, parsed.clips);
        assert_eq!(decoded.labels, parsed.labels);

        let modified = |name: &str| fs::metadata(out.join(name)).unwrap().modified().unwrap();
        let before = (modified(MANIFEST_FILE), modified(&val.file));
        run(&args, &root).unwrap();
        assert_eq!(
            (modified(MANIFEST_FILE), modified(&val.file)),
            before,
            "nothing rewritten"
        );
        fs::remove_dir_all(&root).unwrap();
    }
}
