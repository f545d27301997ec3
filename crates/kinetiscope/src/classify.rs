//! `kinetiscope classify`: I3D action classification of a clip.
//!
//! The input is a video file (decoded by an `ffmpeg` subprocess at 25 fps into PPM frames), a GIF
//! (decoded in Rust, resampled to 25 fps from its frame delays), or a `.safetensors` file holding a
//! pre-processed clip `input` (1×T×224×224×3, values in [−1, 1]). Video and GIF frames go through
//! the authors' pre-processing (`i3d_core::preprocess`: shorter side to 256, centre 224 crop, [−1, 1]).

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use engine::{BackendChoice, Engine, Options, PrecisionChoice};
use i3d_core::arch::{Shape, MIN_FRAMES};
use i3d_core::preprocess::{FrameRef, Preprocessor, Resampler, FRAME_LEN};
use serde::Serialize;

/// Frames used when `--frames` is not given: 10 s at 25 fps, the length of a Kinetics clip.
pub const DEFAULT_MAX_FRAMES: usize = 250;

/// Arguments of `kinetiscope classify`.
#[derive(Debug, clap::Args)]
pub struct ClassifyArgs {
    /// A video file (any format ffmpeg reads), a GIF, or a `.safetensors` file with a
    /// pre-processed clip `input` of shape 1×T×224×224×3.
    pub input: PathBuf,
    /// Where the network runs: `cpu` (candle), `wgpu` (WGSL kernels on a Vulkan/Metal/DX12
    /// adapter), or `auto` (wgpu on a hardware adapter, else the CPU; the reason is printed on
    /// stderr; if wgpu then fails, the clip runs on the CPU and stderr says so).
    #[arg(long, default_value = "cpu", value_name = "auto|cpu|wgpu")]
    pub backend: BackendChoice,
    /// Storage precision: `f32`, `f16` (wgpu adapters with shader-f16), or `auto` (the backend's
    /// best: f16 on such adapters, f32 otherwise). Arithmetic is f32 either way.
    #[arg(long, default_value = "auto", value_name = "auto|f32|f16")]
    pub precision: PrecisionChoice,
    /// How many classes to list.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Use the first N frames (at 25 fps); at least 9. Default: up to 250 (10 s).
    #[arg(long, value_name = "N")]
    pub frames: Option<usize>,
    /// Print JSON: {"backend", "precision", "frames", "logits": [400], "top": [{"label", "index", "prob"}]}.
    #[arg(long)]
    pub json: bool,
    /// The weights directory (default: $KINETISCOPE_WEIGHTS, else the per-user data directory,
    /// e.g. ~/.local/share/kinetiscope/weights).
    #[arg(long, value_name = "PATH")]
    pub weights: Option<PathBuf>,
}

/// One ranked class of the JSON output.
#[derive(Debug, Serialize)]
struct TopEntry {
    label: String,
    index: usize,
    prob: f32,
}

/// The JSON output.
#[derive(Debug, Serialize)]
struct Output {
    backend: engine::Backend,
    precision: engine::Precision,
    frames: usize,
    logits: Vec<f32>,
    top: Vec<TopEntry>,
}

/// A pre-processed clip: 1×`frames`×224×224×3 floats in [−1, 1], NTHWC.
#[derive(Debug, Clone)]
pub struct Clip {
    /// The floats.
    pub data: Vec<f32>,
    /// T.
    pub frames: usize,
}

/// Loads the engine on the backend and precision asked for, from the weights directory (checked
/// against the manifest); prints the backend, precision and reason on stderr.
pub fn load_engine(options: Options, weights: Option<&Path>) -> Result<Engine> {
    let engine = Engine::load_dir_blocking(weights, options).map_err(|e| match e {
        engine::Error::Unavailable(message) => anyhow::anyhow!(
            "{message}; pass other --backend/--precision values (auto lets kinetiscope choose)"
        ),
        e => e.into(),
    })?;
    eprintln!(
        "backend {} ({}): {}",
        engine.backend(),
        engine.precision(),
        engine.reason()
    );
    Ok(engine)
}

