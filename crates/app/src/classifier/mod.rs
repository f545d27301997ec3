//! `/classify`: the I3D action classifier on the webcam or a video file.
//!
//! The model runs in a Web Worker ([`client`]); this module is the page: the model panel (progress,
//! backend and why, cache), the inputs ([`camera`], [`video`] files and the bundled sample clip),
//! and the outputs ([`output`]: live top-5, the timeline of a video, export, activation map).

pub mod camera;
pub mod client;
pub mod frames;
pub mod gif;
pub mod output;
pub mod video;

use std::collections::VecDeque;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use protocol::ActivationMap;
use web_sys::{HtmlVideoElement, MediaStream};

use client::{ModelClient, ModelStatus, WindowResult};
use frames::{Frame, FrameRing, Grabber};
use output::{draw_cam, rank, Ranked, RankedList, Timeline, WindowRow};

/// The bundled sample clip (made by `cargo xtask` from the shared cricket GIF with ffmpeg).
pub const SAMPLE_URL: &str = "/sample/cricket.webm";
/// Windows averaged when smoothing the live prediction.
const SMOOTHING_WINDOWS: usize = 3;

/// The model, shared by visits to the page: the worker stays loaded while the visitor browses.
#[derive(Clone, Copy)]
pub struct Model {
    client: StoredValue<Option<Rc<ModelClient>>, LocalStorage>,
    backend: StoredValue<String>,
    /// What the model is doing.
    pub status: RwSignal<ModelStatus>,
}

impl Model {
    /// No worker yet.
    pub fn new() -> Self {
        Self {
            client: StoredValue::new_local(None),
            backend: StoredValue::new(String::new()),
            status: RwSignal::new(ModelStatus::Idle),
        }
    }

    /// Starts the worker on `backend` unless it already runs on it.
    pub fn ensure(&self, backend: &str) {
        let running = self.client.with_value(Option::is_some);
        let failed = matches!(self.status.get_untracked(), ModelStatus::Failed(_));
        if running && !failed && self.backend.with_value(|b| b == backend) {
            return;
        }
        self.client.set_value(None);
        self.backend.set_value(backend.to_owned());
        match ModelClient::start(backend.to_owned(), self.status) {
            Ok(client) => self.client.set_value(Some(Rc::new(client))),
            Err(e) => self.status.set(ModelStatus::Failed(e)),
        }
    }

    fn client(&self) -> Option<Rc<ModelClient>> {
        self.client.get_value()
    }

    fn ready(&self) -> bool {
        matches!(self.status.get_untracked(), ModelStatus::Ready(_))
    }
}

impl Default for Model {
    fn default() -> Self {
        Self::new()
    }
}

/// The page's state. It is created once by the app, not by the page, so that the tasks the page starts
/// (a window in the worker, a seek, a camera permission prompt) can still touch it after the visitor left:
/// values owned by the page would be disposed, and reading them would panic. Leaving the page bumps
/// `generation`, which those tasks check before doing anything visible.
#[derive(Clone, Copy)]
pub struct Session {
    window_len: RwSignal<usize>,
    smoothing: RwSignal<bool>,
    show_cam: RwSignal<bool>,
    mirror: RwSignal<bool>,
    source: RwSignal<Source>,
    camera_error: RwSignal<Option<(String, String)>>,
    cameras: RwSignal<Vec<(String, String)>>,
    chosen_camera: RwSignal<String>,
    live: RwSignal<Option<Live>>,
    capture_fps: RwSignal<f64>,
    cam_map: RwSignal<Option<ActivationMap>>,
    /// The size of a picture shown without the video element's own (a GIF as its poster).
    picture: RwSignal<(u32, u32)>,
    analysis: RwSignal<Analysis>,
    rows: RwSignal<Vec<WindowRow>>,
    notice: RwSignal<Option<String>>,
    /// Bumped to stop the running capture loop or analysis.
    generation: StoredValue<u32>,
    stream: StoredValue<Option<MediaStream>, LocalStorage>,
    history: StoredValue<VecDeque<Vec<f32>>>,
    video_ref: NodeRef<leptos::html::Video>,
    overlay_ref: NodeRef<leptos::html::Canvas>,
    /// The object URL of a GIF shown as the video's poster, revoked when replaced.
    poster: StoredValue<Option<String>>,
}

