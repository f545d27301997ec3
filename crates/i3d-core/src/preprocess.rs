//! Pre-processing as the I3D authors did it: frames sampled at 25 fps; each frame resized
//! (bilinear) so its **shorter** side is 256 px, keeping the aspect ratio; the centre 224×224
//! crop; RGB scaled from [0, 255] to [−1, 1]. Output: 1×T×224×224×3 f32 (NTHWC).
//!
//! The resize is `fast_image_resize`'s bilinear convolution on f32 pixels: half-pixel centres,
//! a triangle filter whose support widens by the scale factor when shrinking (as PIL's
//! `BILINEAR`, so large videos are not aliased), edges clamped. When enlarging (a 224×224 GIF
//! goes to 256×256) it is exactly TensorFlow's / OpenCV's bilinear. The crop is taken inside the
//! resize (a fractional source crop box), which is the same as resizing the whole frame and then
//! cropping, because the filter weights of each output pixel depend only on its source position.
//! Pure Rust: builds for wasm32.

use fast_image_resize::images::{TypedImage, TypedImageRef};
use fast_image_resize::pixels::F32x3;
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};

use crate::arch::INPUT_SIZE;
use crate::Error;

/// Shorter side after the resize, before the centre crop.
pub const RESIZE_SHORTER_SIDE: usize = 256;

/// Frame rate the network expects (frames per second).
pub const TARGET_FPS: f64 = 25.0;

/// Floats in one pre-processed frame: 224·224·3.
pub const FRAME_LEN: usize = INPUT_SIZE * INPUT_SIZE * 3;

/// The largest frame accepted, in pixels: 4K UHD (3840×2160). Pre-processing holds one frame as f32
/// RGB (12 bytes a pixel), so this bounds its memory at about 100 MB whatever a file claims.
pub const MAX_FRAME_PIXELS: usize = 3840 * 2160;

/// The longest side accepted, pixels (portrait 4K fits; a 320×65535 strip does not).
pub const MAX_FRAME_SIDE: usize = 4096;

/// Checks a frame size against [`MAX_FRAME_SIDE`] and [`MAX_FRAME_PIXELS`]; returns width·height.
/// Overflow-free on every target (wasm32's `usize` is 32 bits).
pub fn check_frame_size(width: usize, height: usize) -> Result<usize, Error> {
    let pixels = width
        .checked_mul(height)
        .filter(|&p| p <= MAX_FRAME_PIXELS && width <= MAX_FRAME_SIDE && height <= MAX_FRAME_SIDE);
    pixels.ok_or_else(|| {
        Error::Frames(format!(
            "this video's frames are {width}×{height}; frames larger than {MAX_FRAME_SIDE} pixels on a side or \
             {MAX_FRAME_PIXELS} pixels in all (4K UHD) are refused"
        ))
    })
}

/// One decoded frame: `width`×`height` pixels, row-major, `channels` (3 = RGB, 4 = RGBA; alpha is
/// ignored) u8 values per pixel.
#[derive(Debug, Clone, Copy)]
pub struct FrameRef<'a> {
    /// Width (pixels).
    pub width: usize,
    /// Height (pixels).
    pub height: usize,
    /// 3 (RGB) or 4 (RGBA).
    pub channels: usize,
    /// `width·height·channels` bytes.
    pub data: &'a [u8],
}

impl FrameRef<'_> {
    fn check(&self) -> Result<(), Error> {
        if !(self.channels == 3 || self.channels == 4) {
            return Err(Error::Frames(format!(
                "expected RGB or RGBA pixels (3 or 4 channels), got {}",
                self.channels
            )));
        }
        if self.width == 0 || self.height == 0 {
            return Err(Error::Frames(format!(
                "empty frame {}×{}",
                self.width, self.height
            )));
        }
        // At most 4 bytes a pixel of a bounded pixel count: no overflow.
        let bytes = check_frame_size(self.width, self.height)? * self.channels;
        if self.data.len() != bytes {
            return Err(Error::Frames(format!(
                "a {}×{}×{} frame needs {bytes} bytes, got {}",
                self.width,
                self.height,
                self.channels,
                self.data.len()
            )));
        }
        Ok(())
    }
}