/// Runs `kinetiscope classify`.
pub fn run(args: ClassifyArgs) -> Result<()> {
    if args.frames.is_some_and(|n| n < MIN_FRAMES) {
        bail!("--frames must be at least {MIN_FRAMES} (the smallest clip I3D accepts)");
    }
    let max_frames = args.frames.unwrap_or(DEFAULT_MAX_FRAMES);
    let clip = read_clip(&args.input, max_frames)?;
    let frames = clip.frames;
    if frames < MIN_FRAMES {
        bail!(
            "{} gives {frames} frames at 25 fps; I3D needs at least {MIN_FRAMES} (0.36 s)",
            args.input.display(),
        );
    }
    let options = Options {
        backend: args.backend,
        precision: args.precision,
    };
    let mut engine = load_engine(options, args.weights.as_deref())?;
    if let Some(max) = engine.max_frames().filter(|&max| frames > max) {
        bail!(
            "{frames} frames need more memory per buffer than the adapter allows; \
             pass --frames N with N ≤ {max}, or --backend cpu"
        );
    }
    let started = Instant::now();
    let result = engine.classify_blocking(&clip.data, frames, args.top, false)?;
    let elapsed = started.elapsed();
    if let Some(reason) = &result.fell_back {
        eprintln!("warning: {reason}");
    }
    let (backend, precision) = (engine.backend(), engine.precision());
    if args.json {
        let output = Output {
            backend,
            precision,
            frames,
            logits: result.logits,
            top: result
                .top
                .into_iter()
                .map(|p| TopEntry {
                    label: p.label,
                    index: p.index,
                    prob: p.prob,
                })
                .collect(),
        };
        let mut text = serde_json::to_string(&output)?;
        text.push('\n');
        print_out(&text)
    } else {
        let mut text = format!(
            "{}: {frames} frames, backend {backend} ({precision}), {:.2} s\n",
            args.input.display(),
            elapsed.as_secs_f64()
        );
        for (rank, p) in result.top.iter().enumerate() {
            text += &format!("{:>3}. {:<40} {:6.2}%\n", rank + 1, p.label, 100.0 * p.prob);
        }
        print_out(&text)
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
pub fn print_out(text: &str) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => Ok(result?),
    }
}

/// Reads a clip as 1×T×224×224×3 floats (T ≤ `max_frames`).
pub fn read_clip(path: &Path, max_frames: usize) -> Result<Clip> {
    if !path.is_file() {
        bail!("{}: no such file", path.display());
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("safetensors") => read_safetensors(path, max_frames),
        _ if is_gif(path)? => read_gif(path, max_frames),
        _ => read_video(path, max_frames),
    }
}

fn is_gif(path: &Path) -> Result<bool> {
    let mut magic = [0u8; 6];
    let mut file = std::fs::File::open(path).with_context(|| path.display().to_string())?;
    let n = file.read(&mut magic)?;
    Ok(n == 6 && (&magic == b"GIF87a" || &magic == b"GIF89a"))
}

/// A `.safetensors` file with the pre-processed clip `input` (1×T×224×224×3).
fn read_safetensors(path: &Path, max_frames: usize) -> Result<Clip> {
    let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
    let st = safetensors::SafeTensors::deserialize(&bytes)
        .with_context(|| format!("{} is not a readable safetensors file", path.display()))?;
    let Ok(input) = st.tensor("input") else {
        bail!(
            "{} has no tensor `input` (expected a pre-processed clip 1×T×224×224×3; it has: {})",
            path.display(),
            st.names().join(", ")
        );
    };
    if !matches!(
        input.dtype(),
        safetensors::Dtype::F32 | safetensors::Dtype::F16
    ) {
        bail!(
            "{}: tensor `input` is {:?}; expected F32 or F16 values in [-1, 1]",
            path.display(),
            input.dtype()
        );
    }
    match *input.shape() {
        [1, t, 224, 224, 3] => {
            let mut data = i3d_core::weights::tensor_f32(&st, "input", input.shape())?;
            let frames = t.min(max_frames);
            data.truncate(Shape::clip(frames).elements());
            Ok(Clip { data, frames })
        }
        ref dims => bail!(
            "{}: tensor `input` has shape {dims:?}; expected 1×T×224×224×3 \
             (N×T×H×W×C, RGB in [-1, 1], T ≥ 9)",
            path.display()
        ),
    }
}

