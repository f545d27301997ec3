//! The model, from the page's side: a [`ModelClient`] owns the classifier Web Worker, turns its
//! messages into the model's [`Status`] and answers [`ModelClient::classify`] calls.
//!
//! Nothing here polls: a task that needs the model loaded awaits [`Status::settled`], one that must
//! not queue behind another window awaits [`ModelClient::idle`]. Both are built on `futures-channel`
//! oneshots kept in a waiter list and fired when the state they wait for is reached.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use futures_channel::oneshot;
use js_sys::{Array, ArrayBuffer, Object, Reflect};
use leptos::prelude::*;
use protocol::{
    ActivationMap, Backend, BackendChoice, FromWorker, ModelReady, PrecisionChoice, ToWorker,
    PROTOCOL_VERSION,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{ErrorEvent, Event, MessageEvent, Worker};

/// Where trunk writes the single-threaded worker's loader (`data-loader-shim` in index.html).
/// Absolute: the page may be at `/classify` or deeper.
const WORKER_URL: &str = "/worker_loader.js";
/// The threaded build of the worker (`+atomics`, shared memory; built by `cargo xtask`, see
/// `xtask/src/site.rs`), with its loader and the script of its pool's threads (`www/worker-mt/`).
const THREADED_WORKER_URL: &str = "/worker-mt/loader.js";
/// Threads asked for by default: the logical cores the browser reports, at most this many (past
/// it, a layer's chunks are too few to keep more threads busy, and each costs a Web Worker).
pub const DEFAULT_MAX_THREADS: u32 = 8;
/// The most threads `?threads=` may ask for.
pub const MAX_THREADS: u32 = 16;
/// The weights manifest, copied into the site by `cargo xtask` (see `xtask/src/site.rs`).
pub const MANIFEST_URL: &str = "/model/i3d-kinetics-400.json";

/// How long the worker may take to start its WASM, ms.
const BOOT_TIMEOUT_MS: u32 = 60_000;

/// How long the threaded build may take to start its WASM before the single-threaded build is started
/// instead, ms: its module (about 4 MB) downloads and compiles in a few seconds on a slow connection.
const THREADED_BOOT_TIMEOUT_MS: u32 = 20_000;

/// How long a window may take before the worker is taken for hung, ms: twenty times what the
/// warm-up (16 frames) predicts for `frames` frames, and at least a minute.
pub fn request_timeout_ms(warmup_ms: f64, frames: usize) -> u32 {
    let expected = warmup_ms.max(0.0) / 16.0 * frames as f64;
    (20.0 * expected).clamp(60_000.0, 3_600_000.0) as u32
}

/// The model as the page shows it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ModelStatus {
    /// Nothing started yet.
    #[default]
    Idle,
    /// The worker is starting.
    Starting,
    /// Weights arriving.
    Loading {
        /// Bytes so far.
        loaded: u64,
        /// Bytes in all.
        total: u64,
        /// From the Cache API rather than the network.
        from_cache: bool,
    },
    /// Weights in, warm-up pass running.
    WarmingUp {
        /// Where the warm-up runs.
        backend: Backend,
    },
    /// Ready to classify.
    Ready(ModelReady),
    /// Loading failed, or the worker stopped; the message says what to do.
    Failed(String),
}

impl ModelStatus {
    /// Whether the status is final for this worker: ready or failed (a ready model may still fall
    /// back to the CPU and say `Ready` again, but it stays usable meanwhile).
    fn is_settled(&self) -> bool {
        matches!(self, ModelStatus::Ready(_) | ModelStatus::Failed(_))
    }
}

/// The model's status: a signal the page renders, plus the tasks waiting for it to settle.
///
/// `Copy`, and owned by the app rather than the page, so that tasks still running after the visitor
/// left can read and set it.
#[derive(Clone, Copy)]
pub struct Status {
    signal: RwSignal<ModelStatus>,
    /// Fired (and emptied) whenever the status becomes `Ready` or `Failed`.
    settled: StoredValue<Vec<oneshot::Sender<()>>, LocalStorage>,
}