impl Session {
    /// Fresh state.
    pub fn new() -> Self {
        Self {
            window_len: RwSignal::new(0),
            smoothing: RwSignal::new(true),
            show_cam: RwSignal::new(true),
            mirror: RwSignal::new(true),
            source: RwSignal::new(Source::None),
            camera_error: RwSignal::new(None),
            cameras: RwSignal::new(Vec::new()),
            chosen_camera: RwSignal::new(String::new()),
            live: RwSignal::new(None),
            capture_fps: RwSignal::new(0.0),
            cam_map: RwSignal::new(None),
            picture: RwSignal::new((0, 0)),
            analysis: RwSignal::new(Analysis::Idle),
            rows: RwSignal::new(Vec::new()),
            notice: RwSignal::new(None),
            generation: StoredValue::new(0),
            stream: StoredValue::new_local(None),
            history: StoredValue::new(VecDeque::new()),
            video_ref: NodeRef::new(),
            overlay_ref: NodeRef::new(),
            poster: StoredValue::new(None),
        }
    }
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

/// Where the frames come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    None,
    Camera,
    File,
}

/// What a video analysis reads.
enum Input {
    /// Anything the `<video>` element plays; `revoke` frees an object URL afterwards.
    Url { src: String, revoke: bool },
    /// An animated GIF, decoded with WebCodecs.
    Gif(web_sys::File),
}

/// The live prediction.
#[derive(Debug, Clone, PartialEq)]
struct Live {
    top: Vec<Ranked>,
    latency_ms: f64,
    frames: usize,
}

/// A video's analysis.
#[derive(Debug, Clone, PartialEq)]
enum Analysis {
    Idle,
    Running {
        name: String,
        done: usize,
        total: usize,
    },
    Done {
        name: String,
        duration: f64,
    },
    Failed(String),
}

fn megabytes(bytes: f64) -> String {
    format!("{:.1} MB", bytes / 1e6)
}

