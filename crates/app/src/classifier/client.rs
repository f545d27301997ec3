//! The model, from the page's side: a [`ModelClient`] owns the classifier Web Worker, turns its
//! messages into the [`ModelStatus`] signal and answers [`ModelClient::classify`] calls.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures_channel::oneshot;
use js_sys::{Array, ArrayBuffer, Object, Reflect};
use leptos::prelude::*;
use protocol::{ActivationMap, FromWorker, ModelReady, Scored, ToWorker};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{ErrorEvent, MessageEvent, Worker};

/// Where trunk writes the worker's loader (`data-loader-shim` in index.html). Absolute: the page
/// may be at `/classify` or deeper.
const WORKER_URL: &str = "/worker_loader.js";
/// The weights manifest, copied into the site by `cargo xtask` (see `xtask/src/site.rs`).
pub const MANIFEST_URL: &str = "/model/i3d-kinetics-400.json";

/// How long the worker may take to start its WASM, ms.
const BOOT_TIMEOUT_MS: u32 = 60_000;

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
        /// `cpu` or `webgpu`.
        backend: String,
    },
    /// Ready to classify.
    Ready(ModelReady),
    /// Loading failed; the message says what to do.
    Failed(String),
}

/// The answer for one window.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowResult {
    /// Frames in the window.
    pub frames: usize,
    /// All 400 probabilities, model label order.
    pub probs: Vec<f32>,
    /// The top five.
    pub top: Vec<Scored>,
    /// Preprocessing and inference, ms.
    pub latency_ms: f64,
    /// The class activation map, when asked.
    pub cam: Option<ActivationMap>,
}

type Reply = oneshot::Sender<Result<WindowResult, String>>;

/// The worker and the requests in flight.
pub struct ModelClient {
    worker: Worker,
    next_id: Cell<u32>,
    pending: Rc<RefCell<HashMap<u32, Reply>>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

impl Drop for ModelClient {
    fn drop(&mut self) {
        self.worker.terminate();
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

impl ModelClient {
    /// Starts the worker and has it load the model on `backend` (`auto`, `cpu`, `webgpu`);
    /// progress and the outcome go to `status`.
    pub fn start(backend: String, status: RwSignal<ModelStatus>) -> Result<Self, String> {
        let worker = Worker::new(WORKER_URL).map_err(|e| {
            format!("the classifier worker could not start ({e:?}); reload the page")
        })?;
        status.set(ModelStatus::Starting);
        let pending: Rc<RefCell<HashMap<u32, Reply>>> = Rc::default();
        let on_message = {
            let worker = worker.clone();
            let pending = pending.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let message = match serde_wasm_bindgen::from_value::<FromWorker>(event.data()) {
                    Ok(message) => message,
                    Err(e) => {
                        web_sys::console::error_1(&format!("unknown worker message: {e}").into());
                        return;
                    }
                };
                match message {
                    FromWorker::Booted => {
                        let load = ToWorker::Load {
                            backend: backend.clone(),
                            manifest_url: MANIFEST_URL.into(),
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
                    FromWorker::Ready(ready) => status.set(ModelStatus::Ready(ready)),
                    FromWorker::Classified {
                        id,
                        frames,
                        probs,
                        top,
                        latency_ms,
                        cam,
                    } => {
                        if let Some(reply) = pending.borrow_mut().remove(&id) {
                            let _ = reply.send(Ok(WindowResult {
                                frames,
                                probs,
                                top,
                                latency_ms,
                                cam,
                            }));
                        }
                    }
                    FromWorker::Failed {
                        id: Some(id),
                        message,
                    } => {
                        if let Some(reply) = pending.borrow_mut().remove(&id) {
                            let _ = reply.send(Err(message));
                        }
                    }
                    FromWorker::Failed { id: None, message } => {
                        status.set(ModelStatus::Failed(message))
                    }
                }
            })
        };
        let on_error = {
            let pending = pending.clone();
            Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
                let message = format!(
                    "the classifier worker stopped: {}. Reload the page to try again.",
                    event.message()
                );
                // Settle every window in flight, or its caller would wait forever.
                for (_, reply) in pending.borrow_mut().drain() {
                    let _ = reply.send(Err(message.clone()));
                }
                status.set(ModelStatus::Failed(message));
            })
        };
        // A worker whose WASM fails to load never says `Booted`, and no error event reaches the page.
        gloo_timers::callback::Timeout::new(BOOT_TIMEOUT_MS, move || {
            if status.get_untracked() == ModelStatus::Starting {
                status.set(ModelStatus::Failed(
                    "the classifier worker did not start within 60 s. Reload the page to try again.".into(),
                ));
            }
        })
        .forget();
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Self {
            worker,
            next_id: Cell::new(1),
            pending,
            _on_message: on_message,
            _on_error: on_error,
        })
    }

    /// Whether a window is being classified (new windows are then dropped by the callers).
    pub fn busy(&self) -> bool {
        !self.pending.borrow().is_empty()
    }

    /// Classifies one window of RGBA frames (`width`×`height`), moving the buffers to the worker.
    pub async fn classify(
        &self,
        frames: Vec<ArrayBuffer>,
        width: u32,
        height: u32,
        cam: bool,
    ) -> Result<WindowResult, String> {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        let (reply, answer) = oneshot::channel();
        self.pending.borrow_mut().insert(id, reply);
        let message = ToWorker::Classify {
            id,
            width,
            height,
            cam,
        };
        if let Err(e) = post(&self.worker, &message, &frames) {
            self.pending.borrow_mut().remove(&id);
            return Err(e);
        }
        answer
            .await
            .map_err(|_| "the classifier worker went away".to_owned())?
    }
}

/// Reads `?backend=` (`cpu`, `webgpu`, or `auto` when absent).
pub fn requested_backend(query: Option<String>) -> String {
    match query.as_deref() {
        Some("cpu") => "cpu".into(),
        Some("webgpu" | "wgpu" | "gpu") => "webgpu".into(),
        _ => "auto".into(),
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