/// Size (width, height) after resizing the shorter side to 256 px, keeping the aspect ratio
/// (the longer side is rounded to the nearest pixel).
pub fn resized_size(width: usize, height: usize) -> (usize, usize) {
    let short = width.min(height) as f64;
    let scale = RESIZE_SHORTER_SIDE as f64 / short;
    if width <= height {
        (
            RESIZE_SHORTER_SIDE,
            ((height as f64 * scale).round() as usize).max(RESIZE_SHORTER_SIDE),
        )
    } else {
        (
            ((width as f64 * scale).round() as usize).max(RESIZE_SHORTER_SIDE),
            RESIZE_SHORTER_SIDE,
        )
    }
}

/// The centre crop in resized coordinates: (left, top) of the 224×224 window, both floor((size − 224) / 2).
pub fn crop_offset(resized: (usize, usize)) -> (usize, usize) {
    ((resized.0 - INPUT_SIZE) / 2, (resized.1 - INPUT_SIZE) / 2)
}

/// Scales a u8 colour value to [−1, 1] as the reference does: `v / 255 · 2 − 1` in f32.
#[inline]
pub fn scale_u8(v: u8) -> f32 {
    f32::from(v) / 255.0 * 2.0 - 1.0
}

/// Reusable pre-processing state (the resizer and its source buffer).
#[derive(Debug, Default)]
pub struct Preprocessor {
    resizer: Resizer,
    source: Vec<F32x3>,
}

impl Preprocessor {
    /// A pre-processor.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pre-processes one frame into `out` (224·224·3 floats, HWC, in [−1, 1]).
    pub fn frame_into(&mut self, frame: FrameRef<'_>, out: &mut [f32]) -> Result<(), Error> {
        frame.check()?;
        if out.len() != FRAME_LEN {
            return Err(Error::Frames(format!(
                "the output of one frame needs {FRAME_LEN} floats, got {}",
                out.len()
            )));
        }
        // Scaling to [−1, 1] before the resize is the same as after it: the filter weights sum to 1.
        self.source.clear();
        self.source.extend(
            frame
                .data
                .chunks_exact(frame.channels)
                .map(|p| F32x3::new([scale_u8(p[0]), scale_u8(p[1]), scale_u8(p[2])])),
        );
        let (w, h) = (frame.width, frame.height);
        let resized = resized_size(w, h);
        let (left, top) = crop_offset(resized);
        // The centre crop, in source pixels (the resize maps [0, w) onto [0, resized.0)).
        let sx = w as f64 / resized.0 as f64;
        let sy = h as f64 / resized.1 as f64;
        let options = ResizeOptions::new()
            .resize_alg(ResizeAlg::Convolution(FilterType::Bilinear))
            .crop(
                left as f64 * sx,
                top as f64 * sy,
                INPUT_SIZE as f64 * sx,
                INPUT_SIZE as f64 * sy,
            );
        let src = TypedImageRef::new(w as u32, h as u32, &self.source)
            .map_err(|e| Error::Frames(e.to_string()))?;
        let mut dst = TypedImage::<F32x3>::new(INPUT_SIZE as u32, INPUT_SIZE as u32);
        self.resizer
            .resize_typed(&src, &mut dst, &options)
            .map_err(|e| Error::Frames(e.to_string()))?;
        for (o, p) in out.chunks_exact_mut(3).zip(dst.pixels()) {
            o.copy_from_slice(&p.0);
        }
        Ok(())
    }

    /// Pre-processes a clip: returns 1×T×224×224×3 floats (T = `frames.len()`), NTHWC, in [−1, 1].
    pub fn clip(&mut self, frames: &[FrameRef<'_>]) -> Result<Vec<f32>, Error> {
        let mut out = vec![0.0f32; frames.len() * FRAME_LEN];
        for (frame, o) in frames.iter().zip(out.chunks_exact_mut(FRAME_LEN)) {
            self.frame_into(*frame, o)?;
        }
        Ok(out)
    }
}

/// Turns an animation's frames, as they are decoded, into frames at 25 fps: output frame k shows the last input
/// frame that started at or before k/25 s. Streaming, so that a caller holds one decoded frame at a time (the CLI
/// and the app both read GIFs through it).
///
/// For each decoded frame after the first, [`Resampler::until`] (its start) says how many output frames the
/// *previous* frame fills; at the end, [`Resampler::finish`] (the animation's end) says how many the last one fills.
/// Output stops at `max_frames`.
#[derive(Debug, Clone)]
pub struct Resampler {
    emitted: usize,
    max_frames: usize,
}

impl Resampler {
    /// A resampler that emits at most `max_frames` frames.
    pub fn new(max_frames: usize) -> Self {
        Resampler {
            emitted: 0,
            max_frames,
        }
    }