/// The page.
#[component]
pub fn ClassifierPage() -> impl IntoView {
    let model = use_context::<Model>().unwrap_or_default();
    let query = use_query_map();
    let backend = client::requested_backend(query.with_untracked(|q| q.get("backend")));
    model.ensure(&backend);

    let Session {
        window_len,
        smoothing,
        show_cam,
        mirror,
        source,
        camera_error,
        cameras,
        chosen_camera,
        live,
        capture_fps,
        cam_map,
        picture,
        analysis,
        rows,
        notice,
        generation,
        stream,
        history,
        video_ref,
        overlay_ref,
        poster,
    } = use_context::<Session>().unwrap_or_default();

    // The window length follows the backend's measured speed until the visitor picks one.
    Effect::new(move || {
        if let ModelStatus::Ready(ready) = model.status.get() {
            if window_len.get_untracked() == 0 {
                window_len.set(ready.default_window());
            }
        }
    });
    // Redraw the activation map when it, the toggle or the picture changes.
    Effect::new(move || {
        let map = cam_map.get();
        let show = show_cam.get();
        if let (Some(canvas), Some(video)) = (overlay_ref.get(), video_ref.get()) {
            let size = match (video.video_width(), video.video_height()) {
                (0, _) | (_, 0) => picture.get(),
                size => size,
            };
            let shown = if show { map.as_ref() } else { None };
            if let Err(e) = draw_cam(&canvas, size, shown) {
                web_sys::console::warn_1(&e.into());
            }
        }
    });

    let stop_everything = move || {
        generation.update_value(|g| *g = g.wrapping_add(1));
        if let Some(s) = stream.get_value() {
            camera::stop(&s);
        }
        stream.set_value(None);
        picture.set((0, 0));
        if let Some(url) = poster.get_value() {
            let _ = web_sys::Url::revoke_object_url(&url);
            poster.set_value(None);
        }
        if let Some(video) = video_ref.get_untracked() {
            let video: &HtmlVideoElement = &video;
            video.set_poster("");
            video.set_src_object(None);
            let _ = video.pause();
        }
        source.set(Source::None);
    };
    on_cleanup(move || {
        generation.update_value(|g| *g = g.wrapping_add(1));
        if let Some(s) = stream.get_value() {
            camera::stop(&s);
        }
        stream.set_value(None);
        source.set(Source::None);
    });

    // A finished window of the camera: smooth, rank, show.
    let show_live = move |result: WindowResult| {
        history.update_value(|h| {
            if !smoothing.get_untracked() {
                h.clear();
            }
            h.push_back(result.probs.clone());
            while h.len() > SMOOTHING_WINDOWS {
                h.pop_front();
            }
        });
        let probs = history.with_value(|h| output::mean(&h.iter().cloned().collect::<Vec<_>>()));
        live.set(Some(Live {
            top: rank(&probs, 5),
            latency_ms: result.latency_ms,
            frames: result.frames,
        }));
        cam_map.set(result.cam);
    };

    let run_camera = move |media: MediaStream| {
        let Some(video) = video_ref.get_untracked() else {
            return;
        };
        let video: HtmlVideoElement = video;
        video.set_src_object(Some(&media));
        video.set_muted(true);
        let _ = video.play();
        let my_generation = generation.get_value();
        camera::on_ended(&media, move || {
            if generation.get_value() == my_generation {
                stop_everything();
                let ended = camera::CameraError::Ended;
                camera_error.set(Some((ended.code().into(), ended.message())));
            }
        });
        stream.set_value(Some(media));
        source.set(Source::Camera);
        history.update_value(VecDeque::clear);
        live.set(None);
        cam_map.set(None);
        spawn_local(async move {
            let grabber = match Grabber::new() {
                Ok(g) => g,
                Err(e) => {
                    camera_error.set(Some(("other".into(), e)));
                    return;
                }
            };
            let mut ring = FrameRing::new(window_len.get_untracked().max(protocol::MIN_FRAMES));
            let mut next_sample = f64::NEG_INFINITY;
            let mut captured: VecDeque<f64> = VecDeque::new();
            let performance = web_sys::window().and_then(|w| w.performance());
            while generation.get_value() == my_generation {
                camera::next_frame(&video).await;
                if generation.get_value() != my_generation {
                    break;
                }
                // 25 fps from the video's own clock.
                let t = video.current_time();
                if t < next_sample {
                    continue;
                }
                next_sample = if t - next_sample > 0.2 {
                    t + 0.04
                } else {
                    next_sample + 0.04
                };
                let frame = match grabber.grab(&video) {
                    Ok(Some(frame)) => frame,
                    Ok(None) => continue,
                    Err(e) => {
                        notice.set(Some(format!("could not read a camera frame: {e}")));
                        continue;
                    }
                };
                if let Some(p) = &performance {
                    let now = p.now();
                    captured.push_back(now);
                    while captured.front().is_some_and(|&f| now - f > 2000.0) {
                        captured.pop_front();
                    }
                    capture_fps.set(captured.len() as f64 / 2.0);
                }
                let length = window_len.get_untracked().max(protocol::MIN_FRAMES);
                ring.resize(length);
                ring.push(frame);
                let Some(client) = model.client() else {
                    continue;
                };
                // While the model is busy, windows are dropped, not queued.
                if !ring.is_full() || client.busy() || !model.ready() {
                    continue;
                }
                let window: Vec<Frame> = ring.take();
                let (width, height) = (window[0].width, window[0].height);
                let buffers = window.into_iter().map(|f| f.pixels).collect();
                let cam = show_cam.get_untracked();
                spawn_local(async move {
                    match client.classify(buffers, width, height, cam).await {
                        Ok(result) if generation.get_value() == my_generation => show_live(result),
                        Ok(_) => {}
                        Err(e) => notice.set(Some(e)),
                    }
                });
            }
        });
    };

    let start_camera = move |device: Option<String>| {
        stop_everything();
        camera_error.set(None);
        let asked = generation.get_value();
        spawn_local(async move {
            match camera::open(device.as_deref()).await {
                // The visitor moved on (another input, another page) while the permission prompt was open.
                Ok(media) if generation.get_value() != asked => camera::stop(&media),
                Ok(media) => {
                    run_camera(media);
                    cameras.set(camera::cameras().await);
                }
                Err(e) => {
                    web_sys::console::warn_1(&format!("camera: {e:?}").into());
                    camera_error.set(Some((e.code().into(), e.message())));
                }
            }
        });
    };

    // A video file or the sample: seek through it at 25 fps, one window after the other.
    let analyse = move |input: Input, name: String| {
        stop_everything();
        let Some(video) = video_ref.get_untracked() else {
            return;
        };
        let video: HtmlVideoElement = video;
        source.set(Source::File);
        rows.set(Vec::new());
        cam_map.set(None);
        analysis.set(Analysis::Running {
            name: name.clone(),
            done: 0,
            total: 0,
        });
        let my_generation = generation.get_value();
        spawn_local(async move {
            let result = async {
                let grabber = Grabber::new()?;
                // Decoded GIF frames at 25 fps; a video is read by seeking instead.
                let moved_on = move || generation.get_value() != my_generation;
                let (duration, gif_frames) = match &input {
                    Input::Url { src, .. } => {
                        let duration = video::open(&video, src).await?;
                        if moved_on() {
                            return Ok(None);
                        }
                        (duration, None)
                    }
                    Input::Gif(file) => {
                        video.remove_attribute("src").ok();
                        video.load();
                        let (frames, duration) = gif::decode(file, &grabber).await?;
                        if moved_on() {
                            return Ok(None);
                        }
                        if let Some(first) = frames.first() {
                            picture.set((first.width, first.height));
                        }
                        if let Ok(url) = web_sys::Url::create_object_url_with_blob(file) {
                            video.set_poster(&url);
                            poster.set_value(Some(url));
                        }
                        (duration, Some(frames))
                    }
                };
                let frame_count = gif_frames
                    .as_ref()
                    .map_or_else(|| video::frame_count(duration), Vec::len);
                // The model must be ready before the window length is known.
                while !model.ready() {
                    if let ModelStatus::Failed(e) = model.status.get_untracked() {
                        return Err(format!("the model did not load: {e}"));
                    }
                    gloo_timers::future::TimeoutFuture::new(100).await;
                    if moved_on() {
                        return Ok(None);
                    }
                }
                let length = window_len.get_untracked().max(protocol::MIN_FRAMES);
                let windows = video::windows(frame_count, length);
                if windows.is_empty() {
                    return Err(format!(
                        "the video is too short: {frame_count} frames at 25 fps, the model needs at least {}",
                        protocol::MIN_FRAMES
                    ));
                }
                let total = windows.len();
                for (i, (first, count)) in windows.into_iter().enumerate() {
                    if moved_on() {
                        return Ok(None);
                    }
                    analysis.set(Analysis::Running { name: name.clone(), done: i, total });
                    let mut buffers = Vec::with_capacity(count);
                    let mut size = (0, 0);
                    for k in first..first + count {
                        let frame = match &gif_frames {
                            // A copy: the last window may overlap the one before.
                            Some(frames) => frames[k].copy(),
                            None => {
                                video::seek(&video, video::frame_time(k, duration)).await?;
                                if moved_on() {
                                    return Ok(None);
                                }
                                grabber.grab(&video)?.ok_or("the video shows no picture")?
                            }
                        };
                        size = (frame.width, frame.height);
                        buffers.push(frame.pixels);
                    }
                    let client = model.client().ok_or("the model is not loaded")?;
                    // A camera window may still be in the worker.
                    while client.busy() {
                        gloo_timers::future::TimeoutFuture::new(50).await;
                    }
                    if moved_on() {
                        return Ok(None);
                    }
                    let cam = show_cam.get_untracked();
                    let result = client.classify(buffers, size.0, size.1, cam).await?;
                    if moved_on() {
                        return Ok(None);
                    }
                    cam_map.set(result.cam.clone());
                    let start_s = first as f64 / video::FPS;
                    rows.update(|r| {
                        r.push(WindowRow {
                            window: i,
                            start_s,
                            end_s: (first + count) as f64 / video::FPS,
                            frames: count,
                            top: rank(&result.probs, 5),
                            latency_ms: result.latency_ms,
                            probs: result.probs,
                        })
                    });
                }
                Ok(Some(duration))
            }
            .await;
            if let Input::Url { src, revoke: true } = &input {
                let _ = web_sys::Url::revoke_object_url(src);
            }
            // A task the visitor moved away from (another file, the camera, another page) shows nothing.
            if generation.get_value() != my_generation {
                return;
            }
            match result {
                Ok(Some(duration)) => analysis.set(Analysis::Done { name, duration }),
                Ok(None) => {}
                Err(e) => analysis.set(Analysis::Failed(e)),
            }
        });
    };

    let open_file = move |file: web_sys::File| {
        let name = file.name();
        if file.type_() == "image/gif" {
            analyse(Input::Gif(file), name);
            return;
        }
        match web_sys::Url::create_object_url_with_blob(&file) {
            Ok(src) => analyse(Input::Url { src, revoke: true }, name),
            Err(e) => analysis.set(Analysis::Failed(client::js_text(&e))),
        }
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            open_file(file);
        }
        input.set_value("");
    };
    let dragging = RwSignal::new(false);
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(file) = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|f| f.get(0))
        {
            open_file(file);
        }
    };

    view! {
        <section class="page classifier">
            <h1>"Action classifier"</h1>
            <p class="lede">
                "I3D (Kinetics-400) runs in your browser, on WebGPU or the CPU: nothing leaves your device. "
                "Point your camera at an action, or open a video."
            </p>
            <ModelPanel model=model/>
            <div class="inputs">
                <fieldset class="input-camera">
                    <legend>"Camera"</legend>
                    <button type="button" data-testid="start-camera"
                        on:click=move |_| start_camera((!chosen_camera.get_untracked().is_empty()).then(|| chosen_camera.get_untracked()))>
                        "Start camera"
                    </button>
                    <button type="button" on:click=move |_| stop_everything()
                        disabled=move || source.get() != Source::Camera>"Stop"</button>
                    <Show when=move || { cameras.with(|c| c.len() > 1) }>
                        <label>"Camera "
                            <select data-testid="camera-picker" on:change=move |ev| {
                                let id = event_target_value(&ev);
                                chosen_camera.set(id.clone());
                                start_camera(Some(id));
                            }>
                                {move || cameras.get().into_iter().map(|(id, label)| view! {
                                    <option value=id.clone() selected=move || chosen_camera.get() == id>{label}</option>
                                }).collect_view()}
                            </select>
                        </label>
                    </Show>
                    <label><input type="checkbox" prop:checked=mirror
                        on:change=move |ev| mirror.set(event_target_checked(&ev))/>" Mirror"</label>
                </fieldset>
                <fieldset class="input-file"
                    class:dragging=move || dragging.get()
                    on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
                    on:dragleave=move |_| dragging.set(false)
                    on:drop=on_drop>
                    <legend>"Video file"</legend>
                    <label class="file-button">"Open a video… "
                        <input type="file" accept="video/*,image/gif" data-testid="video-input" on:change=on_pick/>
                    </label>
                    <span class="muted">" or drop one here, or "</span>
                    <button type="button" data-testid="sample"
                        on:click=move |_| analyse(Input::Url { src: SAMPLE_URL.into(), revoke: false }, "cricket.webm (sample)".into())>
                        "try the sample clip"
                    </button>
                </fieldset>
                <fieldset class="settings">
                    <legend>"Settings"</legend>
                    <label>"Window "
                        <select data-testid="window-length" on:change=move |ev| {
                            if let Ok(n) = event_target_value(&ev).parse() { window_len.set(n) }
                        }>
                            {protocol::WINDOW_LENGTHS.iter().map(|&n| view! {
                                <option value=n.to_string() selected=move || window_len.get() == n>
                                    {format!("{n} frames ({:.2} s)", n as f64 / video::FPS)}
                                </option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label><input type="checkbox" prop:checked=smoothing
                        on:change=move |ev| smoothing.set(event_target_checked(&ev))/>
                        {format!(" Smooth over {SMOOTHING_WINDOWS} windows")}</label>
                    <label><input type="checkbox" data-testid="cam-toggle" prop:checked=show_cam
                        on:change=move |ev| show_cam.set(event_target_checked(&ev))/>" Activation map"</label>
                </fieldset>
            </div>
            {move || camera_error.get().map(|(code, message)| view! {
                <p class="error" role="alert" data-testid="camera-error" data-code=code>{message}</p>
            })}
            {move || notice.get().map(|message| view! { <p class="notice" role="status">{message}</p> })}
            <div class="stage" class:mirrored=move || mirror.get() && source.get() == Source::Camera
                class:empty=move || source.get() == Source::None>
                <video node_ref=video_ref playsinline=true muted=true data-testid="video"></video>
                <canvas node_ref=overlay_ref class="cam-overlay" aria-hidden="true"></canvas>
            </div>
            <Show when=move || source.get() == Source::Camera>
                <section class="live" aria-labelledby="live-heading">
                    <h2 id="live-heading">"Live prediction"</h2>
                    {move || match live.get() {
                        None => view! { <p class="muted" data-testid="live-waiting">"Collecting the first window of frames…"</p> }.into_any(),
                        Some(l) => {
                            let summary = l.top.first().map(|t| format!("Most likely: {}, {:.0}%", t.label, t.prob * 100.0)).unwrap_or_default();
                            view! {
                                <RankedList items=l.top.clone() testid="predictions"/>
                                <p class="sr-only" aria-live="polite">{summary}</p>
                                <p class="muted" data-testid="live-stats">
                                    {format!("{} frames per window, {:.0} ms per window ({:.1} frames/s through the model), ",
                                        l.frames, l.latency_ms, l.frames as f64 * 1000.0 / l.latency_ms.max(1.0))}
                                    // Its own reactive text: the list above must not be rebuilt at every frame.
                                    {move || format!("capture {:.0} fps", capture_fps.get())}
                                </p>
                            }.into_any()
                        }
                    }}
                </section>
            </Show>
            <VideoResults analysis=analysis rows=rows/>
        </section>
    }
}

/// Progress, backend and the weights cache.
#[component]
fn ModelPanel(model: Model) -> impl IntoView {
    let storage = RwSignal::new(None::<String>);
    let refresh_storage = move || {
        spawn_local(async move {
            storage.set(storage_summary().await);
        });
    };
    // Ask once for persistent storage, so the browser does not evict the model under pressure.
    spawn_local(async move {
        request_persistence().await;
        storage.set(storage_summary().await);
    });
    Effect::new(move || {
        if let ModelStatus::Ready(_) = model.status.get() {
            refresh_storage();
        }
    });
    let remove = move |_| {
        spawn_local(async move {
            let removed = remove_cached_model().await;
            storage.set(Some(match removed {
                Ok(true) => "Cached model removed: the next visit downloads it again.".to_owned(),
                Ok(false) => "No cached model to remove.".to_owned(),
                Err(e) => format!("Could not remove the cached model: {e}"),
            }));
        });
    };
    let status = move || {
        match model.status.get() {
        ModelStatus::Idle | ModelStatus::Starting => {
            view! { <p data-testid="model-status">"Starting the classifier…"</p> }.into_any()
        }
        ModelStatus::Loading { loaded, total, from_cache } => view! {
            <p data-testid="model-status">
                {if from_cache { "Reading the model from this device's cache: " } else { "Downloading the model: " }}
                {format!("{} of {}", megabytes(loaded as f64), megabytes(total as f64))}
            </p>
            <progress data-testid="model-progress" max=total.to_string() value=loaded.to_string()></progress>
        }
        .into_any(),
        ModelStatus::WarmingUp { backend } => view! {
            <p data-testid="model-status">{format!("Warming up on {}…", backend_label(&backend))}</p>
        }
        .into_any(),
        ModelStatus::Ready(r) => view! {
            <p data-testid="model-status" data-backend=r.backend.clone()>
                "Ready on " <strong data-testid="backend">{backend_label(&r.backend)}</strong>
                {format!(" ({}), because {}.", r.precision, r.reason)}
            </p>
            <p class="muted">{format!("Loaded in {:.1} s{}, warm-up pass (16 frames) {:.0} ms.",
                r.load_ms / 1000.0, if r.from_cache { " from the cache" } else { "" }, r.warmup_ms)}</p>
        }
        .into_any(),
        ModelStatus::Failed(message) => view! {
            <p class="error" role="alert" data-testid="model-error">{message}</p>
        }
        .into_any(),
    }
    };
    view! {
        <section class="model-panel" aria-label="Model">
            {status}
            <p class="muted storage">
                <span data-testid="storage">{move || storage.get().unwrap_or_default()}</span>
                " "
                <button type="button" class="link" data-testid="remove-model" on:click=remove>"Remove cached model"</button>
            </p>
        </section>
    }
}

fn backend_label(backend: &str) -> &'static str {
    match backend {
        "webgpu" => "WebGPU",
        _ => "the CPU (WebAssembly)",
    }
}

/// The video's progress, timeline, overall top five and export.
#[component]
fn VideoResults(analysis: RwSignal<Analysis>, rows: RwSignal<Vec<WindowRow>>) -> impl IntoView {
    let export = move |json: bool| {
        let rows = rows.get_untracked();
        let name = match analysis.get_untracked() {
            Analysis::Done { name, .. } | Analysis::Running { name, .. } => name,
            _ => "video".into(),
        };
        let stem = name
            .rsplit_once('.')
            .map_or(name.as_str(), |(s, _)| s)
            .to_owned();
        let done = if json {
            output::to_json(&name, rows.first().map_or(0, |r| r.frames), &rows).and_then(|text| {
                output::download(
                    &format!("{stem}-predictions.json"),
                    "application/json",
                    &text,
                )
            })
        } else {
            output::to_csv(&rows).and_then(|text| {
                output::download(&format!("{stem}-predictions.csv"), "text/csv", &text)
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
        Analysis::Done { name, duration } => {
            let all = rows.get();
            let overall = rank(&output::mean(&all.iter().map(|r| r.probs.clone()).collect::<Vec<_>>()), 5);
            view! {
                <section class="video-results">
                    <h2>{format!("{name}: {} windows of {} frames", all.len(), all.first().map_or(0, |r| r.frames))}</h2>
                    <h3>"Whole video"</h3>
                    <RankedList items=overall.clone() testid="overall"/>
                    <h3>"Timeline"</h3>
                    <Timeline rows=all classes=overall duration=duration/>
                    <p>
                        <button type="button" data-testid="export-csv" on:click=move |_| export(false)>"Download CSV"</button>
                        " "
                        <button type="button" data-testid="export-json" on:click=move |_| export(true)>"Download JSON"</button>
                    </p>
                </section>
            }
            .into_any()
        }
    }
    }
}

async fn request_persistence() {
    let Some(storage) = web_sys::window().map(|w| w.navigator().storage()) else {
        return;
    };
    if let Ok(promise) = storage.persist() {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
}

async fn storage_summary() -> Option<String> {
    let storage = web_sys::window()?.navigator().storage();
    let estimate = wasm_bindgen_futures::JsFuture::from(storage.estimate().ok()?)
        .await
        .ok()?;
    let get = |key: &str| {
        js_sys::Reflect::get(&estimate, &key.into())
            .ok()
            .and_then(|v| v.as_f64())
    };
    let persisted = match storage.persisted() {
        Ok(p) => wasm_bindgen_futures::JsFuture::from(p)
            .await
            .ok()
            .and_then(|v| v.as_bool()),
        Err(_) => None,
    };
    Some(format!(
        "Storage used by this site: {} of {}{}.",
        megabytes(get("usage")?),
        megabytes(get("quota")?),
        if persisted == Some(true) {
            ", persistent"
        } else {
            ""
        }
    ))
}

async fn remove_cached_model() -> Result<bool, String> {
    let caches = web_sys::window()
        .ok_or("no window")?
        .caches()
        .map_err(|e| client::js_text(&e))?;
    let deleted = wasm_bindgen_futures::JsFuture::from(caches.delete(protocol::MODEL_CACHE))
        .await
        .map_err(|e| client::js_text(&e))?;
    Ok(deleted.as_bool().unwrap_or(false))
}