impl Status {
    /// `Idle`, nobody waiting.
    pub fn new() -> Self {
        Self {
            signal: RwSignal::new(ModelStatus::Idle),
            settled: StoredValue::new_local(Vec::new()),
        }
    }

    /// The status, tracked (re-runs the reactive scope reading it when it changes).
    pub fn get(&self) -> ModelStatus {
        self.signal.get()
    }

    /// The status, untracked.
    pub fn get_untracked(&self) -> ModelStatus {
        self.signal.get_untracked()
    }

    /// Sets the status; on `Ready` or `Failed`, wakes every task awaiting [`Self::settled`].
    pub fn set(&self, status: ModelStatus) {
        let settled = status.is_settled();
        self.signal.set(status);
        if settled {
            for waiter in self
                .settled
                .try_update_value(std::mem::take)
                .unwrap_or_default()
            {
                let _ = waiter.send(());
            }
        }
    }

    /// Resolves once the model is ready (its description) or failed (the message). Returns at once
    /// when it already is either.
    pub async fn settled(&self) -> Result<ModelReady, String> {
        loop {
            match self.get_untracked() {
                ModelStatus::Ready(ready) => return Ok(ready),
                ModelStatus::Failed(message) => return Err(message),
                _ => {}
            }
            let (waiter, settled) = oneshot::channel();
            self.settled.update_value(|w| w.push(waiter));
            // Cancelled only if the app (which owns the waiter list) went away.
            if settled.await.is_err() {
                return Err("the classifier went away; reload the page".into());
            }
        }
    }
}

impl Default for Status {
    fn default() -> Self {
        Self::new()
    }
}

/// The answer for one window.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowResult {
    /// Frames in the window.
    pub frames: usize,
    /// All 400 probabilities in 0..1, model label order (ranked by the caller).
    pub probs: Vec<f32>,
    /// Preprocessing and inference, ms.
    pub latency_ms: f64,
    /// The network alone, ms.
    pub model_ms: f64,
    /// The class activation map, when asked.
    pub cam: Option<ActivationMap>,
}

type Reply = oneshot::Sender<Result<WindowResult, String>>;

/// The reply owed to a request other than a window ([`ModelClient::ask`]): the worker's answer.
type OtherReply = oneshot::Sender<Result<FromWorker, String>>;

/// What the worker's callbacks and the client share: the worker, the requests in flight and who waits for
/// none.
struct Shared {
    /// The worker, terminated when closed.
    worker: Worker,
    /// Replies owed, by request id.
    pending: RefCell<HashMap<u32, Reply>>,
    /// Replies owed to [`ModelClient::ask`], by request id.
    others: RefCell<HashMap<u32, OtherReply>>,
    /// The next request's id.
    next_id: Cell<u32>,
    /// Fired (and emptied) whenever `pending` becomes empty.
    idle: RefCell<Vec<oneshot::Sender<()>>>,
    /// The worker said `Booted`.
    booted: Cell<bool>,
    /// The worker said `Ready` (its model loaded): from then on a failure is the model's, not the build's.
    ready: Cell<bool>,
    /// The worker is stopped or unusable: nothing more is sent to it, and every reply is settled.
    closed: Cell<bool>,
}

impl Shared {
    /// Settles request `id` (if still owed) and wakes the idle waiters when none is left.
    fn settle(&self, id: u32, result: Result<WindowResult, String>) {
        let reply = self.pending.borrow_mut().remove(&id);
        if let Some(reply) = reply {
            let _ = reply.send(result);
        }
        self.wake_if_idle();
    }

    /// Settles request `id` of [`ModelClient::ask`]; false when none such is owed.
    fn settle_other(&self, id: u32, result: Result<FromWorker, String>) -> bool {
        let reply = self.others.borrow_mut().remove(&id);
        let owed = reply.is_some();
        if let Some(reply) = reply {
            let _ = reply.send(result);
        }
        self.wake_if_idle();
        owed
    }