/// The frames of a GIF (composited), resampled to 25 fps from their delays, pre-processed: at most `max_frames`.
/// Frames are decoded one at a time and decoding stops once `max_frames` are out, so a long GIF costs no more
/// memory than its output; one decoded frame may not exceed the `image` crate's default limit (512 MB).
fn read_gif(path: &Path, max_frames: usize) -> Result<Clip> {
    use image::{AnimationDecoder, ImageDecoder};
    let file =
        BufReader::new(std::fs::File::open(path).with_context(|| path.display().to_string())?);
    let mut decoder = image::codecs::gif::GifDecoder::new(file)
        .with_context(|| format!("{} is not a readable GIF", path.display()))?;
    decoder
        .set_limits(image::Limits::default())
        .with_context(|| format!("{}: the GIF's pictures are too large", path.display()))?;
    let mut resampler = Resampler::new(max_frames);
    let mut preprocessor = Preprocessor::new();
    let mut data: Vec<f32> = Vec::new();
    // Appends `count` pre-processed copies of `frame` to `data`.
    let mut emit = |frame: &image::Frame, count: usize, data: &mut Vec<f32>| -> Result<()> {
        if count == 0 {
            return Ok(());
        }
        let buffer = frame.buffer();
        let first = data.len();
        data.resize(first + FRAME_LEN, 0.0);
        preprocessor.frame_into(
            FrameRef {
                width: buffer.width() as usize,
                height: buffer.height() as usize,
                channels: 4,
                data: buffer.as_raw(),
            },
            &mut data[first..],
        )?;
        for _ in 1..count {
            data.extend_from_within(first..first + FRAME_LEN);
        }
        Ok(())
    };
    let mut shown: Option<image::Frame> = None;
    // Start of the next frame, s.
    let mut t = 0.0f64;
    for frame in decoder.into_frames() {
        let frame =
            frame.with_context(|| format!("{}: cannot decode the GIF's frames", path.display()))?;
        if let Some(previous) = shown.take() {
            emit(&previous, resampler.until(t), &mut data)?;
        }
        if resampler.is_full() {
            break;
        }
        let (num, den) = frame.delay().numer_denom_ms();
        // Browsers show a GIF frame without a delay for 100 ms.
        let ms = if num == 0 {
            100.0
        } else {
            f64::from(num) / f64::from(den.max(1))
        };
        t += ms / 1000.0;
        shown = Some(frame);
    }
    if let Some(last) = shown {
        emit(&last, resampler.finish(t), &mut data)?;
    }
    let frames = data.len() / FRAME_LEN;
    Ok(Clip { data, frames })
}

