//! Video files: opening one in a `<video>` element (with a clear message when the browser cannot
//! play it), cutting it into windows, and seeking frame by frame at 25 fps.

use js_sys::Promise;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::HtmlVideoElement;

/// Frames per second the model expects.
pub const FPS: f64 = i3d_core::preprocess::TARGET_FPS;

/// Windows `(first frame, frame count)` covering `frames` frames with windows of `length`:
/// back to back, plus a last window ending at the last frame when at least
/// [`protocol::MIN_FRAMES`] frames would otherwise be left out; a clip shorter than `length` is
/// one window of all its frames (if it has at least `MIN_FRAMES`).
pub fn windows(frames: usize, length: usize) -> Vec<(usize, usize)> {
    if frames < protocol::MIN_FRAMES || length == 0 {
        return Vec::new();
    }
    if frames < length {
        return vec![(0, frames)];
    }
    let mut out: Vec<(usize, usize)> = (0..frames / length).map(|i| (i * length, length)).collect();
    let covered = out.len() * length;
    if frames - covered >= protocol::MIN_FRAMES {
        out.push((frames - length, length));
    }
    out
}

/// How long opening or seeking a video may take, ms: a damaged file can leave the element waiting
/// forever, and the analysis with it.
pub const VIDEO_TIMEOUT_MS: i32 = 20_000;

/// Waits for `ok` or `error` on the video, at most [`VIDEO_TIMEOUT_MS`]; an error or the timeout
/// becomes a message that says what to do.
async fn wait_for(video: &HtmlVideoElement, ok: &str) -> Result<(), String> {
    // Both listeners go when either fires (an `AbortController` signal), so none pile up across seeks.
    let abort = web_sys::AbortController::new().map_err(|e| crate::js::js_text(&e))?;
    let promise = Promise::new(&mut |resolve, reject| {
        let done = abort.clone();
        let on_ok = Closure::once_into_js(move || {
            done.abort();
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
        });
        let done = abort.clone();
        let failed = reject.clone();
        let on_error = Closure::once_into_js(move || {
            done.abort();
            let _ = failed.call0(&wasm_bindgen::JsValue::NULL);
        });
        let options = web_sys::AddEventListenerOptions::new();
        options.set_once(true);
        options.set_signal(&abort.signal());
        let _ = video.add_event_listener_with_callback_and_add_event_listener_options(
            ok,
            on_ok.unchecked_ref(),
            &options,
        );
        let _ = video.add_event_listener_with_callback_and_add_event_listener_options(
            "error",
            on_error.unchecked_ref(),
            &options,
        );
        // Settling an already settled promise does nothing: the timer needs no clearing.
        let done = abort.clone();
        let on_timeout = Closure::once_into_js(move || {
            done.abort();
            let _ = reject.call1(&wasm_bindgen::JsValue::NULL, &"timeout".into());
        });
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                on_timeout.unchecked_ref(),
                VIDEO_TIMEOUT_MS,
            );
        }
    });
    JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|why| {
            if why.as_string().as_deref() == Some("timeout") {
                format!(
                    "The video did not respond within {} s (while opening or seeking): the file may be damaged, or \
                     too slow to read here. Try another file, or convert it to WebM.",
                    VIDEO_TIMEOUT_MS / 1000
                )
            } else {
                unplayable(video)
            }
        })
}

/// The message for a video the browser cannot play.
fn unplayable(video: &HtmlVideoElement) -> String {
    let code = video.error().map_or(0, |e| e.code());
    match code {
        3 => "The browser could not decode this video: the file is damaged or incomplete. Try another file.".into(),
        4 => "This browser cannot play this file (its format or codec is not supported). Convert it to WebM or MP4 (H.264), for example with `ffmpeg -i input output.webm`, or try another file.".into(),
        _ => "The video could not be read. Try another file.".into(),
    }
}

/// Loads `src` into `video` and waits for its size and duration; returns the duration (s).
pub async fn open(video: &HtmlVideoElement, src: &str) -> Result<f64, String> {
    video.set_muted(true);
    video.set_src(src);
    wait_for(video, "loadeddata").await?;
    let mut duration = video.duration();
    if duration == f64::INFINITY {
        // A WebM written as a stream (MediaRecorder, `ffmpeg … pipe:`) states no duration: seeking far past the end
        // makes the browser read to the end and learn it.
        video.set_current_time(1e101);
        wait_for(video, "seeked").await?;
        duration = video.duration();
        video.set_current_time(0.0);
        wait_for(video, "seeked").await?;
    }
    if !duration.is_finite() || duration <= 0.0 || video.video_width() == 0 {
        return Err(
            "This file has no video picture the browser can show. Try another file.".into(),
        );
    }
    Ok(duration)
}

/// Shows the frame at `seconds`.
///
/// `seeked` alone is not enough: Chromium may fire it before the new frame reaches the element's picture, and a
/// frame drawn then is the one shown before the seek (seen: 2 of 16 frames of a clip repeated, depending on how
/// busy the machine was, and I3D's activations with them). So the seek also waits for the element's next
/// presented frame (`requestVideoFrameCallback`, asked for before the seek), which Chromium sends for every seek
/// that moves the time, even within the same video frame; at most [`PRESENTED_WAIT_MS`] after `seeked`, for a
/// browser that might not, and not at all where the browser has no such callback.
pub async fn seek(video: &HtmlVideoElement, seconds: f64) -> Result<(), String> {
    if (video.current_time() - seconds).abs() < 1e-6 {
        return Ok(());
    }
    let presented = super::camera::frame_presented(video);
    video.set_current_time(seconds);
    wait_for(video, "seeked").await?;
    if let Some(presented) = presented {
        let waited = Promise::new(&mut |resolve, _| {
            if let Some(window) = web_sys::window() {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_1(
                    &resolve,
                    PRESENTED_WAIT_MS,
                    &false.into(),
                );
            }
        });
        let first = JsFuture::from(Promise::race(&js_sys::Array::of2(&presented, &waited))).await;
        // The frame callback resolves with its time (a number), the wait with `false`.
        if !first.is_ok_and(|v| v.as_f64().is_some()) {
            web_sys::console::warn_1(
                &format!(
                    "no new video frame {PRESENTED_WAIT_MS} ms after seeking to {seconds:.3} s"
                )
                .into(),
            );
        }
    }
    Ok(())
}

/// How long a seek waits, after `seeked`, for the sought frame to be presented, ms.
pub const PRESENTED_WAIT_MS: i32 = 1000;

/// The time to show frame `index` of a video of `duration` seconds: the middle of its 1/25 s.
pub fn frame_time(index: usize, duration: f64) -> f64 {
    ((index as f64 + 0.5) / FPS).min((duration - 1e-3).max(0.0))
}

/// Frames at 25 fps in a video of `duration` seconds.
pub fn frame_count(duration: f64) -> usize {
    (duration * FPS).floor().max(1.0) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_clip() {
        // The shared cricket clip: 79 frames.
        assert_eq!(windows(79, 32), vec![(0, 32), (32, 32), (47, 32)]);
        assert_eq!(
            windows(79, 16),
            vec![(0, 16), (16, 16), (32, 16), (48, 16), (63, 16)]
        );
        assert_eq!(windows(64, 32), vec![(0, 32), (32, 32)]);
        // 8 frames left over: too few for a window of their own.
        assert_eq!(windows(72, 32), vec![(0, 32), (32, 32)]);
        assert_eq!(windows(20, 32), vec![(0, 20)]);
        assert!(windows(8, 32).is_empty());
        assert_eq!(frame_count(3.16), 79);
    }
}