    fn wake_if_idle(&self) {
        if !self.pending.borrow().is_empty() || !self.others.borrow().is_empty() {
            return;
        }
        let waiters = std::mem::take(&mut *self.idle.borrow_mut());
        for waiter in waiters {
            let _ = waiter.send(());
        }
    }

    /// Terminates the worker (with its model, and the threaded build's pool and shared memory) and settles
    /// every request in flight with `message`, or their callers would wait forever. A closed worker gets
    /// nothing more, and nothing it might still send is read.
    fn close(&self, message: &str) {
        if self.closed.replace(true) {
            return;
        }
        self.worker.terminate();
        // Events the worker queued before it was terminated may still be dispatched; its handlers go now, before
        // the client (which owns their closures) may be dropped, or they would call a dropped closure.
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.settle_all(message);
    }

    /// Gives up on the worker after a request (`what`) went unanswered for `limit_ms`: stops it and says so.
    fn give_up(&self, status: Status, what: &str, limit_ms: u32) {
        let message = format!(
            "the classifier did not answer {what} within {} s and was stopped. Press “Try again” to restart it, or pick a shorter window in the settings.",
            limit_ms / 1000
        );
        self.close(&message);
        status.set(ModelStatus::Failed(message));
    }

    /// Settles every window in flight with `message` (an error the worker could not tie to one).
    fn settle_all(&self, message: &str) {
        let owed: Vec<Reply> = self.pending.borrow_mut().drain().map(|(_, r)| r).collect();
        for reply in owed {
            let _ = reply.send(Err(message.to_owned()));
        }
        let others: Vec<OtherReply> = self.others.borrow_mut().drain().map(|(_, r)| r).collect();
        for reply in others {
            let _ = reply.send(Err(message.to_owned()));
        }
        self.wake_if_idle();
    }
}

/// The worker and the requests in flight.
pub struct ModelClient {
    shared: Rc<Shared>,
    status: Status,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl Drop for ModelClient {
    fn drop(&mut self) {
        self.stop();
    }
}

fn post(worker: &Worker, message: &ToWorker, frames: &[ArrayBuffer]) -> Result<(), String> {
    let value = serde_wasm_bindgen::to_value(message).map_err(|e| e.to_string())?;
    let envelope = Object::new();
    let list: Array = frames.iter().collect();
    Reflect::set(&envelope, &"message".into(), &value).map_err(|e| format!("{e:?}"))?;
    Reflect::set(&envelope, &"frames".into(), &list).map_err(|e| format!("{e:?}"))?;
    // The frame buffers are transferred (moved), not copied.
    worker
        .post_message_with_transfer(&envelope, &list)
        .map_err(|e| format!("could not send to the worker: {e:?}"))
}

/// The message shown when the worker speaks another protocol version than this page.
pub fn version_mismatch(worker_version: u32) -> String {
    format!(
        "A new version of Kinetiscope was deployed while this page was open (page protocol v{PROTOCOL_VERSION}, \
         classifier v{worker_version}). Reload the page to use the new version."
    )
}

/// Which build of the worker to start and with how many threads, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerPlan {
    /// The worker's script.
    pub script: &'static str,
    /// Threads to ask the worker for.
    pub threads: u32,
    /// Why the single-threaded build, when it is the one (shown in the model panel).
    pub single_because: Option<String>,
}

