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

/// For each output time k/25 s, the index of the frame shown then (the last one starting at or
/// before it), given each frame's start time (s, non-decreasing) and the total duration (s).
pub fn resample(starts: &[f64], duration: f64) -> Vec<usize> {
    let count = ((duration * FPS).floor() as usize).clamp(1, MAX_FRAMES);
    let mut shown = 0;
    (0..count)
        .map(|k| {
            let t = k as f64 / FPS + 1e-6;
            while shown + 1 < starts.len() && starts[shown + 1] <= t {
                shown += 1;
            }
            shown
        })
        .collect()
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
    let mut starts = Vec::with_capacity(count);
    let mut frames = Vec::with_capacity(count);
    let mut end = 0.0f64;
    for index in 0..count.min(MAX_FRAMES * 4) {
        let options = Object::new();
        let _ = Reflect::set(&options, &"frameIndex".into(), &(index as f64).into());
        let result = wait(decode.call1(&decoder, &options).map_err(|e| js_text(&e))?).await?;
        let image = get(&result, "image");
        // VideoFrame times are in microseconds.
        let start = get(&image, "timestamp").as_f64().unwrap_or(0.0) / 1e6;
        let duration = get(&image, "duration").as_f64().unwrap_or(1e6 / FPS) / 1e6;
        let width = get(&image, "displayWidth").as_f64().unwrap_or(0.0) as u32;
        let height = get(&image, "displayHeight").as_f64().unwrap_or(0.0) as u32;
        let frame = grabber.grab_source(&image, width, height);
        if let Ok(close) = get(&image, "close").dyn_into::<Function>() {
            let _ = close.call0(&image);
        }
        starts.push(start);
        frames.push(frame?);
        end = end.max(start + duration);
        if start > MAX_FRAMES as f64 / FPS {
            break;
        }
    }
    if let Ok(close) = get(&decoder, "close").dyn_into::<Function>() {
        let _ = close.call0(&decoder);
    }
    let picked = resample(&starts, end);
    let duration = picked.len() as f64 / FPS;
    Ok((
        picked.into_iter().map(|i| frames[i].copy()).collect(),
        duration,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resampling_follows_frame_times() {
        // 25 fps in, 25 fps out.
        let starts: Vec<f64> = (0..79).map(|i| i as f64 * 0.04).collect();
        assert_eq!(resample(&starts, 3.16), (0..79).collect::<Vec<_>>());
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