/// A video decoded by ffmpeg at 25 fps into a stream of binary PPM (P6) frames, each pre-processed
/// as it arrives (so the decoded frames are never all in memory).
fn read_video(path: &Path, max_frames: usize) -> Result<Clip> {
    probe_video(path)?;
    let mut child = match Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(ffmpeg_input(path)?)
        .args([
            "-an", "-sn", "-vf", "fps=25", "-f", "image2pipe", "-c:v", "ppm", "-",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "ffmpeg is not installed (or not on PATH); it is needed to decode video files such as {} \
             (e.g. `apt-get install ffmpeg`). GIFs and .safetensors clips need no ffmpeg",
            path.display()
        ),
        Err(e) => return Err(e).context("cannot start ffmpeg"),
    };
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        bail!("ffmpeg: no output pipes");
    };
    // Drain stderr on a thread so ffmpeg never blocks on it.
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut text);
        text
    });
    let mut reader = BufReader::with_capacity(1 << 20, stdout);
    let mut preprocessor = Preprocessor::new();
    let mut data: Vec<f32> = Vec::new();
    let mut pixels = Vec::new();
    let mut frames = 0;
    let decoded: Result<()> = (|| {
        while frames < max_frames {
            let Some((width, height)) = i3d_core::preprocess::read_ppm_header(&mut reader)
                .map_err(|e| anyhow::anyhow!("ffmpeg: {e}"))?
            else {
                break;
            };
            let size = i3d_core::preprocess::check_frame_size(width, height)?;
            pixels.resize(size * 3, 0);
            reader
                .read_exact(&mut pixels)
                .context("ffmpeg: truncated frame")?;
            // Grow by exactly one frame: a doubling Vec would hold up to twice the clip.
            data.reserve_exact(FRAME_LEN);
            data.resize((frames + 1) * FRAME_LEN, 0.0);
            preprocessor.frame_into(
                FrameRef {
                    width,
                    height,
                    channels: 3,
                    data: &pixels,
                },
                &mut data[frames * FRAME_LEN..],
            )?;
            frames += 1;
        }
        Ok(())
    })();
    // Enough frames (or an error): stop ffmpeg rather than decode the rest.
    drop(reader);
    let _ = child.kill();
    let status = child.wait().context("ffmpeg")?;
    let message = stderr.join().unwrap_or_default();
    decoded?;
    if frames == 0 {
        let reason = message.lines().last().unwrap_or("no video frames").trim();
        bail!(
            "{} is not a video ffmpeg can decode ({reason}); expected a video file, a GIF or a \
             .safetensors clip",
            path.display()
        );
    }
    if !status.success() && frames < max_frames && !message.trim().is_empty() {
        eprintln!("warning: ffmpeg: {}", message.trim());
    }
    Ok(Clip { data, frames })
}

/// The input argument for ffmpeg and ffprobe: `file:` and the absolute path, so that a file name that
/// starts with `-` or holds `proto:` is read as the file it names, never as an option or a protocol.
fn ffmpeg_input(path: &Path) -> Result<std::ffi::OsString> {
    let absolute = std::path::absolute(path).with_context(|| path.display().to_string())?;
    let mut input = std::ffi::OsString::from("file:");
    input.push(absolute);
    Ok(input)
}

/// Refuses, with ffprobe, files that hold no video stream, and text files (which ffmpeg would
/// render as a video through its `tty` demuxer). Without ffprobe, ffmpeg's own failure decides.
fn probe_video(path: &Path) -> Result<()> {
    let input = ffmpeg_input(path)?;
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(default)]
        streams: Vec<Stream>,
        format: Option<Format>,
    }
    #[derive(serde::Deserialize)]
    struct Stream {
        codec_type: Option<String>,
        codec_name: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Format {
        format_name: Option<String>,
    }
    let output = match Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,codec_name:format=format_name",
            "-of",
            "json",
        ])
        .arg(&input)
        .stdin(Stdio::null())
        .output()
    {
        Ok(output) => output,
        Err(_) => return Ok(()),
    };
    let not_video = |reason: &str| {
        anyhow::anyhow!(
            "{} is not a video ffmpeg can decode ({reason}); expected a video file, a GIF or a \
             .safetensors clip",
            path.display()
        )
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr.lines().last().unwrap_or("unreadable").trim();
        let reason = reason
            .strip_prefix(&format!("{}: ", input.to_string_lossy()))
            .unwrap_or(reason);
        return Err(not_video(reason));
    }
    let probe: Probe =
        serde_json::from_slice(&output.stdout).context("ffprobe: unexpected output")?;
    let text = probe
        .format
        .and_then(|f| f.format_name)
        .is_some_and(|f| f == "tty");
    let video = probe.streams.iter().any(|s| {
        s.codec_type.as_deref() == Some("video") && s.codec_name.as_deref() != Some("ansi")
    });
    if text || !video {
        return Err(not_video(if text {
            "a text file"
        } else {
            "no video stream"
        }));
    }
    Ok(())
}