    /// How many output frames the frame shown before `next_start` (s from the first frame) fills.
    pub fn until(&mut self, next_start: f64) -> usize {
        let mut count = 0;
        // A microsecond of slack, so that 0.04·k summed in floating point still lands on frame k.
        while !self.is_full() && self.emitted as f64 / TARGET_FPS + 1e-6 < next_start {
            self.emitted += 1;
            count += 1;
        }
        count
    }

    /// How many output frames the last frame fills, the animation ending at `end` (s): at least one.
    pub fn finish(&mut self, end: f64) -> usize {
        let total = ((end * TARGET_FPS + 1e-6).floor().max(1.0) as usize).min(self.max_frames);
        let count = total.saturating_sub(self.emitted);
        self.emitted += count;
        count
    }

    /// Whether `max_frames` frames were emitted (decoding can stop).
    pub fn is_full(&self) -> bool {
        self.emitted >= self.max_frames
    }
}

#[cfg(test)]
mod tests;

/// Reads the header of a binary PPM frame (`P6 <width> <height> 255` and one whitespace byte, `#`
/// comments allowed), as ffmpeg's `ppm` pipe output writes one before each frame: the frame's
/// (width, height) in pixels, or `None` at the end of the stream. The size is only read here; check
/// it with [`check_frame_size`] before reading the pixels.
pub fn read_ppm_header(
    reader: &mut impl std::io::BufRead,
) -> Result<Option<(usize, usize)>, Error> {
    let malformed = |what: &str| Error::Frames(format!("malformed PPM frame header: {what}"));
    let io = |e: std::io::Error| Error::Frames(format!("reading a PPM frame header: {e}"));
    let mut tokens: Vec<String> = Vec::with_capacity(4);
    let mut token = String::new();
    loop {
        let mut byte = [0u8; 1];
        if reader.read(&mut byte).map_err(io)? == 0 {
            if tokens.is_empty() && token.is_empty() {
                return Ok(None);
            }
            return Err(malformed("truncated"));
        }
        let c = byte[0];
        if c == b'#' {
            // A comment runs to the end of the line; read through `fill_buf`, so that a long one is
            // never held whole.
            loop {
                let buffer = reader.fill_buf().map_err(io)?;
                if buffer.is_empty() {
                    break;
                }
                if let Some(at) = buffer.iter().position(|&b| b == b'\n') {
                    reader.consume(at + 1);
                    break;
                }
                let all = buffer.len();
                reader.consume(all);
            }
            continue;
        }
        if c.is_ascii_whitespace() {
            if !token.is_empty() {
                tokens.push(std::mem::take(&mut token));
                if tokens.len() == 4 {
                    break;
                }
            }
            continue;
        }
        token.push(char::from(c));
        if token.len() > 16 {
            return Err(malformed("a field longer than 16 characters"));
        }
    }
    let number = |s: &str| {
        s.parse::<usize>()
            .map_err(|_| malformed(&format!("{s:?} is not a number")))
    };
    if tokens[0] != "P6" || number(&tokens[3])? != 255 {
        return Err(Error::Frames(format!(
            "expected 8-bit binary PPM frames (P6, maxval 255), got {tokens:?}"
        )));
    }
    let (width, height) = (number(&tokens[1])?, number(&tokens[2])?);
    if width == 0 || height == 0 {
        return Err(malformed(&format!("a {width}×{height} frame")));
    }
    Ok(Some((width, height)))
}

#[cfg(test)]
mod ppm_tests {
    #![allow(clippy::unwrap_used)]
    use super::read_ppm_header;

    #[test]
    fn ppm_headers_are_read_and_bad_ones_named() {
        let mut ok = std::io::Cursor::new(b"P6\n# from ffmpeg\n320 240\n255\n".to_vec());
        assert_eq!(read_ppm_header(&mut ok).unwrap(), Some((320, 240)));
        assert_eq!(read_ppm_header(&mut ok).unwrap(), None);
        for (bad, says) in [
            (&b"P5 1 1 255 "[..], "P6"),
            (b"P6 1 1 65535 ", "maxval 255"),
            (b"P6 0 10 255 ", "0×10"),
            (b"P6 99999999999999999 1 255 ", "longer than 16"),
            (b"P6 12", "truncated"),
            (b"P6 x 1 255 ", "not a number"),
        ] {
            let err = read_ppm_header(&mut std::io::Cursor::new(bad.to_vec())).unwrap_err();
            assert!(err.to_string().contains(says), "{err}");
        }
    }
}
