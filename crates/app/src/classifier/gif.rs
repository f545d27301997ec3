//! Animated GIFs, decoded frame by frame with WebCodecs' `ImageDecoder` (where the browser has it) and
//! resampled to 25 fps from the frames' timestamps by [`Resampler`], the CLI's resampler.

use i3d_core::preprocess::Resampler;
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::frames::{Frame, Grabber};
use super::video::FPS;
use crate::js::js_text;

/// The longest GIF analysed, frames at 25 fps (30 s): decoded frames are held in memory.
pub const MAX_FRAMES: usize = 750;

/// The most memory the decoded frames of one GIF may hold, bytes (RGBA at the capture size). A GIF
/// whose frames are large is analysed only as far as this allows: at the usual 320×240 that is the
/// whole 30 s; at 1280 pixels across (captured at 455×256) 576 frames, 23 s.
pub const MAX_FRAME_BYTES: usize = 256 << 20;

/// How many frames of `width`×`height` (capture size) fit in [`MAX_FRAME_BYTES`], at most
/// [`MAX_FRAMES`] and at least one window.
pub fn frame_budget(width: u32, height: u32) -> usize {
    let frame = (width as usize)
        .saturating_mul(height as usize)
        .saturating_mul(4)
        .max(1);
    (MAX_FRAME_BYTES / frame).clamp(protocol::MIN_FRAMES, MAX_FRAMES)
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

async fn wait(promise: JsValue) -> Result<JsValue, String> {
    JsFuture::from(Promise::from(promise))
        .await
        .map_err(|e| format!("the GIF could not be decoded: {}", js_text(&e)))
}

/// Whether `start` (a file's first bytes) is a GIF signature.
pub fn is_gif(start: &[u8]) -> bool {
    start.starts_with(b"GIF87a") || start.starts_with(b"GIF89a")
}

/// Appends `count` copies of `frame` (the last one moved, not copied).
fn emit(out: &mut Vec<Frame>, frame: Frame, count: usize) {
    for _ in 1..count {
        out.push(frame.copy());
    }
    if count > 0 {
        out.push(frame);
    }
}

/// A GIF's frames at 25 fps.
pub struct Decoded {
    /// The frames, at most [`frame_budget`] of them.
    pub frames: Vec<Frame>,
    /// Their duration, s.
    pub duration: f64,
    /// Whether the GIF goes on beyond them (cut at [`MAX_FRAMES`] or [`MAX_FRAME_BYTES`]).
    pub cut: bool,
}

/// The frames of a GIF at 25 fps (capped by [`frame_budget`]).
pub async fn decode(file: &web_sys::File, grabber: &Grabber) -> Result<Decoded, String> {
    let window = web_sys::window().ok_or("no window")?;
    let bytes = wait(file.array_buffer().into()).await?;
    let buffer: &js_sys::ArrayBuffer = bytes.unchecked_ref();
    if !is_gif(&js_sys::Uint8Array::new(&buffer.slice_with_end(0, 6)).to_vec()) {
        return Err(format!(
            "{} is not a GIF (a GIF starts with \"GIF87a\" or \"GIF89a\"). Open it as a video, or convert it, for \
             example with `ffmpeg -i input output.webm`.",
            file.name()
        ));
    }
    let constructor = get(&window, "ImageDecoder");
    if constructor.is_undefined() {
        return Err("This browser cannot read GIF frames (it has no WebCodecs ImageDecoder). Convert the GIF to a video, for example with `ffmpeg -i input.gif output.webm`, or use Chromium.".into());
    }
    let init = Object::new();
    let _ = Reflect::set(&init, &"data".into(), &bytes);
    let _ = Reflect::set(&init, &"type".into(), &"image/gif".into());
    let constructor: &Function = constructor.unchecked_ref();
    let decoder = Reflect::construct(constructor, &Array::of1(&init))
        .map_err(|e| format!("the GIF could not be opened: {}", js_text(&e)))?;
    let tracks = get(&decoder, "tracks");
    wait(get(&tracks, "ready")).await?;
    wait(get(&decoder, "completed")).await?;
    // `selectedTrack` can be null in Chromium even with one track: fall back to the first.
    let mut track = get(&tracks, "selectedTrack");
    if track.is_null() || track.is_undefined() {
        track = Reflect::get(&tracks, &JsValue::from(0)).unwrap_or(JsValue::UNDEFINED);
    }
    let count = get(&track, "frameCount").as_f64().unwrap_or(0.0) as usize;
    if count == 0 {
        return Err("the GIF has no frames".into());
    }
    let decode: Function = get(&decoder, "decode").unchecked_into();
    let close = |target: &JsValue| {
        if let Ok(close) = get(target, "close").dyn_into::<Function>() {
            let _ = close.call0(target);
        }
    };
    // Made when the first frame's size is known.
    let mut resampler: Option<Resampler> = None;
    let mut cut = false;
    let mut out = Vec::new();
    let mut shown: Option<Frame> = None;
    let mut end = 0.0f64;
    for index in 0..count {
        let options = Object::new();
        let _ = Reflect::set(&options, &"frameIndex".into(), &(index as f64).into());
        let decoded = match decode.call1(&decoder, &options) {
            Ok(promise) => wait(promise).await,
            Err(e) => Err(js_text(&e)),
        };
        let result = match decoded {
            Ok(result) => result,
            Err(e) => {
                close(&decoder);
                return Err(e);
            }
        };
        let image = get(&result, "image");
        // VideoFrame times are in microseconds.
        let start = get(&image, "timestamp").as_f64().unwrap_or(0.0) / 1e6;
        let duration = get(&image, "duration").as_f64().unwrap_or(1e6 / FPS) / 1e6;
        let width = get(&image, "displayWidth").as_f64().unwrap_or(0.0) as u32;
        let height = get(&image, "displayHeight").as_f64().unwrap_or(0.0) as u32;
        let frame = grabber.grab_source(&image, width, height);
        close(&image);
        let frame = match frame {
            Ok(frame) => frame,
            Err(e) => {
                close(&decoder);
                return Err(e);
            }
        };
        let resampler = resampler
            .get_or_insert_with(|| Resampler::new(frame_budget(frame.width, frame.height)));
        if let Some(previous) = shown.take() {
            emit(&mut out, previous, resampler.until(start));
        }
        shown = Some(frame);
        end = end.max(start + duration);
        if resampler.is_full() {
            cut = index + 1 < count;
            break;
        }
    }
    close(&decoder);
    if let (Some(last), Some(resampler)) = (shown, resampler.as_mut()) {
        emit(&mut out, last, resampler.finish(end));
    }
    let duration = out.len() as f64 / FPS;
    Ok(Decoded {
        frames: out,
        duration,
        cut,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_gif_frames_are_held_up_to_the_byte_budget() {
        // 320×240 RGBA: 750 frames are 230 MB, under the budget.
        assert_eq!(frame_budget(320, 240), MAX_FRAMES);
        // An HD GIF, captured at 455×256: 268,435,456 / 465,920 bytes.
        assert_eq!(frame_budget(455, 256), 576);
        // A 320×65535 strip (84 MB a frame) still gets one window's worth; the page refuses such a
        // size before capturing it anyway (`frames::capture_size`).
        assert_eq!(frame_budget(320, 65_535), protocol::MIN_FRAMES);
        assert_eq!(frame_budget(0, 0), MAX_FRAMES);
    }

    #[test]
    fn only_gif_signatures_are_gifs() {
        assert!(is_gif(b"GIF89a\x01\x00"));
        assert!(is_gif(b"GIF87a"));
        assert!(!is_gif(b"\x89PNG\r\n\x1a\n"));
        assert!(!is_gif(b"GIF8"));
        assert!(!is_gif(b""));
    }
}
