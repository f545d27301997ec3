//! Starting the worker: the build the [`WorkerPlan`] names, its start-up time limits, the threaded build's
//! hand-over to the single-threaded one ([`BootFailure`]), the protocol version check, and the worker's
//! messages read into the model's [`Status`] and the replies owed.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use protocol::{FromWorker, ToWorker, PROTOCOL_VERSION};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{ErrorEvent, Event, MessageEvent, Worker};

use super::address::ModelRequest;
use super::plan::WorkerPlan;
use super::status::{ModelStatus, Status};
use super::transport::{post, ModelClient, Shared, WindowResult};

/// How long the worker may take to start its WASM, ms.
const BOOT_TIMEOUT_MS: u32 = 60_000;

/// How long the threaded build may take to start its WASM before the single-threaded build is started
/// instead, ms: its module (about 4 MB) downloads and compiles in a few seconds on a slow connection.
const THREADED_BOOT_TIMEOUT_MS: u32 = 20_000;

/// How long the threaded build may take, once it has booted and been asked to load, to start its pool of
/// threads and say anything more (the download's progress, or why it cannot start), ms. The worker has its own
/// limit of 10 s for its threads; the page's catches a worker that stops answering at all, which Firefox's
/// threaded worker does now and then (about one visit in twenty here, its own timers stopped too): it is then
/// started once more ([`StartFailure::silent`]).
const THREADS_START_TIMEOUT_MS: u32 = 15_000;

/// The weights manifest, put into the site by its build.
pub use protocol::site::MODEL_MANIFEST as MANIFEST_URL;

/// The message shown when the worker speaks another protocol version than this page.
pub fn version_mismatch(worker_version: u32) -> String {
    format!(
        "A new version of Kinetiscope was deployed while this page was open (page protocol v{PROTOCOL_VERSION}, \
         classifier v{worker_version}). Reload the page to use the new version."
    )
}

/// Called (once, later, outside the worker's callbacks) with the reason when the threaded build
/// fails before its model is ready, so that the single-threaded one (or the threaded one again) can be started.
pub type BootFailure = Rc<dyn Fn(StartFailure)>;

/// Why the threaded build did not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartFailure {
    /// In words, for the model panel.
    pub why: String,
    /// It stopped answering rather than failing (see [`THREADS_START_TIMEOUT_MS`]): a new worker may well start.
    pub silent: bool,
}

/// After the threaded build was asked to load: hands over to the single-threaded build when it says nothing
/// within [`THREADS_START_TIMEOUT_MS`].
fn watch_threads_start(
    shared: Weak<Shared>,
    answered_load: Rc<Cell<bool>>,
    start_failed: impl Fn(String, bool) -> bool + 'static,
) {
    gloo_timers::callback::Timeout::new(THREADS_START_TIMEOUT_MS, move || {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if answered_load.get() || shared.closed.get() {
            return;
        }
        start_failed(
            format!(
                "it did not answer within {} s of being asked to load",
                THREADS_START_TIMEOUT_MS / 1000
            ),
            true,
        );
    })
    .forget();
}

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
            move |why: String, silent: bool| -> bool {
                let Some(fallback) = on_boot_failure.clone().filter(|_| !shared.ready.get()) else {
                    return false;
                };
                shared.close(&why);
                gloo_timers::callback::Timeout::new(0, move || {
                    fallback(StartFailure { why, silent })
                })
                .forget();
                true
            }
        };
        let single_because = plan.single_because.clone();
        let threads = plan.threads;
        let threaded = plan.threaded();
        // Whether the worker said anything after it was asked to load (see THREADS_START_TIMEOUT_MS).
        let answered_load = Rc::new(Cell::new(false));
        let on_message = {
            let worker = worker.clone();
            let shared = shared.clone();
            let start_failed = start_failed.clone();
            let answered_load = answered_load.clone();
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
                if !matches!(message, FromWorker::Booted { .. }) {
                    answered_load.set(true);
                }
                // Answers to `ask`: handed over whole.
                if let FromWorker::Inspected { id, .. }
                | FromWorker::LayerTimes { id, .. }
                | FromWorker::Filters { id, .. }
                | FromWorker::Trained { id, .. }
                | FromWorker::Nearest { id, .. } = &message
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
                        } else if threaded {
                            watch_threads_start(
                                Rc::downgrade(&shared),
                                answered_load.clone(),
                                start_failed.clone(),
                            );
                        }
                    }
                    FromWorker::Progress(progress) => status.set(ModelStatus::Loading(progress)),
                    FromWorker::WarmingUp { backend } => {
                        status.set(ModelStatus::WarmingUp { backend })
                    }
                    FromWorker::Ready(mut ready) => {
                        shared.ready.set(true);
                        if let Some(why) = &single_because {
                            // The worker's own note stays, in brackets: it names the build's SIMD.
                            ready.threads.note =
                                format!("one thread: {why} ({})", ready.threads.note);
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
                        feature,
                        custom,
                    } => shared.settle(
                        id,
                        Ok(WindowResult {
                            frames,
                            probs,
                            latency_ms,
                            model_ms,
                            cam,
                            feature,
                            custom,
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
                    | FromWorker::Filters { .. }
                    | FromWorker::Trained { .. }
                    | FromWorker::Nearest { .. } => {}
                    // The page sends no `Run` (checks and benchmarks talk to the worker directly).
                    FromWorker::Logits { id, .. } => shared.settle(
                        id,
                        Err(
                            "the classifier answered with logits, which this page did not ask for"
                                .into(),
                        ),
                    ),
                    FromWorker::Unstartable { message } => {
                        if !start_failed(message.clone(), false) {
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
                if start_failed(what.clone(), false) {
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
            if !start_failed(message.clone(), false) {
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
}
