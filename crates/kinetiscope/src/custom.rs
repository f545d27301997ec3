//! Few-shot heads from the command line: `kinetiscope features` (clip features of videos),
//! `kinetiscope train` (a head from a folder of videos per class) and what `classify --head` adds.
//!
//! Each video is cut into windows of [`heads::WINDOW_FRAMES`] frames every [`heads::WINDOW_STRIDE`] frames (at
//! 25 fps), as the app cuts a recording; each window gives one clip feature
//! ([`i3d_core::cam::clip_feature`], 1024 values) from the pass that classifies it. The head file is the one the
//! app imports and exports ([`heads::Head`]).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use engine::{Ask, Options};
use i3d_core::manifest::{resolve_weights_dir, Manifest};
use i3d_core::preprocess::FRAME_LEN;
use serde::Serialize;

use crate::classify::{load_engine, print_out, read_clip, Engine};

/// Arguments of `kinetiscope features`.
#[derive(Debug, clap::Args)]
pub struct FeaturesArgs {
    /// Videos (any format ffmpeg reads) or GIFs.
    #[arg(required = true)]
    pub videos: Vec<PathBuf>,
    /// Where to write the features (JSON: {"model_sha256", "feature_layer", "window", "stride", "videos":
    /// [{"path", "windows": [{"start", "feature": [1024]}]}]}).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The weights directory (default: $KINETISCOPE_WEIGHTS, else the per-user data directory).
    #[arg(long, value_name = "PATH")]
    pub weights: Option<PathBuf>,
}

/// Arguments of `kinetiscope train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// A folder with one subfolder per class (its name the class's), each holding that class's videos or GIFs.
    pub dir: PathBuf,
    /// Where to write the head (`NAME.kinetiscope-head.json`, the file the app imports).
    #[arg(long, value_name = "HEAD")]
    pub out: PathBuf,
    /// L2 regularisation of the weights (on standardised features).
    #[arg(long)]
    pub l2: Option<f32>,
    /// The seed of the cross-validation folds.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Keep the examples' features in the head (to retrain it, in the app or here).
    #[arg(long)]
    pub keep_examples: bool,
    /// The weights directory (default: $KINETISCOPE_WEIGHTS, else the per-user data directory).
    #[arg(long, value_name = "PATH")]
    pub weights: Option<PathBuf>,
}

/// The engine on the CPU and the checkpoint's SHA-256 (what a head names as its model).
fn load(weights: Option<&Path>) -> Result<(Engine, String)> {
    let dir = resolve_weights_dir(weights)?;
    let sha = Manifest::read(&dir)?.source.checkpoint_sha256;
    let engine = load_engine(Options::default(), Some(&dir))?;
    Ok((engine, sha))
}

/// One window's clip feature.
#[derive(Debug, Serialize)]
struct WindowFeature {
    /// First frame (at 25 fps).
    start: usize,
    /// 1024 values.
    feature: Vec<f32>,
}

/// The clip features of every window of `path` ([`heads::window_starts`]).
fn video_features(engine: &mut Engine, path: &Path) -> Result<Vec<WindowFeature>> {
    let clip = read_clip(path, heads::MAX_EXAMPLE_FRAMES)?;
    let starts = heads::window_starts(clip.frames);
    if starts.is_empty() {
        bail!(
            "{}: {} frames at 25 fps; a window needs {}",
            path.display(),
            clip.frames,
            heads::WINDOW_FRAMES
        );
    }
    let ask = Ask {
        top: 1,
        feature: true,
        ..Ask::default()
    };
    starts
        .into_iter()
        .map(|start| {
            let window = &clip.data[start * FRAME_LEN..(start + heads::WINDOW_FRAMES) * FRAME_LEN];
            let result = pollster::block_on(engine.classify(window, heads::WINDOW_FRAMES, ask))?;
            let feature = result.feature.context("the engine gave no clip feature")?;
            Ok(WindowFeature { start, feature })
        })
        .collect()
}

/// Runs `kinetiscope features`.
pub fn features(args: FeaturesArgs) -> Result<()> {
    #[derive(Serialize)]
    struct Video {
        path: String,
        windows: Vec<WindowFeature>,
    }
    #[derive(Serialize)]
    struct Output {
        model_sha256: String,
        feature_layer: String,
        window: usize,
        stride: usize,
        videos: Vec<Video>,
    }
    let (mut engine, model_sha256) = load(args.weights.as_deref())?;
    let mut videos = Vec::new();
    for path in &args.videos {
        let started = Instant::now();
        let windows = video_features(&mut engine, path)?;
        eprintln!(
            "{}: {} windows, {:.2} s",
            path.display(),
            windows.len(),
            started.elapsed().as_secs_f64()
        );
        videos.push(Video {
            path: path.display().to_string(),
            windows,
        });
    }
    let output = Output {
        model_sha256,
        feature_layer: engine::feature_layer(),
        window: heads::WINDOW_FRAMES,
        stride: heads::WINDOW_STRIDE,
        videos,
    };
    std::fs::write(&args.out, serde_json::to_string(&output)?)
        .with_context(|| args.out.display().to_string())
}

