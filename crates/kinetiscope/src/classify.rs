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
use engine::{BackendChoice, Options, PrecisionChoice};
use i3d_core::arch::{Shape, MIN_FRAMES};
use i3d_core::preprocess::{
    check_frame_size, FrameRef, Preprocessor, Resampler, FRAME_LEN, MAX_FRAME_PIXELS,
    MAX_FRAME_SIDE,
};
use serde::Serialize;

/// The engine with the candle CPU executor.
pub type Engine = engine::Engine<i3d_cpu::InceptionI3d>;

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
    /// Print JSON: {"backend", "precision", "frames", "logits": [400], "top": [{"label", "index", "prob"}]}, and
    /// with `--head`, "custom": the head's classes ranked the same way.
    #[arg(long)]
    pub json: bool,
    /// Also rank the classes of a few-shot head (a `.kinetiscope-head.json` from `kinetiscope train` or the app),
    /// applied to the clip's feature.
    #[arg(long, value_name = "HEAD")]
    pub head: Option<PathBuf>,
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
    /// The head's classes, most probable first (with `--head`).
    #[serde(skip_serializing_if = "Option::is_none")]
    custom: Option<Vec<TopEntry>>,
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
    // A head that cannot be used is refused before the network runs.
    let head = args
        .head
        .as_deref()
        .map(|path| crate::custom::read_head(path, args.weights.as_deref()))
        .transpose()?;
    let mut engine = load_engine(options, args.weights.as_deref())?;
    if let Some(max) = engine.max_frames().filter(|&max| frames > max) {
        bail!(
            "{frames} frames need more memory per buffer than the adapter allows; \
             pass --frames N with N ≤ {max}, or --backend cpu"
        );
    }
    let started = Instant::now();
    let ask = engine::Ask {
        top: args.top,
        head: head.as_ref().map(|h| &h.linear),
        ..engine::Ask::default()
    };
    let result = pollster::block_on(engine.classify(&clip.data, frames, ask))?;
    let custom: Option<Vec<TopEntry>> =
        head.as_ref()
            .zip(result.custom.as_ref())
            .map(|(head, custom)| {
                i3d_core::postprocess::top_indices(&custom.probs, args.top)
                    .into_iter()
                    .map(|index| TopEntry {
                        label: head.classes[index].clone(),
                        index,
                        prob: custom.probs[index],
                    })
                    .collect()
            });
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
            custom,
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
        if let Some(custom) = custom {
            text += "custom classes:\n";
            for (rank, p) in custom.iter().enumerate() {
                text += &format!("{:>3}. {:<40} {:6.2}%\n", rank + 1, p.label, 100.0 * p.prob);
            }
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

/// Bytes the `image` crate's GIF decoder may hold at once for a GIF whose logical screen is
/// `width`×`height` pixels (already within [`check_frame_size`]): the composited picture kept
/// between frames and the one being made (RGBA, 4 bytes a pixel, screen-sized), and the frame being
/// read, up to [`MAX_FRAME_PIXELS`] RGBA. The decoder checks each frame's declared size against what
/// is left of this before allocating it, so a frame declaring more than 4K UHD is refused unread.
fn gif_alloc_limit(width: u32, height: u32) -> u64 {
    let screen = u64::from(width) * u64::from(height) * 4;
    2 * screen + MAX_FRAME_PIXELS as u64 * 4
}

/// The frames of a GIF (composited), resampled to 25 fps from their delays, pre-processed: at most `max_frames`.
/// Frames are decoded one at a time and decoding stops once `max_frames` are out, so a long GIF costs no more
/// memory than its output. Sizes are checked from the header before any picture is allocated: the logical
/// screen against [`check_frame_size`] (the limits of video frames), each frame's declared size through the
/// decoder's memory limit ([`gif_alloc_limit`]), so a tiny file declaring 11000×11000 costs nothing.
fn read_gif(path: &Path, max_frames: usize) -> Result<Clip> {
    use image::{AnimationDecoder, ImageDecoder};
    let file =
        BufReader::new(std::fs::File::open(path).with_context(|| path.display().to_string())?);
    // Reads the header and the global palette only.
    let mut decoder = image::codecs::gif::GifDecoder::new(file)
        .with_context(|| format!("{} is not a readable GIF", path.display()))?;
    let (width, height) = decoder.dimensions();
    // The decoder allocates a screen-sized picture before the first frame: refuse its size first.
    if check_frame_size(width as usize, height as usize).is_err() {
        bail!(
            "{}: the GIF declares a {width}×{height} picture; pictures larger than {MAX_FRAME_SIDE} \
             pixels on a side or {MAX_FRAME_PIXELS} pixels in all (4K UHD) are refused",
            path.display()
        );
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_FRAME_SIDE as u32);
    limits.max_image_height = Some(MAX_FRAME_SIDE as u32);
    limits.max_alloc = Some(gif_alloc_limit(width, height));
    decoder
        .set_limits(limits)
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
        let frame = match frame {
            Ok(frame) => frame,
            // Raised from a frame's declared size, before its pixels are read.
            Err(image::ImageError::Limits(_)) => bail!(
                "{}: a frame of the GIF declares a picture larger than {MAX_FRAME_SIDE} pixels on a side \
                 or {MAX_FRAME_PIXELS} pixels in all (4K UHD); it is refused before it is decoded",
                path.display()
            ),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("{}: cannot decode the GIF's frames", path.display()))
            }
        };
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

