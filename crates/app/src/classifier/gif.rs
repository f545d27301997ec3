//! Animated GIFs, decoded frame by frame with WebCodecs' `ImageDecoder` (where the browser has it) and
//! resampled to 25 fps from the frames' timestamps.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::client::js_text;
use super::frames::{Frame, Grabber};
use super::video::FPS;

/// The longest GIF analysed, frames at 25 fps (30 s): decoded frames are held in memory.
pub const MAX_FRAMES: usize = 750;

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

async fn wait(promise: JsValue) -> Result<JsValue, String> {
    JsFuture::from(Promise::from(promise))
        .await
        .map_err(|e| format!("the GIF could not be decoded: {}", js_text(&e)))
}

/// Turns a GIF's frames, as they are decoded, into frames at 25 fps: output frame k shows the last
/// frame that started at or before k/25 s. Streaming, so that only the output frames are held.
#[derive(Debug, Default)]
pub struct Resampler {
    emitted: usize,
}

impl Resampler {
    /// How many output frames the frame shown before `next_start` (s) fills.
    pub fn until(&mut self, next_start: f64) -> usize {
        let mut count = 0;
        while self.emitted < MAX_FRAMES && self.emitted as f64 / FPS + 1e-6 < next_start {
            self.emitted += 1;
            count += 1;
        }
        count
    }

    /// How many output frames the last frame fills, the GIF lasting `duration` (s).
    pub fn finish(&mut self, duration: f64) -> usize {
        let total = ((duration * FPS + 1e-6).floor() as usize).clamp(1, MAX_FRAMES);
        let count = total.saturating_sub(self.emitted);
        self.emitted += count;
        count
    }
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

/// The frames of a GIF at 25 fps and its duration (s; capped at [`MAX_FRAMES`] frames).
pub async fn decode(file: &web_sys::File, grabber: &Grabber) -> Result<(Vec<Frame>, f64), String> {
    let window = web_sys::window().ok_or("no window")?;
    let constructor = get(&window, "ImageDecoder");
    if constructor.is_undefined() {
        return Err("This browser cannot read GIF frames (it has no WebCodecs ImageDecoder). Convert the GIF to a video, for example with `ffmpeg -i input.gif output.webm`, or use Chromium.".into());
    }
    let bytes = wait(file.array_buffer().into()).await?;
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
    let mut resampler = Resampler::default();
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
        if let Some(previous) = shown.take() {
            emit(&mut out, previous, resampler.until(start));
        }
        shown = Some(frame);
        end = end.max(start + duration);
        if out.len() >= MAX_FRAMES {
            break;
        }
    }
    close(&decoder);
    if let Some(last) = shown {
        emit(&mut out, last, resampler.finish(end));
    }
    let duration = out.len() as f64 / FPS;
    Ok((out, duration))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Output frame indices for frames starting at `starts` in a GIF of `duration` s.
    fn resample(starts: &[f64], duration: f64) -> Vec<usize> {
        let mut resampler = Resampler::default();
        let mut out = Vec::new();
        for (i, window) in starts.windows(2).enumerate() {
            out.extend(std::iter::repeat_n(i, resampler.until(window[1])));
        }
        out.extend(std::iter::repeat_n(
            starts.len() - 1,
            resampler.finish(duration),
        ));
        out
    }

    #[test]
    fn resampling_follows_frame_times() {
        // 25 fps in, 25 fps out (the shared cricket GIF: 79 frames, 3.16 s).
        let starts: Vec<f64> = (0..79).map(|i| i as f64 * 0.04).collect();
        assert_eq!(resample(&starts, 3.12 + 0.04), (0..79).collect::<Vec<_>>());
        // 10 fps in: each frame shown for 2 or 3 output frames.
        let starts: Vec<f64> = (0..5).map(|i| i as f64 * 0.1).collect();
        assert_eq!(
            resample(&starts, 0.5),
            vec![0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4]
        );
        // Very long: capped.
        assert_eq!(resample(&[0.0], 1000.0).len(), MAX_FRAMES);
    }
}
