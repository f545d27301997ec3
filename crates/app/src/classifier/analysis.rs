//! A video's analysis: a file (picker or drop), an animated GIF or the sample clip read frame by
//! frame at 25 fps, one window after the other through the model; then its timeline, overall top
//! five and export.
//!
//! Reading and the model overlap: the frames of the next window are read (seeked, drawn, copied)
//! while the worker runs the current one, so a video costs about its model time plus the reading of
//! its first window. The summary shows both times.

use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::HtmlVideoElement;

use super::client::answer_of;
use super::frames::Grabber;
use super::model::Model;
use super::output::{self, rank, RankedList, Timeline, WindowRow};
use super::session::{CancelToken, Session, Source};
use super::{gif, video};
use crate::js::js_text;

/// The bundled sample clip (made by `cargo xtask` from the shared cricket GIF with ffmpeg).
pub const SAMPLE_URL: &str = "/sample/cricket.webm";
/// The sample's class: the action it shows (a cricket shot, UCF-101's `v_CricketShot_g04_c01`), which
/// is also the published I3D output's top class for it (../shared/MODEL.md: index 227, 0.9886).
pub const SAMPLE_LABEL: &str = "playing cricket";
/// The name the sample is shown under.
pub const SAMPLE_NAME: &str = "cricket.webm (sample)";

/// What a video analysis reads.
pub enum Input {
    /// Anything the `<video>` element plays; `revoke` frees an object URL afterwards.
    Url {
        /// The video's URL.
        src: String,
        /// Whether `src` is an object URL of ours, to revoke when done.
        revoke: bool,
    },
    /// An animated GIF, decoded with WebCodecs.
    Gif(web_sys::File),
}

/// A video's analysis.
#[derive(Debug, Clone, PartialEq)]
pub enum Analysis {
    /// None yet.
    Idle,
    /// `done` of `total` windows classified (`total` is 0 while the video opens).
    Running {
        /// The file's name.
        name: String,
        /// Windows done.
        done: usize,
        /// Windows in all.
        total: usize,
    },
    /// Every window classified; `rows` holds them.
    Done {
        /// The file's name.
        name: String,
        /// The video's length, s.
        duration: f64,
        /// Wall time from opening the video to the last window's answer, ms.
        wall_ms: f64,
    },
    /// Stopped part way (the visitor left the page, started the camera or opened another video);
    /// `rows` holds the windows classified until then, which can still be exported.
    Stopped {
        /// The file's name.
        name: String,
        /// Windows in all (0: stopped while the video was opening).
        total: usize,
    },
    /// What went wrong and what to do.
    Failed(String),
}

impl Analysis {
    /// `Running` becomes `Stopped` (called when its task is cancelled); anything else stays.
    pub fn stop(&mut self) {
        if let Analysis::Running { name, total, .. } = self {
            *self = Analysis::Stopped {
                name: std::mem::take(name),
                total: *total,
            };
        }
    }
}

/// Analyses a file the visitor picked or dropped (a GIF by WebCodecs, anything else by the `<video>`).
pub fn open_file(session: Session, model: Model, file: web_sys::File) {
    let name = file.name();
    if file.type_() == "image/gif" {
        analyse(session, model, Input::Gif(file), name);
        return;
    }
    match web_sys::Url::create_object_url_with_blob(&file) {
        Ok(src) => analyse(session, model, Input::Url { src, revoke: true }, name),
        Err(e) => session.analysis.set(Analysis::Failed(js_text(&e))),
    }
}

/// Stops what runs and analyses `input` (shown as `name`): the result goes to `session.analysis`
/// and `session.rows`.
pub fn analyse(session: Session, model: Model, input: Input, name: String) {
    let token = session.begin();
    let Some(video) = session.video_ref.get_untracked() else {
        return;
    };
    let video: HtmlVideoElement = video;
    session.source.set(Source::File);
    session.rows.set(Vec::new());
    session.cam_map.set(None);
    session.custom.set(None);
    session.analysis.set(Analysis::Running {
        name: name.clone(),
        done: 0,
        total: 0,
    });
    let started = now_ms();
    spawn_local(async move {
        let result = run(session, model, &input, &name, &video, &token).await;
        let wall_ms = now_ms() - started;
        if let Input::Url { src, revoke: true } = &input {
            let _ = web_sys::Url::revoke_object_url(src);
        }
        // A task the visitor moved away from (another file, the camera, another page) shows nothing.
        if token.is_cancelled() {
            return;
        }
        match result {
            Ok(Some(duration)) => session.analysis.set(Analysis::Done {
                name,
                duration,
                wall_ms,
            }),
            Ok(None) => {}
            Err(e) => session.analysis.set(Analysis::Failed(e)),
        }
    });
}

