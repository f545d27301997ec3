//! The live camera: opening it, capturing frames at 25 fps into a ring buffer, sending a window to
//! the worker whenever the model is free, and showing the (smoothed) prediction.
//!
//! Windows overlap: a new one goes out as soon as the model is free and [`STRIDE`] new frames came
//! in, so a device that runs a window in under a third of a second predicts about three times per
//! second, while a slow one drops frames instead of queueing windows. Until the first prediction,
//! windows are [`FIRST_WINDOW`] frames long, so that something shows about a second after the camera
//! opens.

use std::collections::VecDeque;

use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::{HtmlVideoElement, MediaStream};

use super::camera;
use super::client::WindowResult;
use super::frames::{Frame, FrameRing, Grabber};
use super::model::Model;
use super::output::{self, rank, RankedList};
use super::session::{CancelToken, Live, Session};

/// Windows averaged when smoothing the live prediction.
pub const SMOOTHING_WINDOWS: usize = 3;
/// Seconds between two captured frames (25 fps).
const FRAME_INTERVAL_S: f64 = 1.0 / i3d_core::preprocess::TARGET_FPS;
/// The capture rate is measured over this many ms.
const FPS_SPAN_MS: f64 = 2000.0;
/// New frames between two overlapping windows (0.32 s at 25 fps).
pub const STRIDE: usize = 8;
/// Frames of the windows sent until the first prediction shows.
pub const FIRST_WINDOW: usize = 16;
/// Predictions per second are measured over this many ms (or between the last two, when further apart).
const RATE_SPAN_MS: f64 = 4000.0;

/// Stops what runs and opens the camera (`device`, or the default one); its error, if any, goes to
/// `session.camera_error`.
pub fn start_camera(session: Session, model: Model, device: Option<String>) {
    let token = session.begin();
    session.camera_error.set(None);
    spawn_local(async move {
        match camera::open(device.as_deref()).await {
            // The visitor moved on (another input, another page) while the permission prompt was open.
            Ok(media) if token.is_cancelled() => camera::stop(&media),
            Ok(media) => {
                run_camera(session, model, media, token);
                session.cameras.set(camera::cameras().await);
            }
            Err(e) => {
                web_sys::console::warn_1(&format!("camera: {e:?}").into());
                if !token.is_cancelled() {
                    session
                        .camera_error
                        .set(Some((e.code().into(), e.message())));
                }
            }
        }
    });
}

/// Shows `media` and runs the capture loop until `token` is cancelled.
fn run_camera(session: Session, model: Model, media: MediaStream, token: CancelToken) {
    let Some(video) = session.video_ref.get_untracked() else {
        camera::stop(&media);
        return;
    };
    let video: HtmlVideoElement = video;
    video.set_src_object(Some(&media));
    video.set_muted(true);
    let _ = video.play();
    {
        let token = token.clone();
        camera::on_ended(&media, move || {
            if !token.is_cancelled() {
                session.stop();
                let ended = camera::CameraError::Ended;
                session
                    .camera_error
                    .set(Some((ended.code().into(), ended.message())));
            }
        });
    }
    session.stream.set_value(Some(media));
    session.source.set(super::session::Source::Camera);
    session.history.update_value(VecDeque::clear);
    session.live.set(None);
    session.cam_map.set(None);
    session.custom.set(None);
    spawn_local(capture(session, model, video, token));
}

/// The capture loop: one frame per 1/25 s of the video's clock into the ring; a full ring goes to
/// the model when it is ready and idle, else the frames keep rolling (windows are dropped, not
/// queued, so the prediction never lags behind the camera).
async fn capture(session: Session, model: Model, video: HtmlVideoElement, token: CancelToken) {
    let grabber = match Grabber::new() {
        Ok(g) => g,
        Err(e) => {
            session.camera_error.set(Some(("other".into(), e)));
            return;
        }
    };
    let window_len = || session.window_len.get_untracked().max(protocol::MIN_FRAMES);
    let mut ring = FrameRing::new(window_len());
    // Frames captured since the last window went out.
    let mut fresh = usize::MAX;
    let rate = std::rc::Rc::new(std::cell::RefCell::new(VecDeque::<f64>::new()));
    let mut next_sample = f64::NEG_INFINITY;
    // Capture times, ms (`performance.now()`), over the last `FPS_SPAN_MS`.
    let mut captured: VecDeque<f64> = VecDeque::new();
    let performance = web_sys::window().and_then(|w| w.performance());
    while !token.is_cancelled() {
        // A video element that was removed never shows another frame: stop waiting when the task ends,
        // so that the loop and its frame ring are freed.
        if token
            .until_cancelled(camera::next_frame(&video))
            .await
            .is_none()
        {
            break;
        }
        // 25 fps from the video's own clock, s.
        let t = video.current_time();
        if t < next_sample {
            continue;
        }
        next_sample = if t - next_sample > 0.2 {
            t + FRAME_INTERVAL_S
        } else {
            next_sample + FRAME_INTERVAL_S
        };
        let frame = match grabber.grab(&video) {
            Ok(Some(frame)) => frame,
            Ok(None) => continue,
            Err(e) => {
                session
                    .notice
                    .set(Some(format!("could not read a camera frame: {e}")));
                continue;
            }
        };
        if let Some(p) = &performance {
            let now = p.now();
            captured.push_back(now);
            while captured.front().is_some_and(|&f| now - f > FPS_SPAN_MS) {
                captured.pop_front();
            }
            session
                .capture_fps
                .set(captured.len() as f64 * 1000.0 / FPS_SPAN_MS);
        }
        ring.resize(window_len());
        ring.push(frame);
        fresh = fresh.saturating_add(1);
        let wanted = if session.live.with_untracked(Option::is_none) {
            FIRST_WINDOW.min(window_len())
        } else {
            window_len()
        };
        if ring.len() < wanted || fresh < STRIDE {
            continue;
        }
        // While the model loads or is busy, windows are dropped, not queued.
        let Some(client) = model.ready_now() else {
            continue;
        };
        if client.busy() {
            continue;
        }
        let window: Vec<Frame> = ring.latest(wanted);
        fresh = 0;
        let Some((width, height)) = window.first().map(|f| (f.width, f.height)) else {
            continue;
        };
        let buffers = window.into_iter().map(|f| f.pixels).collect();
        let cam = session.show_cam.get_untracked();
        let token = token.clone();
        let rate = rate.clone();
        let performance = performance.clone();
        spawn_local(async move {
            let result = client.classify(buffers, width, height, (cam, false)).await;
            if token.is_cancelled() {
                return;
            }
            match result {
                Ok(result) => {
                    let per_second = performance.map_or(0.0, |p| {
                        predictions_per_second(&mut rate.borrow_mut(), p.now())
                    });
                    show(session, result, per_second)
                }
                Err(e) => session.notice.set(Some(e)),
            }
        });
    }
}