/// What `ffprobe -show_entries stream=codec_type,codec_name,width,height:format=format_name -of json`
/// says of a file.
#[derive(Debug, serde::Deserialize)]
struct Probe {
    #[serde(default)]
    streams: Vec<ProbeStream>,
    format: Option<ProbeFormat>,
}

#[derive(Debug, serde::Deserialize)]
struct ProbeStream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    /// Declared width, pixels.
    width: Option<u64>,
    /// Declared height, pixels.
    height: Option<u64>,
}

#[derive(Debug, serde::Deserialize)]
struct ProbeFormat {
    format_name: Option<String>,
}

impl Probe {
    /// Why ffmpeg should not decode the file: no video stream (`Ok(Some(reason))` for the "not a
    /// video" message), or a video stream declaring frames over [`check_frame_size`]'s limits (`Err`,
    /// refused before ffmpeg decodes a frame of that size). Every video stream is checked, since
    /// ffmpeg chooses among them by size.
    fn refusal(&self, path: &Path) -> Result<Option<&'static str>> {
        let text = self
            .format
            .as_ref()
            .and_then(|f| f.format_name.as_deref())
            .is_some_and(|f| f == "tty");
        let videos: Vec<&ProbeStream> = self
            .streams
            .iter()
            .filter(|s| {
                s.codec_type.as_deref() == Some("video") && s.codec_name.as_deref() != Some("ansi")
            })
            .collect();
        if text {
            return Ok(Some("a text file"));
        }
        if videos.is_empty() {
            return Ok(Some("no video stream"));
        }
        for stream in videos {
            if let (Some(width), Some(height)) = (stream.width, stream.height) {
                let fits = usize::try_from(width)
                    .ok()
                    .zip(usize::try_from(height).ok())
                    .is_some_and(|(w, h)| check_frame_size(w, h).is_ok());
                if !fits {
                    bail!(
                        "{}: the video's frames are {width}×{height}; frames larger than {MAX_FRAME_SIDE} \
                         pixels on a side or {MAX_FRAME_PIXELS} pixels in all (4K UHD) are refused",
                        path.display()
                    );
                }
            }
        }
        Ok(None)
    }
}