impl WorkerPlan {
    /// The plan for a page that is (or not) cross-origin `isolated`, in a browser that has (or not)
    /// `shared_memory` (`SharedArrayBuffer`), reporting `cores` logical cores, with `requested`
    /// threads from the address (`?threads=`).
    pub fn new(isolated: bool, shared_memory: bool, cores: u32, requested: Option<u32>) -> Self {
        let single = |why: &str| WorkerPlan {
            script: WORKER_URL,
            threads: 1,
            single_because: Some(why.to_owned()),
        };
        if requested == Some(1) {
            return single("one thread was asked for (?threads=1)");
        }
        if !isolated {
            return single(
                "the page is not cross-origin isolated, so WebAssembly threads are off (the host must send \
                 Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: credentialless)",
            );
        }
        if !shared_memory {
            return single("this browser has no SharedArrayBuffer, so WebAssembly threads are off");
        }
        let threads = requested.unwrap_or_else(|| cores.clamp(1, DEFAULT_MAX_THREADS));
        WorkerPlan {
            script: THREADED_WORKER_URL,
            threads: threads.clamp(1, MAX_THREADS),
            single_because: None,
        }
    }

    /// The plan for this browser and page.
    pub fn for_this_page(requested: Option<u32>) -> Self {
        use crate::capabilities::{cross_origin_isolated, hardware_concurrency};
        let shared_memory =
            Reflect::has(&js_sys::global(), &"SharedArrayBuffer".into()).unwrap_or(false);
        Self::new(
            cross_origin_isolated(),
            shared_memory,
            hardware_concurrency(),
            requested,
        )
    }

    /// The single-threaded build, after the threaded one failed to start for `why`.
    pub fn single_after(why: &str) -> Self {
        WorkerPlan {
            script: WORKER_URL,
            threads: 1,
            single_because: Some(format!("the threaded build could not start ({why})")),
        }
    }

    /// Whether this is the threaded build.
    pub fn threaded(&self) -> bool {
        self.script == THREADED_WORKER_URL
    }
}

/// Called (once, later, outside the worker's callbacks) with the reason when the threaded build
/// fails before it booted, so that the single-threaded one can be started instead.
pub type BootFailure = Rc<dyn Fn(String)>;