/// `performance.now()`, ms.
fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Reads `input` window by window into `session.rows`; the video's duration (s) when done, `None`
/// when `token` was cancelled on the way.
async fn run(
    session: Session,
    model: Model,
    input: &Input,
    name: &str,
    video: &HtmlVideoElement,
    token: &CancelToken,
) -> Result<Option<f64>, String> {
    let grabber = Grabber::new()?;
    // Decoded GIF frames at 25 fps; a video is read by seeking instead.
    let (duration, gif_frames) = match input {
        Input::Url { src, .. } => (video::open(video, src).await?, None),
        Input::Gif(file) => {
            video.remove_attribute("src").ok();
            video.load();
            let gif::Decoded {
                frames,
                duration,
                cut,
            } = gif::decode(file, &grabber).await?;
            if cut && !token.is_cancelled() {
                session.notice.set(Some(format!(
                    "Only the first {duration:.1} s of this GIF are analysed: its decoded frames are held in memory, \
                     at most {} frames or {} MB.",
                    gif::MAX_FRAMES,
                    gif::MAX_FRAME_BYTES >> 20
                )));
            }
            if token.is_cancelled() {
                return Ok(None);
            }
            if let Some(first) = frames.first() {
                session.picture.set((first.width, first.height));
            }
            if let Ok(url) = web_sys::Url::create_object_url_with_blob(file) {
                video.set_poster(&url);
                session.poster.set_value(Some(url));
            }
            (duration, Some(frames))
        }
    };
    if token.is_cancelled() {
        return Ok(None);
    }
    let frame_count = gif_frames
        .as_ref()
        .map_or_else(|| video::frame_count(duration), Vec::len);
    // The model must be ready before the window length is known; leaving stops the wait.
    let Some(client) = token.until_cancelled(model.ready()).await else {
        return Ok(None);
    };
    let client = client?;
    if token.is_cancelled() {
        return Ok(None);
    }
    let length = session.window_len.get_untracked().max(protocol::MIN_FRAMES);
    let windows = video::windows(frame_count, length);
    if windows.is_empty() {
        return Err(format!(
            "the video is too short: {frame_count} frames at 25 fps, the model needs at least {}",
            protocol::MIN_FRAMES
        ));
    }
    let total = windows.len();
    // A camera window may still be in the worker.
    client.idle().await;
    // The window in the worker while the next one is read: (index, first frame, frames, answer).
    let mut in_flight = None;
    for (i, (first, count)) in windows.into_iter().enumerate() {
        let mut buffers = Vec::with_capacity(count);
        let mut size = (0, 0);
        for k in first..first + count {
            let frame = match &gif_frames {
                // A copy: the last window may overlap the one before.
                Some(frames) => frames
                    .get(k)
                    .ok_or("the GIF has fewer frames than it said")?
                    .copy(),
                None => {
                    video::seek(video, video::frame_time(k, duration)).await?;
                    if token.is_cancelled() {
                        return Ok(None);
                    }
                    grabber.grab(video)?.ok_or("the video shows no picture")?
                }
            };
            size = (frame.width, frame.height);
            buffers.push(frame.pixels);
        }
        // The worker takes one window at a time: the previous answer first.
        if let Some((index, start, frames, answer)) = in_flight.take() {
            let result = answer_of(answer).await?;
            if token.is_cancelled() {
                return Ok(None);
            }
            record(session, index, start, frames, result);
        }
        session.analysis.set(Analysis::Running {
            name: name.to_owned(),
            done: i,
            total,
        });
        let cam = session.show_cam.get_untracked();
        in_flight = Some((
            i,
            first,
            count,
            client.send(buffers, size.0, size.1, (cam, false))?,
        ));
    }
    if let Some((index, start, frames, answer)) = in_flight.take() {
        let result = answer_of(answer).await?;
        if token.is_cancelled() {
            return Ok(None);
        }
        record(session, index, start, frames, result);
    }
    Ok(Some(duration))
}

/// Adds window `index` (`frames` frames from frame `first`) and its answer to the rows.
fn record(
    session: Session,
    index: usize,
    first: usize,
    frames: usize,
    result: super::client::WindowResult,
) {
    // With a few-shot head in use (/train), the map explains its top class.
    session.cam_map.set(
        result
            .custom
            .as_ref()
            .and_then(|c| c.cam.clone())
            .or_else(|| result.cam.clone()),
    );
    session.custom.set(result.custom.clone());
    session.rows.update(|r| {
        r.push(WindowRow {
            window: index,
            start_s: first as f64 / video::FPS,
            end_s: (first + frames) as f64 / video::FPS,
            frames,
            top: rank(&result.probs, 5),
            latency_ms: result.latency_ms,
            model_ms: result.model_ms,
            probs: result.probs,
        })
    });
}