/// Refuses, with ffprobe, files that hold no video stream, text files (which ffmpeg would render
/// as a video through its `tty` demuxer), and videos whose declared frame size is over
/// [`check_frame_size`]'s limits (before ffmpeg decodes one). Without ffprobe, ffmpeg's own failure
/// decides, and each frame's size is checked from its PPM header before its pixels are read.
fn probe_video(path: &Path) -> Result<()> {
    let input = ffmpeg_input(path)?;
    let output = match Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,codec_name,width,height:format=format_name",
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
    match probe.refusal(path)? {
        Some(reason) => Err(not_video(reason)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// A GIF whose logical screen is `screen` and whose one frame declares `frame` (width, height),
    /// cut off in the middle of the frame's pixel data: 32 bytes, whatever the sizes claim. A decoder
    /// that reached the pixels would fail on the truncation, not on the size.
    fn truncated_gif(screen: (u16, u16), frame: (u16, u16)) -> Vec<u8> {
        let mut bytes = b"GIF89a".to_vec();
        bytes.extend(screen.0.to_le_bytes());
        bytes.extend(screen.1.to_le_bytes());
        // A global colour table of two entries (black, white), no background, square pixels.
        bytes.extend([0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff]);
        // Image descriptor at (0, 0), no local colour table, not interlaced.
        bytes.extend([0x2c, 0, 0, 0, 0]);
        bytes.extend(frame.0.to_le_bytes());
        bytes.extend(frame.1.to_le_bytes());
        bytes.push(0);
        // LZW minimum code size, then a data sub-block that stops short (no terminator, no trailer).
        bytes.extend([0x02, 0x05, 0x84]);
        bytes
    }

    fn gif_error(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.gif");
        std::fs::write(&path, bytes).unwrap();
        let started = Instant::now();
        let error = read_clip(&path, 16).unwrap_err();
        assert!(
            started.elapsed().as_secs_f64() < 1.0,
            "refused from the header, not after decoding"
        );
        format!("{error:#}")
    }

    #[test]
    fn a_gif_declaring_a_huge_screen_is_refused_from_its_header() {
        let bytes = truncated_gif((11_000, 11_000), (11_000, 11_000));
        assert!(bytes.len() < 40, "{} bytes", bytes.len());
        let error = gif_error(&bytes);
        assert!(
            error.contains("the GIF declares a 11000×11000 picture"),
            "{error}"
        );
        assert!(error.contains("(4K UHD) are refused"), "{error}");
    }

    #[test]
    fn a_gif_frame_declaring_a_huge_size_is_refused_before_it_is_read() {
        // A small screen passes; the frame's declared size is refused before its pixels are read
        // (the data is truncated, so a decode attempt would fail as "cannot decode").
        let error = gif_error(&truncated_gif((16, 16), (11_000, 11_000)));
        assert!(
            error.contains("a frame of the GIF declares a picture larger than 4096 pixels"),
            "{error}"
        );
        // Under the side limit but over 4K UHD in all: refused too.
        let error = gif_error(&truncated_gif((16, 16), (4_000, 4_000)));
        assert!(error.contains("a frame of the GIF declares"), "{error}");
        // Within the limits, the truncation is what fails.
        let error = gif_error(&truncated_gif((16, 16), (16, 16)));
        assert!(error.contains("cannot decode the GIF's frames"), "{error}");
    }

    #[test]
    fn gifs_within_the_limits_still_decode() {
        use image::codecs::gif::GifEncoder;
        use image::{Delay, Frame, RgbaImage};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("small.gif");
        {
            let file = std::fs::File::create(&path).unwrap();
            let mut encoder = GifEncoder::new(file);
            for i in 0..12u8 {
                let picture = RgbaImage::from_pixel(64, 48, image::Rgba([i * 20, 100, 200, 255]));
                let frame = Frame::from_parts(picture, 0, 0, Delay::from_numer_denom_ms(40, 1));
                encoder.encode_frame(frame).unwrap();
            }
        }
        let clip = read_clip(&path, 250).unwrap();
        assert_eq!(clip.frames, 12, "12 frames of 40 ms at 25 fps");
        assert_eq!(clip.data.len(), 12 * FRAME_LEN);
        // The real cricket clip (320×240) decodes as before.
        let cricket = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/video/v_CricketShot_g04_c01_rgb.gif"
        );
        let clip = read_clip(Path::new(cricket), 250).unwrap();
        assert!(clip.frames >= MIN_FRAMES, "{}", clip.frames);
        // The limit leaves room for a 4K UHD screen and frame.
        assert_eq!(gif_alloc_limit(3840, 2160), 3 * MAX_FRAME_PIXELS as u64 * 4);
    }

    fn probe(json: &str) -> Result<Option<&'static str>> {
        let probe: Probe = serde_json::from_str(json).unwrap();
        probe.refusal(Path::new("v.mkv"))
    }

    #[test]
    fn probed_video_sizes_are_checked_before_decoding() {
        let huge = r#"{"streams": [{"codec_type": "audio", "codec_name": "aac"},
            {"codec_type": "video", "codec_name": "h264", "width": 11000, "height": 11000}],
            "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2"}}"#;
        let error = format!("{:#}", probe(huge).unwrap_err());
        assert!(
            error.contains("v.mkv: the video's frames are 11000×11000"),
            "{error}"
        );
        let fine = r#"{"streams": [{"codec_type": "video", "codec_name": "h264", "width": 320, "height": 240}],
            "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2"}}"#;
        assert_eq!(probe(fine).unwrap(), None);
        // A large second video stream (ffmpeg may pick it) is refused too.
        let second = r#"{"streams": [{"codec_type": "video", "codec_name": "h264", "width": 320, "height": 240},
            {"codec_type": "video", "codec_name": "mjpeg", "width": 8000, "height": 8000}]}"#;
        assert!(probe(second).is_err());
        let audio = r#"{"streams": [{"codec_type": "audio", "codec_name": "aac"}], "format": {"format_name": "mp3"}}"#;
        assert_eq!(probe(audio).unwrap(), Some("no video stream"));
        let text = r#"{"streams": [{"codec_type": "video", "codec_name": "ansi", "width": 640, "height": 400}], "format": {"format_name": "tty"}}"#;
        assert_eq!(probe(text).unwrap(), Some("a text file"));
    }

    #[test]
    fn an_oversized_video_is_refused_before_ffmpeg_decodes_it() {
        if Command::new("ffmpeg").arg("-version").output().is_err()
            || Command::new("ffprobe").arg("-version").output().is_err()
        {
            i3d_core::reference::missing("ffmpeg or ffprobe is not installed");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.mkv");
        // One black 5000×4000 frame, losslessly compressed to a few kilobytes.
        let status = Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg("color=c=black:s=5000x4000:d=0.04")
            .args(["-c:v", "ffv1"])
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success());
        let error = format!("{:#}", read_clip(&path, 16).unwrap_err());
        assert!(
            error.contains("the video's frames are 5000×4000"),
            "{error}"
        );
    }
}