impl ModelClient {
    /// Starts the worker and has it load the model on `backend` in `precision`; progress and the
    /// outcome go to `status`. A worker that announces another [`PROTOCOL_VERSION`] is stopped at
    /// once and `status` asks the visitor to reload the page.
    pub fn start(
        request: ModelRequest,
        plan: WorkerPlan,
        status: Status,
        on_boot_failure: Option<BootFailure>,
    ) -> Result<Self, String> {
        let ModelRequest {
            backend, precision, ..
        } = request;
        let worker = Worker::new(plan.script).map_err(|e| {
            format!("the classifier worker could not start ({e:?}); reload the page")
        })?;
        status.set(ModelStatus::Starting);
        let shared = Rc::new(Shared {
            worker: worker.clone(),
            next_id: Cell::new(1),
            pending: RefCell::default(),
            others: RefCell::default(),
            idle: RefCell::default(),
            booted: Cell::new(false),
            ready: Cell::new(false),
            closed: Cell::new(false),
        });
        // A threaded build that cannot start (its module or its pool of threads fails, or it stops, before its
        // model is ready) hands over to the single-threaded one. Returns whether it did.
        let start_failed = {
            let shared = shared.clone();
            move |message: String| -> bool {
                let Some(fallback) = on_boot_failure.clone().filter(|_| !shared.ready.get()) else {
                    return false;
                };
                shared.close(&message);
                gloo_timers::callback::Timeout::new(0, move || fallback(message)).forget();
                true
            }
        };
        let single_because = plan.single_because.clone();
        let threads = plan.threads;
        let on_message = {
            let worker = worker.clone();
            let shared = shared.clone();
            let start_failed = start_failed.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                if shared.closed.get() {
                    return;
                }
                let data = event.data();
                let message = match serde_wasm_bindgen::from_value::<FromWorker>(data.clone()) {
                    Ok(message) => message,
                    // A worker of an older protocol (a cached one beside a new page) announces itself in
                    // the old shape: a version mismatch, reported below.
                    Err(e) => match serde_wasm_bindgen::from_value::<protocol::LegacyBoot>(data)
                        .ok()
                        .and_then(|old| old.version())
                    {
                        Some(version) => FromWorker::Booted { version },
                        None => {
                            web_sys::console::error_1(
                                &format!("unknown worker message: {e}").into(),
                            );
                            return;
                        }
                    },
                };
                // Answers to `ask`: handed over whole.
                if let FromWorker::Inspected { id, .. }
                | FromWorker::LayerTimes { id, .. }
                | FromWorker::Filters { id, .. } = &message
                {
                    let id = *id;
                    shared.settle_other(id, Ok(message));
                    return;
                }
                match message {
                    FromWorker::Booted { version } if version != PROTOCOL_VERSION => {
                        shared.booted.set(true);
                        let message = version_mismatch(version);
                        shared.close(&message);
                        status.set(ModelStatus::Failed(message));
                    }
                    FromWorker::Booted { .. } => {
                        shared.booted.set(true);
                        let load = ToWorker::Load {
                            backend,
                            precision,
                            manifest_url: MANIFEST_URL.into(),
                            threads,
                        };
                        if let Err(e) = post(&worker, &load, &[]) {
                            status.set(ModelStatus::Failed(e));
                        }
                    }
                    FromWorker::Progress {
                        loaded,
                        total,
                        from_cache,
                    } => status.set(ModelStatus::Loading {
                        loaded,
                        total,
                        from_cache,
                    }),
                    FromWorker::WarmingUp { backend } => {
                        status.set(ModelStatus::WarmingUp { backend })
                    }
                    FromWorker::Ready(mut ready) => {
                        shared.ready.set(true);
                        if let Some(why) = &single_because {
                            ready.threads.note = format!("one thread: {why}");
                        }
                        status.set(ModelStatus::Ready(ready))
                    }
                    FromWorker::Classified {
                        id,
                        frames,
                        probs,
                        latency_ms,
                        model_ms,
                        cam,
                    } => shared.settle(
                        id,
                        Ok(WindowResult {
                            frames,
                            probs,
                            latency_ms,
                            model_ms,
                            cam,
                        }),
                    ),
                    FromWorker::Failed {
                        id: Some(id),
                        message,
                    } => {
                        if !shared.settle_other(id, Err(message.clone())) {
                            shared.settle(id, Err(message));
                        }
                    }
                    // Handled above.
                    FromWorker::Inspected { .. }
                    | FromWorker::LayerTimes { .. }
                    | FromWorker::Filters { .. } => {}
                    // The page sends no `Run` (checks and benchmarks talk to the worker directly).
                    FromWorker::Logits { id, .. } => shared.settle(
                        id,
                        Err(
                            "the classifier answered with logits, which this page did not ask for"
                                .into(),
                        ),
                    ),
                    FromWorker::Unstartable { message } => {
                        if !start_failed(message.clone()) {
                            shared.close(&message);
                            status.set(ModelStatus::Failed(message))
                        }
                    }
                    FromWorker::Failed { id: None, message } => {
                        // An error tied to no window still ends the windows in flight.
                        shared.settle_all(&message);
                        status.set(ModelStatus::Failed(message))
                    }
                }
            })
        };
        let on_error = {
            let shared = shared.clone();
            let start_failed = start_failed.clone();
            // An `ErrorEvent` for an uncaught error in the worker; a plain `Event` when its script could not be
            // loaded at all (a 404).
            Closure::<dyn FnMut(Event)>::new(move |event: Event| {
                if shared.closed.get() {
                    return;
                }
                let what = match event.dyn_ref::<ErrorEvent>() {
                    Some(error) => error.message(),
                    None => "its script could not be loaded".to_owned(),
                };
                if start_failed(what.clone()) {
                    return;
                }
                let message = format!(
                    "the classifier worker stopped: {what}. Press “Try again” to restart it."
                );
                shared.close(&message);
                status.set(ModelStatus::Failed(message));
            })
        };
        // A worker whose WASM fails to load may never say `Booted`, and no error event reach the page: the
        // threaded build then hands over to the single-threaded one, which is given longer.
        // Weak: a client replaced meanwhile (another backend) is not this timeout's business.
        let watched: Weak<Shared> = Rc::downgrade(&shared);
        let limit = if plan.threaded() {
            THREADED_BOOT_TIMEOUT_MS
        } else {
            BOOT_TIMEOUT_MS
        };
        gloo_timers::callback::Timeout::new(limit, move || {
            let Some(shared) = watched.upgrade() else {
                return;
            };
            if shared.booted.get() || shared.closed.get() {
                return;
            }
            let message = format!(
                "the classifier worker did not start within {} s",
                limit / 1000
            );
            if !start_failed(message.clone()) {
                shared.close(&message);
                status.set(ModelStatus::Failed(format!(
                    "{message}. Press “Try again”, or reload the page."
                )));
            }
        })
        .forget();
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Self {
            shared,
            status,
            _on_message: on_message,
            _on_error: on_error,
        })
    }

    /// Terminates the worker: its windows in flight fail, and nothing it might still have sent
    /// reaches the model's status. Also done when the client is dropped.
    pub fn stop(&self) {
        self.shared
            .close("the classifier was restarted; the window was not classified");
    }

    /// A new request id.
    fn next_id(&self) -> u32 {
        let id = self.shared.next_id.get();
        self.shared.next_id.set(id.wrapping_add(1));
        id
    }

    /// Stops the worker if request `id` (a `what`: a window, a question) over `frames` frames is still owed
    /// after [`request_timeout_ms`] (with this model's warm-up time): a worker that never answers (hung, or a
    /// device far slower than its warm-up said) is stopped, and every request in flight settled, rather than
    /// leaving the page busy forever.
    fn watch(&self, id: u32, frames: usize, what: &'static str) {
        let warmup_ms = match self.status.get_untracked() {
            ModelStatus::Ready(ready) => ready.warmup_ms,
            _ => 0.0,
        };
        let limit = request_timeout_ms(warmup_ms, frames);
        let watched = Rc::downgrade(&self.shared);
        let status = self.status;
        gloo_timers::callback::Timeout::new(limit, move || {
            let Some(shared) = watched.upgrade() else {
                return;
            };
            let owed = shared.pending.borrow().contains_key(&id)
                || shared.others.borrow().contains_key(&id);
            if owed && !shared.closed.get() {
                shared.give_up(status, what, limit);
            }
        })
        .forget();
    }

    /// Whether a window is being classified (new camera windows are then dropped, not queued).
    pub fn busy(&self) -> bool {
        !self.shared.pending.borrow().is_empty() || !self.shared.others.borrow().is_empty()
    }

    /// Resolves once no window is in the worker (at once if none is, or if the worker stopped).
    pub async fn idle(&self) {
        while self.busy() && !self.shared.closed.get() {
            let (waiter, idle) = oneshot::channel();
            self.shared.idle.borrow_mut().push(waiter);
            // Cancelled only when the client is dropped, which settles every request first.
            let _ = idle.await;
        }
    }

    /// Sends a request that is not a window (`make` builds it from its id: an inspection, a timing,
    /// the filters) once the worker is idle, and returns the worker's answer (a `Failed` answer
    /// becomes `Err`). A worker that does not answer within [`request_timeout_ms`] for a window of the
    /// longest length offered (each such request runs the network at most once on the last window,
    /// layer by layer for a timing) is stopped, like a hung window.
    pub async fn ask(&self, make: impl FnOnce(u32) -> ToWorker) -> Result<FromWorker, String> {
        // The worker runs one request at a time: a window still in it would make this one fail.
        self.idle().await;
        if self.shared.closed.get() {
            return Err(
                "the classifier worker stopped; press “Try again” on /classify to restart it"
                    .into(),
            );
        }
        let id = self.next_id();
        let (reply, answer) = oneshot::channel();
        self.shared.others.borrow_mut().insert(id, reply);
        if let Err(e) = post(&self.shared.worker, &make(id), &[]) {
            self.shared.settle_other(id, Err(e));
        }
        let longest = protocol::WINDOW_LENGTHS.iter().copied().max().unwrap_or(64);
        self.watch(id, longest, "a question from this page");
        answer
            .await
            .map_err(|_| "the classifier worker went away".to_owned())?
    }

    /// Sends one window of RGBA frames (`width`×`height` pixels, 4 bytes each) to the worker now,
    /// moving the buffers, and returns the receiver of its answer: the worker starts at once, so the
    /// caller can prepare the next window before awaiting this one.
    pub fn send(
        &self,
        frames: Vec<ArrayBuffer>,
        width: u32,
        height: u32,
        cam: bool,
    ) -> Result<oneshot::Receiver<Result<WindowResult, String>>, String> {
        if self.shared.closed.get() {
            return Err(
                "the classifier worker stopped; press “Try again” above to restart it".into(),
            );
        }
        let id = self.next_id();
        let (reply, answer) = oneshot::channel();
        self.shared.pending.borrow_mut().insert(id, reply);
        let message = ToWorker::Classify {
            id,
            width,
            height,
            cam,
        };
        let count = frames.len();
        if let Err(e) = post(&self.shared.worker, &message, &frames) {
            self.shared.settle(id, Err(e.clone()));
            return Err(e);
        }
        self.watch(id, count, "a window");
        Ok(answer)
    }

    /// Classifies one window ([`Self::send`], then its answer).
    pub async fn classify(
        &self,
        frames: Vec<ArrayBuffer>,
        width: u32,
        height: u32,
        cam: bool,
    ) -> Result<WindowResult, String> {
        answer_of(self.send(frames, width, height, cam)?).await
    }
}

