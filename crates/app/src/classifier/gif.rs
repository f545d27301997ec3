//! Animated GIFs, decoded frame by frame with WebCodecs' `ImageDecoder` (where the browser has it) and
//! resampled to 25 fps from the frames' timestamps by [`Resampler`], the CLI's resampler.

use i3d_core::preprocess::Resampler;
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
    let mut resampler = Resampler::new(MAX_FRAMES);
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