/// A finished window of the camera: smooth (mean of the last [`SMOOTHING_WINDOWS`] windows' probabilities when
/// smoothing is on), rank, show.
/// Records a prediction at `now` (ms) in `done` (the times of the previous ones) and returns the predictions per
/// second over the last [`RATE_SPAN_MS`], 0 until two are in. The last two always count: predictions further apart
/// than the span (a busy or slow device) are fewer than one per span, not none.
fn predictions_per_second(done: &mut VecDeque<f64>, now: f64) -> f64 {
    done.push_back(now);
    while done.len() > 2 && done.front().is_some_and(|&t| now - t > RATE_SPAN_MS) {
        done.pop_front();
    }
    match (done.front(), done.len()) {
        (Some(&first), n) if n > 1 && now > first => (n - 1) as f64 * 1000.0 / (now - first),
        _ => 0.0,
    }
}

fn show(session: Session, result: WindowResult, per_second: f64) {
    let smoothing = session.smoothing.get_untracked();
    let probs = session
        .history
        .try_update_value(|h| {
            if !smoothing {
                h.clear();
            }
            h.push_back(result.probs);
            while h.len() > SMOOTHING_WINDOWS {
                h.pop_front();
            }
            output::mean(h.make_contiguous())
        })
        .unwrap_or_default();
    let count = session
        .live
        .with_untracked(|l| l.as_ref().map_or(0, |l| l.count))
        + 1;
    session.live.set(Some(Live {
        count,
        top: rank(&probs, 5),
        latency_ms: result.latency_ms,
        frames: result.frames,
        per_second,
    }));
    // With a few-shot head in use (/train), the map explains its top class.
    session.cam_map.set(
        result
            .custom
            .as_ref()
            .and_then(|c| c.cam.clone())
            .or(result.cam),
    );
    session.custom.set(result.custom);
}

/// The live top five, its summary for screen readers, and the speed.
#[component]
pub fn LivePrediction(session: Session) -> impl IntoView {
    let Session {
        live, capture_fps, ..
    } = session;
    view! {
        <section class="live" aria-labelledby="live-heading">
            <h2 id="live-heading">"Live prediction"</h2>
            {move || match live.get() {
                None => view! { <p class="muted" data-testid="live-waiting">"Collecting the first window of frames…"</p> }.into_any(),
                Some(l) => {
                    let summary = l.top.first().map(|t| format!("Most likely: {}, {:.0}%", t.label, t.prob * 100.0)).unwrap_or_default();
                    view! {
                        <RankedList items=l.top.clone() testid="predictions"/>
                        <p class="sr-only" aria-live="polite">{summary}</p>
                        <p class="muted" data-testid="live-stats" data-per-second=format!("{:.2}", l.per_second) data-count=l.count.to_string()>
                            {format!("{} frames per window, {:.0} ms per window, {:.1} predictions/s, ",
                                l.frames, l.latency_ms, l.per_second)}
                            // Its own reactive text: the list above must not be rebuilt at every frame.
                            {move || format!("capture {:.0} fps", capture_fps.get())}
                        </p>
                    }.into_any()
                }
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_counts_slow_predictions() {
        let mut done = VecDeque::new();
        assert_eq!(predictions_per_second(&mut done, 1_000.0), 0.0);
        // Two a second.
        assert_eq!(predictions_per_second(&mut done, 1_500.0), 2.0);
        assert_eq!(predictions_per_second(&mut done, 2_000.0), 2.0);
        // Then one every 10 s, far beyond the span: 0.1 a second, not 0.
        assert_eq!(predictions_per_second(&mut done, 12_000.0), 0.1);
        assert_eq!(predictions_per_second(&mut done, 22_000.0), 0.1);
        assert_eq!(done.len(), 2);
    }
}