/// The answer a [`ModelClient::send`] receiver brings.
pub async fn answer_of(
    answer: oneshot::Receiver<Result<WindowResult, String>>,
) -> Result<WindowResult, String> {
    answer
        .await
        .map_err(|_| "the classifier worker went away".to_owned())?
}

/// What the address asks of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelRequest {
    /// `?backend=`.
    pub backend: BackendChoice,
    /// `?precision=`.
    pub precision: PrecisionChoice,
    /// `?threads=`: CPU threads (1..=[`MAX_THREADS`]); `None`: as many as the device has, up to
    /// [`DEFAULT_MAX_THREADS`].
    pub threads: Option<u32>,
}

/// The model the address asks for: `?backend=` (`auto` when absent, `cpu`, `wgpu`, or `webgpu` for
/// `wgpu`), `?precision=` (`auto` when absent, `f32`, `f16`) and `?threads=` (1 to [`MAX_THREADS`]).
/// An unknown value is an error saying which values exist.
pub fn requested_model(
    backend: Option<&str>,
    precision: Option<&str>,
    threads: Option<&str>,
) -> Result<ModelRequest, String> {
    let backend = match backend {
        None | Some("") => BackendChoice::Auto,
        Some(text) => text.parse().map_err(|_| {
            let text = shown(text);
            format!(
                "The address asks for the backend “{text}”, which does not exist: use ?backend=auto, ?backend=cpu or ?backend=wgpu (webgpu also works), or leave it out."
            )
        })?,
    };
    let precision = match precision {
        None | Some("") => PrecisionChoice::Auto,
        Some(text) => text.parse().map_err(|_| {
            let text = shown(text);
            format!(
                "The address asks for the precision “{text}”, which does not exist: use ?precision=auto, ?precision=f32 or ?precision=f16, or leave it out."
            )
        })?,
    };
    let threads = match threads {
        None | Some("") => None,
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=MAX_THREADS).contains(&n) => Some(n),
            _ => {
                let text = shown(text);
                return Err(format!(
                    "The address asks for “{text}” threads: use ?threads= with a number from 1 to {MAX_THREADS}, or leave it out."
                ));
            }
        },
    };
    Ok(ModelRequest {
        backend,
        precision,
        threads,
    })
}

