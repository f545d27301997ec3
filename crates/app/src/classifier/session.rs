//! The page's state, and the one [`CancelToken`] that says whether a task may still touch it.
//!
//! A task (the camera's capture loop, a video's analysis, a camera permission prompt) is given a
//! token when it starts. Starting something else, pressing "Stop", the camera ending, or leaving the
//! page cancels that token; the task checks [`CancelToken::is_cancelled`] after every `await` and
//! before doing anything visible, and ends quietly once it is cancelled.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::rc::Rc;
use std::task::Poll;

use futures_channel::oneshot;

use leptos::prelude::*;
use protocol::ActivationMap;
use web_sys::{HtmlVideoElement, MediaStream};

use super::analysis::Analysis;
use super::camera;
use super::output::{Ranked, WindowRow};

/// Whether the task holding it should stop. Clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Rc<TokenState>);

#[derive(Debug, Default)]
struct TokenState {
    cancelled: Cell<bool>,
    /// Tasks awaiting [`CancelToken::cancelled`].
    waiters: RefCell<Vec<oneshot::Sender<()>>>,
}

impl CancelToken {
    /// Whether the task was cancelled: it must then do nothing visible and end.
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.get()
    }

    /// Cancels every clone of this token and wakes the tasks awaiting it.
    fn cancel(&self) {
        self.0.cancelled.set(true);
        for waiter in self.0.waiters.take() {
            // A waiter that went away no longer needs waking.
            let _ = waiter.send(());
        }
    }

    /// Resolves once the token is cancelled.
    async fn cancelled(&self) {
        if self.is_cancelled() {
            return;
        }
        let (waiter, woken) = oneshot::channel();
        self.0.waiters.borrow_mut().push(waiter);
        // Either outcome (woken, or the sender dropped) means the task is over.
        let _ = woken.await;
    }

    /// Runs `future` to its end, or stops waiting for it when the token is cancelled (`None`).
    pub async fn until_cancelled<F: Future>(&self, future: F) -> Option<F::Output> {
        let mut future = std::pin::pin!(future);
        let mut cancelled = std::pin::pin!(self.cancelled());
        std::future::poll_fn(|cx| {
            if let Poll::Ready(output) = future.as_mut().poll(cx) {
                return Poll::Ready(Some(output));
            }
            if cancelled.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await
    }
}

/// Where the frames come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Nothing shown.
    None,
    /// The webcam, live.
    Camera,
    /// A video file, a GIF or the sample clip, analysed window by window.
    File,
}

/// The live prediction of the camera.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    /// The five most probable classes (of the mean over the smoothing windows), most probable first.
    pub top: Vec<Ranked>,
    /// Preprocessing and inference of the last window, ms.
    pub latency_ms: f64,
    /// Frames in the last window.
    pub frames: usize,
    /// Predictions per second over the last few seconds (windows overlap when the model keeps up).
    pub per_second: f64,
    /// Predictions shown since the camera started.
    pub count: u64,
}

/// The page's state. It is created once by the app, not by the page, so that the tasks the page
/// starts (a window in the worker, a seek, a camera permission prompt) can still touch it after the
/// visitor left: values owned by the page would be disposed, and reading them would panic. Those
/// tasks hold a [`CancelToken`] from [`Session::begin`] and check it before doing anything visible.
#[derive(Clone, Copy)]
pub struct Session {
    /// Frames per window chosen in the settings (25 fps); 0 until the model's default is known.
    pub window_len: RwSignal<usize>,
    /// Average the live prediction over the last windows.
    pub smoothing: RwSignal<bool>,
    /// Draw the activation map over the picture.
    pub show_cam: RwSignal<bool>,
    /// Mirror the camera picture.
    pub mirror: RwSignal<bool>,
    /// What is shown.
    pub source: RwSignal<Source>,
    /// The camera's failure: (code for tests, message for people).
    pub camera_error: RwSignal<Option<(String, String)>>,
    /// The cameras: (device id, label).
    pub cameras: RwSignal<Vec<(String, String)>>,
    /// The device id picked in the camera list; empty for the default camera.
    pub chosen_camera: RwSignal<String>,
    /// The camera's latest prediction.
    pub live: RwSignal<Option<Live>>,
    /// Frames captured per second over the last 2 s.
    pub capture_fps: RwSignal<f64>,
    /// The activation map of the latest window.
    pub cam_map: RwSignal<Option<ActivationMap>>,
    /// What the few-shot head in use (on /train) said of the latest window.
    pub custom: RwSignal<Option<protocol::CustomPrediction>>,
    /// The size (width, height, pixels) of a picture shown without the video element's own (a GIF
    /// as its poster); (0, 0) otherwise.
    pub picture: RwSignal<(u32, u32)>,
    /// The video's analysis.
    pub analysis: RwSignal<Analysis>,
    /// The video's windows so far.
    pub rows: RwSignal<Vec<WindowRow>>,
    /// A passing problem (a frame that could not be read, a window that failed).
    pub notice: RwSignal<Option<String>>,
    /// The running task's token.
    task: StoredValue<CancelToken, LocalStorage>,
    /// The open camera.
    pub stream: StoredValue<Option<MediaStream>, LocalStorage>,
    /// The probabilities of the last windows (400 each), for smoothing.
    pub history: StoredValue<VecDeque<Vec<f32>>>,
    /// The `<video>` showing the camera or the file.
    pub video_ref: NodeRef<leptos::html::Video>,
    /// The canvas over it, for the activation map.
    pub overlay_ref: NodeRef<leptos::html::Canvas>,
    /// The object URL of a GIF shown as the video's poster, revoked when replaced.
    pub poster: StoredValue<Option<String>>,
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
            custom: RwSignal::new(None),
            picture: RwSignal::new((0, 0)),
            analysis: RwSignal::new(Analysis::Idle),
            rows: RwSignal::new(Vec::new()),
            notice: RwSignal::new(None),
            task: StoredValue::new_local(CancelToken::default()),
            stream: StoredValue::new_local(None),
            history: StoredValue::new(VecDeque::new()),
            video_ref: NodeRef::new(),
            overlay_ref: NodeRef::new(),
            poster: StoredValue::new(None),
        }
    }

    /// Stops whatever runs ([`Self::stop`]) and returns the token of the task about to start.
    pub fn begin(&self) -> CancelToken {
        self.stop();
        // A notice belongs to the task that set it.
        self.notice.set(None);
        let token = CancelToken::default();
        self.task.set_value(token.clone());
        token
    }

    /// Cancels the running task, closes the camera, and empties the stage.
    pub fn stop(&self) {
        self.cancel();
        self.picture.set((0, 0));
        if let Some(url) = self.poster.get_value() {
            let _ = web_sys::Url::revoke_object_url(&url);
            self.poster.set_value(None);
        }
        if let Some(video) = self.video_ref.get_untracked() {
            let video: &HtmlVideoElement = &video;
            video.set_poster("");
            video.set_src_object(None);
            let _ = video.pause();
        }
    }

    /// What leaving the page does: cancels the running task and closes the camera, leaving the
    /// (disposed) page's elements alone.
    pub fn cancel(&self) {
        self.task.with_value(CancelToken::cancel);
        // An analysis in progress ends here (its task, cancelled, sets nothing more); the windows
        // classified so far stay in `rows`, exportable.
        if matches!(self.analysis.get_untracked(), Analysis::Running { .. }) {
            self.analysis.update(Analysis::stop);
        }
        if let Some(s) = self.stream.get_value() {
            camera::stop(&s);
        }
        self.stream.set_value(None);
        self.source.set(Source::None);
    }
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}