/// The class folders of `dir`, sorted by name, each with its files sorted by name (hidden ones left out).
fn class_folders(dir: &Path) -> Result<Vec<(String, Vec<PathBuf>)>> {
    let read = |dir: &Path| -> Result<Vec<PathBuf>> {
        let mut paths = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<std::io::Result<Vec<_>>>()?;
        // Hidden files and folders (`.DS_Store`, `.git`) are neither classes nor videos.
        paths.retain(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        });
        paths.sort();
        Ok(paths)
    };
    let mut classes = Vec::new();
    for folder in read(dir)?.into_iter().filter(|p| p.is_dir()) {
        let name = folder
            .file_name()
            .and_then(|n| n.to_str())
            .with_context(|| format!("{}: a class folder's name must be UTF-8", folder.display()))?
            .to_owned();
        let files: Vec<PathBuf> = read(&folder)?.into_iter().filter(|p| p.is_file()).collect();
        classes.push((name, files));
    }
    if classes.is_empty() {
        bail!(
            "{} has no class folders: make one folder per class (its name the class's) holding its videos",
            dir.display()
        );
    }
    Ok(classes)
}

/// Runs `kinetiscope train`.
pub fn train(args: TrainArgs) -> Result<()> {
    let folders = class_folders(&args.dir)?;
    // Names and counts first: a folder layout that cannot train is refused before any video is decoded.
    let counts: Vec<(&str, usize)> = folders.iter().map(|(n, f)| (n.as_str(), f.len())).collect();
    heads::check_classes(&counts)?;
    let (mut engine, model_sha256) = load(args.weights.as_deref())?;
    let extracting = Instant::now();
    let mut classes = Vec::new();
    let mut windows = 0;
    for (name, files) in folders {
        let mut examples = Vec::new();
        for path in &files {
            let features = video_features(&mut engine, path)?;
            windows += features.len();
            examples.extend(features.into_iter().map(|w| w.feature));
        }
        classes.push(heads::Class { name, examples });
    }
    let extract_s = extracting.elapsed().as_secs_f64();
    eprintln!(
        "features: {windows} windows in {extract_s:.1} s ({:.0} ms a window)",
        1000.0 * extract_s / windows.max(1) as f64
    );
    let dataset = heads::Dataset::new(classes)?;
    let mut settings = heads::Settings::default();
    if let Some(l2) = args.l2 {
        settings.l2 = l2;
    }
    if let Some(seed) = args.seed {
        settings.seed = seed;
    }
    let training = Instant::now();
    let (linear, report) = heads::train(&dataset, &settings)?;
    let train_ms = training.elapsed().as_secs_f64() * 1000.0;
    let head = heads::Head::new(
        &dataset,
        &engine::feature_layer(),
        &model_sha256,
        (linear, report),
        settings,
        args.keep_examples,
    );
    let report = &head.report;
    let mut text = format!(
        "{} classes, {} windows; trained in {train_ms:.0} ms ({} iterations); training accuracy {:.1}%\n{} accuracy {:.1}%:\n",
        head.classes.len(),
        report.examples,
        report.iterations,
        100.0 * report.training_accuracy,
        report.validation.validation,
        100.0 * report.validation.accuracy,
    );
    for (name, accuracy) in head.classes.iter().zip(&report.validation.per_class) {
        text += &format!("  {name:<30} {:6.1}%\n", 100.0 * accuracy);
    }
    let json = head.to_json();
    std::fs::write(&args.out, &json).with_context(|| args.out.display().to_string())?;
    text += &format!("wrote {} ({} bytes)\n", args.out.display(), json.len());
    print_out(&text)
}

/// A head file, read and checked against the weights in `weights` (or the default directory).
pub fn read_head(path: &Path, weights: Option<&Path>) -> Result<heads::Head> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let sha = Manifest::read(&resolve_weights_dir(weights)?)?
        .source
        .checkpoint_sha256;
    heads::Head::from_json(&text, Some(&sha)).with_context(|| path.display().to_string())
}