/// The most characters of a value from the address that a message repeats.
const SHOWN_CHARS: usize = 40;

/// `text` from the address as a message repeats it: at most [`SHOWN_CHARS`] characters, then "…" (an address
/// can carry megabytes).
fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// `JsValue` to text for messages.
pub fn js_text(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use protocol::{Backend, Precision};

    fn request(backend: BackendChoice, precision: PrecisionChoice) -> ModelRequest {
        ModelRequest {
            backend,
            precision,
            threads: None,
        }
    }

    #[test]
    fn the_address_names_a_backend_a_precision_and_threads() {
        assert_eq!(
            requested_model(None, None, None),
            Ok(request(BackendChoice::Auto, PrecisionChoice::Auto))
        );
        assert_eq!(
            requested_model(Some("webgpu"), Some("f16"), None),
            Ok(request(
                BackendChoice::Only(Backend::Wgpu),
                PrecisionChoice::Only(Precision::F16)
            ))
        );
        assert_eq!(
            requested_model(Some("cpu"), Some("auto"), Some("2")),
            Ok(ModelRequest {
                threads: Some(2),
                ..request(BackendChoice::Only(Backend::Cpu), PrecisionChoice::Auto)
            })
        );
        let err = requested_model(Some("gpu"), None, None).unwrap_err();
        assert!(
            err.contains("“gpu”") && err.contains("?backend=wgpu"),
            "{err}"
        );
        let err = requested_model(None, Some("bf16"), None).unwrap_err();
        assert!(err.contains("?precision=f32"), "{err}");
        for bad in ["0", "17", "two", "-1"] {
            let err = requested_model(None, None, Some(bad)).unwrap_err();
            assert!(err.contains("from 1 to 16"), "{bad}: {err}");
        }
        // A value of any length is repeated in 40 characters at most.
        let long = "é".repeat(100_000);
        for err in [
            requested_model(Some(&long), None, None),
            requested_model(None, Some(&long), None),
            requested_model(None, None, Some(&long)),
        ] {
            let err = err.unwrap_err();
            assert!(err.contains(&format!("“{}…”", "é".repeat(40))), "{err}");
            assert!(
                err.chars().count() < 400,
                "{} characters",
                err.chars().count()
            );
        }
    }

    #[test]
    fn a_window_may_take_twenty_times_its_expected_time_and_at_least_a_minute() {
        // 16 frames in 1 s: a 32-frame window is expected in 2 s.
        assert_eq!(request_timeout_ms(1000.0, 32), 60_000);
        // SwiftShader: 16 frames in 17 s, a 64-frame window in 68 s.
        assert_eq!(request_timeout_ms(17_000.0, 64), 1_360_000);
        // Not warmed up (no figure): a minute.
        assert_eq!(request_timeout_ms(0.0, 64), 60_000);
    }

    #[test]
    fn threads_need_an_isolated_page_and_shared_memory() {
        let plan = WorkerPlan::new(true, true, 4, None);
        assert_eq!((plan.script, plan.threads), (THREADED_WORKER_URL, 4));
        assert!(plan.single_because.is_none() && plan.threaded());
        // Many cores: capped by default, not when asked for.
        assert_eq!(
            WorkerPlan::new(true, true, 64, None).threads,
            DEFAULT_MAX_THREADS
        );
        assert_eq!(WorkerPlan::new(true, true, 2, Some(12)).threads, 12);
        let not_isolated = WorkerPlan::new(false, true, 8, None);
        assert_eq!((not_isolated.script, not_isolated.threads), (WORKER_URL, 1));
        assert!(not_isolated
            .single_because
            .as_deref()
            .is_some_and(|w| w.contains("not cross-origin isolated")));
        let no_shared = WorkerPlan::new(true, false, 8, None);
        assert!(!no_shared.threaded());
        assert!(no_shared
            .single_because
            .unwrap()
            .contains("SharedArrayBuffer"));
        let one = WorkerPlan::new(true, true, 8, Some(1));
        assert!(!one.threaded() && one.single_because.unwrap().contains("?threads=1"));
    }
}