/// The video's progress, timeline, overall top five and export.
#[component]
pub fn VideoResults(session: Session) -> impl IntoView {
    let Session { analysis, rows, .. } = session;
    let export = move |json: bool| {
        let rows = rows.get_untracked();
        let name = match analysis.get_untracked() {
            Analysis::Done { name, .. }
            | Analysis::Running { name, .. }
            | Analysis::Stopped { name, .. } => name,
            _ => "video".into(),
        };
        let stem = name
            .rsplit_once('.')
            .map_or(name.as_str(), |(s, _)| s)
            .to_owned();
        let done = if json {
            output::to_json(&name, rows.first().map_or(0, |r| r.frames), &rows).and_then(|text| {
                crate::download::text(
                    &format!("{stem}-predictions.json"),
                    "application/json",
                    &text,
                )
            })
        } else {
            output::to_csv(&rows).and_then(|text| {
                crate::download::text(&format!("{stem}-predictions.csv"), "text/csv", &text)
            })
        };
        if let Err(e) = done {
            web_sys::console::error_1(&e.into());
        }
    };
    move || {
        match analysis.get() {
        Analysis::Idle => ().into_any(),
        Analysis::Failed(message) => view! {
            <p class="error" role="alert" data-testid="video-error">{message}</p>
        }
        .into_any(),
        Analysis::Running { name, done, total } => view! {
            <section class="video-results">
                <h2>{format!("Analysing {name}")}</h2>
                <p data-testid="analysis-progress">{if total == 0 { "Opening the video…".to_owned() } else { format!("Window {} of {total}…", done + 1) }}</p>
                <progress max=total.max(1).to_string() value=done.to_string()></progress>
            </section>
        }
        .into_any(),
        Analysis::Stopped { name, total } => {
            let all = rows.get();
            let overall = rank(&output::mean(&all.iter().map(|r| r.probs.clone()).collect::<Vec<_>>()), 5);
            view! {
                <section class="video-results" data-testid="analysis-stopped">
                    <h2>{if total == 0 {
                        format!("{name}: stopped before the first window")
                    } else {
                        format!("{name}: stopped after {} of {total} windows", all.len())
                    }}</h2>
                    <p class="muted">"The analysis stopped when you left the page, started the camera or opened another video. "
                        {if all.is_empty() { "No window had been classified yet." } else { "The windows classified until then are below, and can be downloaded." }}</p>
                    {(!all.is_empty()).then(|| view! {
                        <h3>"Windows so far"</h3>
                        <RankedList items=overall testid="overall"/>
                        <p>
                            <button type="button" data-testid="export-csv" on:click=move |_| export(false)>"Download CSV"</button>
                            " "
                            <button type="button" data-testid="export-json" on:click=move |_| export(true)>"Download JSON"</button>
                        </p>
                    })}
                </section>
            }
            .into_any()
        }
        Analysis::Done { name, duration, wall_ms } => {
            let all = rows.get();
            let overall = rank(&output::mean(&all.iter().map(|r| r.probs.clone()).collect::<Vec<_>>()), 5);
            let model_ms: f64 = all.iter().map(|r| r.model_ms).sum();
            view! {
                <section class="video-results" data-wall-ms=format!("{wall_ms:.0}") data-model-ms=format!("{model_ms:.0}")>
                    <h2>{format!("{name}: {} windows of {} frames", all.len(), all.first().map_or(0, |r| r.frames))}</h2>
                    <p class="muted" data-testid="analysis-time">{format!(
                        "Analysed in {:.1} s, of which the network took {:.1} s.", wall_ms / 1000.0, model_ms / 1000.0)}</p>
                    <h3>"Whole video"</h3>
                    <RankedList items=overall.clone() testid="overall"/>
                    <h3>"Timeline"</h3>
                    <Timeline rows=all classes=overall duration=duration/>
                    <p>
                        <button type="button" data-testid="export-csv" on:click=move |_| export(false)>"Download CSV"</button>
                        " "
                        <button type="button" data-testid="export-json" on:click=move |_| export(true)>"Download JSON"</button>
                    </p>
                    <p><a href="/inside" data-testid="inside-link">"Inside I3D: see what each layer computed on the last window"</a></p>
                </section>
            }
            .into_any()
        }
    }
    }
}
