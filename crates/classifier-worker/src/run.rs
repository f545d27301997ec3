//! The worker's message loop and model state.

use std::cell::RefCell;
use std::rc::Rc;

use engine::Options;
use i3d_core::manifest::Manifest;
use i3d_core::preprocess::{FrameRef, FRAME_LEN};
use i3d_core::Precision;
use js_sys::{Array, ArrayBuffer, Reflect, Uint8Array};
use protocol::{
    ActivationMap, BackendChoice, CustomPrediction, FilterTiles, FromWorker, Inspection,
    ModelReady, PrecisionChoice, Threads, ToWorker, PROTOCOL_VERSION,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::fetch;

use protocol::site::WARMUP_FRAMES;

/// The engine with the candle CPU executor.
type Engine = engine::Engine<i3d_cpu::InceptionI3d>;

/// A loaded model.
struct Model {
    engine: Engine,
    /// Load and warm-up figures, repeated when the backend changes.
    load_ms: f64,
    warmup_ms: f64,
    from_cache: bool,
    threads: Threads,
    /// Warm-up times per backend when `auto` chose by measurement, ms.
    measured: Vec<(protocol::Backend, f64)>,
    /// What happened to the weights' cache ([`fetch::Weights::notes`]).
    notes: Vec<String>,
    /// The last window classified, pre-processed (1×T×224×224×3), and T: what `/inside` shows.
    /// Kept by moving the window's own buffer, so classifying costs nothing more.
    last_window: Option<(Vec<f32>, usize)>,
    /// The checkpoint's SHA-256 ([`ModelReady::model_sha256`]).
    model_sha256: String,
    /// The few-shot head applied to the window being classified (the state's, taken at its start).
    head: Option<Rc<heads::Linear>>,
}

impl Model {
    /// The `Ready` message for this model as it now is.
    fn ready(&self) -> FromWorker {
        FromWorker::Ready(ModelReady {
            backend: self.engine.backend(),
            reason: self.engine.reason().to_owned(),
            reason_detail: self.engine.reason_detail().map(str::to_owned),
            precision: self.engine.precision(),
            warmup_ms: self.warmup_ms,
            load_ms: self.load_ms,
            from_cache: self.from_cache,
            threads: self.threads.clone(),
            measured: self.measured.clone(),
            notes: self.notes.clone(),
            model_sha256: self.model_sha256.clone(),
        })
    }
}

#[derive(Default)]
struct State {
    /// `None` while loading or while a window runs (taken out, put back).
    model: Option<Model>,
    loading: bool,
    /// The few-shot head applied to every window ([`ToWorker::UseHead`]). Kept here, not in the model, so that it
    /// can be set while the model loads or runs a window.
    head: Option<Rc<heads::Linear>>,
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(message: &FromWorker) {
    match serde_wasm_bindgen::to_value(message) {
        Ok(value) => {
            if let Err(e) = scope().post_message(&value) {
                web_sys::console::error_1(&e);
            }
        }
        Err(e) => web_sys::console::error_1(&e.to_string().into()),
    }
}

fn fail(id: Option<u32>, message: String) {
    post(&FromWorker::Failed { id, message });
}

/// Installs the message handler and says so.
pub fn start() {
    let state = Rc::new(RefCell::new(State::default()));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        let message = Reflect::get(&data, &JsValue::from_str(protocol::site::ENVELOPE_MESSAGE))
            .unwrap_or(data.clone());
        let frames = Reflect::get(&data, &JsValue::from_str(protocol::site::ENVELOPE_FRAMES))
            .ok()
            .filter(Array::is_array)
            .map(|f| Array::from(&f))
            .unwrap_or_default();
        match serde_wasm_bindgen::from_value::<ToWorker>(message) {
            Ok(request) => {
                let state = state.clone();
                wasm_bindgen_futures::spawn_local(handle(state, request, frames));
            }
            // Most likely a page and a worker of different deployments: only a reload helps.
            Err(e) => fail(
                None,
                format!(
                    "the classifier got a message it does not understand ({e}); reload the page"
                ),
            ),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    post(&FromWorker::Booted {
        version: PROTOCOL_VERSION,
    });
}

async fn handle(state: Rc<RefCell<State>>, request: ToWorker, frames: Array) {
    match request {
        ToWorker::Load {
            backend,
            precision,
            manifest_url,
            threads,
        } => {
            if state.borrow().loading {
                return;
            }
            state.borrow_mut().loading = true;
            // The threads first: a threaded build whose pool cannot start hands over to the single-threaded
            // build (the page starts it) before anything is downloaded.
            let threads = match start_threads(threads).await {
                Ok(threads) => threads,
                Err(message) => {
                    state.borrow_mut().loading = false;
                    post(&FromWorker::Unstartable { message });
                    return;
                }
            };
            let loaded = load(backend, precision, &manifest_url, threads).await;
            let mut state = state.borrow_mut();
            state.loading = false;
            match loaded {
                Ok(model) => state.model = Some(model),
                Err(message) => fail(None, message),
            }
        }
        ToWorker::Classify {
            id,
            width,
            height,
            cam,
            feature,
        } => {
            let Some(mut model) = take_model(&state, id, "window") else {
                return;
            };
            model.head = state.borrow().head.clone();
            let result = classify(&mut model, id, (width, height), (cam, feature), &frames).await;
            // Only windows get the head (not a `Run` of the network alone).
            model.head = None;
            finish(&state, model, id, result);
        }
        // A head of another feature length fails each window it is applied to, with the reason (the page checks
        // the length first).
        ToWorker::UseHead { head } => state.borrow_mut().head = head.map(Rc::new),
        ToWorker::Train {
            id,
            classes,
            settings,
            keep_examples,
        } => {
            let Some(model) = take_model(&state, id, "training") else {
                return;
            };
            let result = train(&model, id, classes, &settings, keep_examples);
            finish(&state, model, id, result);
        }
        ToWorker::Nearest { id, vectors, k } => {
            let Some(model) = take_model(&state, id, "question") else {
                return;
            };
            let k = k.min(i3d_core::arch::NUM_CLASSES);
            let classes = vectors.iter().map(|v| model.engine.nearest(v, k)).collect();
            finish(&state, model, id, Ok(FromWorker::Nearest { id, classes }));
        }
        ToWorker::Run { id, frames: count } => {
            let Some(mut model) = take_model(&state, id, "clip") else {
                return;
            };
            let result = run(&mut model, id, count, &frames).await;
            finish(&state, model, id, result);
        }
        ToWorker::Inspect {
            id,
            layer,
            channels,
        } => {
            let Some(mut model) = take_model(&state, id, "inspection") else {
                return;
            };
            let result = inspect(&mut model, id, &layer, channels).await;
            finish(&state, model, id, result);
        }
        ToWorker::TimeLayers { id } => {
            let Some(mut model) = take_model(&state, id, "timing") else {
                return;
            };
            let result = time_layers(&mut model, id).await;
            finish(&state, model, id, result);
        }
        ToWorker::Filters { id } => {
            let Some(model) = take_model(&state, id, "filters") else {
                return;
            };
            let result = model
                .engine
                .first_layer_filters()
                .map(|(values, shape)| FromWorker::Filters {
                    id,
                    tiles: FilterTiles::new(&values, shape),
                })
                .map_err(|e| e.to_string());
            finish(&state, model, id, result);
        }
    }
}

/// Trains a few-shot head on `classes` (clip features) and answers with it.
fn train(
    model: &Model,
    id: u32,
    classes: Vec<heads::Class>,
    settings: &heads::Settings,
    keep_examples: bool,
) -> Result<FromWorker, String> {
    let started = now();
    let dataset = heads::Dataset::new(classes).map_err(|e| e.to_string())?;
    let (linear, report) = heads::train(&dataset, settings).map_err(|e| e.to_string())?;
    let head = heads::Head::new(
        &dataset,
        &engine::feature_layer(),
        &model.model_sha256,
        (linear, report),
        settings.clone(),
        keep_examples,
    );
    Ok(FromWorker::Trained {
        id,
        head: head.to_json(),
        ms: now() - started,
    })
}

/// Said when `/inside` asks before any window was classified.
const NO_WINDOW: &str =
    "no window has been classified yet: classify the sample clip, a video or the camera first";

/// Layer `layer` on the last window: its `channels` strongest channels.
async fn inspect(
    model: &mut Model,
    id: u32,
    layer: &str,
    channels: usize,
) -> Result<FromWorker, String> {
    // The page names the layer; the engine takes its id.
    let layer = i3d_core::anatomy::check_inspectable(layer).map_err(|e| e.to_string())?;
    let (input, frames) = model.last_window.take().ok_or(NO_WINDOW)?;
    let started = now();
    let result = model.engine.endpoint(&input, frames, layer).await;
    let ms = now() - started;
    let reply = result.map(|a| FromWorker::Inspected {
        id,
        inspection: Inspection::new(
            a.layer.name(),
            a.backend,
            &a.values,
            a.shape,
            &input,
            frames,
            channels,
            ms,
        ),
    });
    model.last_window = Some((input, frames));
    reply.map_err(|e| e.to_string())
}

/// Every layer's time on the last window.
async fn time_layers(model: &mut Model, id: u32) -> Result<FromWorker, String> {
    let (input, frames) = model.last_window.take().ok_or(NO_WINDOW)?;
    let result = model.engine.layer_times(&input, frames, &now).await;
    model.last_window = Some((input, frames));
    let times = result.map_err(|e| e.to_string())?;
    Ok(FromWorker::LayerTimes {
        id,
        backend: model.engine.backend(),
        frames,
        times: times.map(|t| {
            t.into_iter()
                .map(|t| (t.layer.name().to_owned(), t.ms))
                .collect()
        }),
    })
}

/// The model, taken out for request `id` (a `what`: window, clip) while it runs; `None` (the request
/// failed, said so) while it loads or runs another request.
fn take_model(state: &RefCell<State>, id: u32, what: &str) -> Option<Model> {
    let model = state.borrow_mut().model.take();
    if model.is_none() {
        fail(
            Some(id),
            format!("the model is not ready (still loading or busy); {what} dropped"),
        );
    }
    model
}

/// Puts the model back after request `id` and answers it.
fn finish(state: &RefCell<State>, model: Model, id: u32, result: Result<FromWorker, String>) {
    state.borrow_mut().model = Some(model);
    match result {
        Ok(reply) => post(&reply),
        Err(message) => fail(Some(id), message),
    }
}

/// Runs the engine on a pre-processed clip and times it (ms); a fallback to the CPU on the way is logged and
/// announced with a new `Ready`.
async fn timed_classify(
    model: &mut Model,
    input: &[f32],
    count: usize,
    (cam, feature): (bool, bool),
) -> Result<(engine::Classification, f64), String> {
    let started = now();
    let ask = engine::Ask {
        top: 1,
        cam,
        feature,
        head: model.head.as_deref(),
    };
    let result = model
        .engine
        .classify(input, count, ask)
        .await
        .map_err(|e| e.to_string())?;
    let model_ms = now() - started;
    if let Some(reason) = &result.fell_back {
        warn_fallback(reason);
        post(&model.ready());
    }
    Ok((result, model_ms))
}

/// The network alone on a pre-processed clip (one f32 buffer of `count`×224×224×3 values).
async fn run(
    model: &mut Model,
    id: u32,
    count: usize,
    frames: &Array,
) -> Result<FromWorker, String> {
    let buffer: ArrayBuffer = frames
        .get(0)
        .dyn_into()
        .map_err(|_| "the clip is not an ArrayBuffer".to_owned())?;
    let floats = protocol::check_clip(count, buffer.byte_length() as usize)?;
    let mut input = vec![0.0f32; floats];
    js_sys::Float32Array::new(&buffer).copy_to(&mut input);
    let (result, model_ms) = timed_classify(model, &input, count, (false, false)).await?;
    Ok(FromWorker::Logits {
        id,
        logits: result.logits,
        model_ms,
    })
}

fn now() -> f64 {
    scope().performance().map(|p| p.now()).unwrap_or(0.0)
}

/// What to tell the visitor when the model cannot be loaded on the backend they asked for.
fn unavailable(error: &engine::Error, options: Options) -> String {
    if options == Options::default() {
        format!("could not build the model: {error}")
    } else {
        format!("{error}. Open the page without ?backend= and ?precision= to let it choose.")
    }
}

async fn load(
    backend: BackendChoice,
    precision: PrecisionChoice,
    manifest_url: &str,
    threads: Threads,
) -> Result<Model, String> {
    let started = now();
    // The backend first: a browser that cannot run what was asked for is told so before downloading.
    let options = Options { backend, precision };
    let selection = engine::select(options)
        .await
        .map_err(|e| unavailable(&e, options))?;
    let manifest = fetch::manifest(manifest_url).await?;
    // The file of the precision asked for when the manifest lists it (f32 for reference checks),
    // else the f16 one: half the download, and both executors read it (the CPU path widens it to f32).
    // The site's manifest lists only the f16 file.
    let asked = match precision {
        PrecisionChoice::Only(p) => Some(p),
        PrecisionChoice::Auto => None,
    };
    let entry = asked
        .and_then(|p| manifest.file(p))
        .or_else(|| manifest.file(Precision::F16))
        .or_else(|| manifest.files.first())
        .ok_or("the weights manifest lists no files")?
        .clone();
    let base = manifest_url
        .rsplit_once('/')
        .map_or(String::new(), |(dir, _)| format!("{dir}/"));
    let url = format!("{base}{}", entry.name);
    let total = entry.bytes;
    let mut last_post = f64::NEG_INFINITY;
    let weights = fetch::weights(&url, &entry, &mut |loaded, from_cache| {
        // At most ~20 messages a second, and always the last one.
        let t = now();
        if t - last_post > 50.0 || loaded == total {
            last_post = t;
            post(&FromWorker::Progress(protocol::Progress {
                loaded,
                total,
                from_cache,
            }));
        }
    })
    .await?;
    let Manifest { labels, source, .. } = manifest;
    let engine =
        Engine::build(selection, weights.verified, labels).map_err(|e| unavailable(&e, options))?;
    let mut model = Model {
        engine,
        load_ms: 0.0,
        warmup_ms: 0.0,
        from_cache: weights.from_cache,
        threads,
        measured: Vec::new(),
        notes: weights.notes,
        last_window: None,
        model_sha256: source.checkpoint_sha256,
        head: None,
    };
    model.load_ms = now() - started;
    post(&FromWorker::WarmingUp {
        backend: model.engine.backend(),
    });
    // `auto` on a hardware adapter: both backends timed, the faster kept.
    model.measured = model
        .engine
        .pick_faster(WARMUP_FRAMES, &now)
        .await
        .map_err(|e| format!("the warm-up pass failed: {e}"))?;
    let backend = model.engine.backend();
    if let Some(&(_, ms)) = model.measured.iter().find(|(b, _)| *b == backend) {
        model.warmup_ms = ms;
    } else {
        let warm = now();
        if let Some(reason) = model
            .engine
            .warm_up(WARMUP_FRAMES)
            .await
            .map_err(|e| format!("the warm-up pass failed: {e}"))?
        {
            warn_fallback(&reason);
        }
        model.warmup_ms = now() - warm;
    }
    post(&model.ready());
    Ok(model)
}

/// The CPU executor's threads: a rayon pool on Web Workers in the threaded build.
#[cfg(target_feature = "atomics")]
async fn start_threads(wanted: u32) -> Result<Threads, String> {
    crate::threads::start(wanted).await
}

/// The CPU executor's threads: one, in this build.
#[cfg(not(target_feature = "atomics"))]
async fn start_threads(_wanted: u32) -> Result<Threads, String> {
    Ok(Threads {
        count: 1,
        note: format!("the single-threaded build, {SIMD}"),
    })
}

/// This build's vector instructions, for the model panel: the threaded build has a flavour with relaxed SIMD's
/// fused multiply-add (`/worker-mt-relaxed/`), which the page starts where the browser has relaxed SIMD.
pub(crate) const SIMD: &str = if cfg!(target_feature = "relaxed-simd") {
    "relaxed SIMD (fused multiply-add)"
} else {
    "128-bit SIMD"
};

/// Logs a switch from WebGPU to the CPU.
fn warn_fallback(reason: &str) {
    web_sys::console::warn_1(&format!("WebGPU failed: {reason}").into());
}

async fn classify(
    model: &mut Model,
    id: u32,
    (width, height): (u32, u32),
    (cam, feature): (bool, bool),
    frames: &Array,
) -> Result<FromWorker, String> {
    let started = now();
    let count = frames.length() as usize;
    protocol::check_frame_count("window", count)?;
    // Bounded by the check: at most MAX_MESSAGE_FRAMES × FRAME_LEN floats.
    let mut input = vec![0.0f32; count * FRAME_LEN];
    let mut pixels = Vec::new();
    for (i, out) in input.chunks_exact_mut(FRAME_LEN).enumerate() {
        let buffer: ArrayBuffer = frames
            .get(i as u32)
            .dyn_into()
            .map_err(|_| format!("frame {i} is not an ArrayBuffer"))?;
        // Checked before the pixels are copied into this worker's memory.
        protocol::check_window_frame(width, height, buffer.byte_length() as usize)
            .map_err(|e| format!("frame {i}: {e}"))?;
        pixels.resize(buffer.byte_length() as usize, 0);
        Uint8Array::new(&buffer).copy_to(&mut pixels);
        let frame = FrameRef {
            width: width as usize,
            height: height as usize,
            channels: 4,
            data: &pixels,
        };
        model
            .engine
            .preprocess(frame, out)
            .map_err(|e| format!("frame {i}: {e}"))?;
    }
    let (result, model_ms) = timed_classify(model, &input, count, (cam, feature)).await?;
    model.last_window = Some((input, count));
    if let Some(e) = &result.cam_error {
        web_sys::console::warn_1(&format!("no activation map: {e}").into());
    }
    let map = |map: i3d_core::cam::ActivationMap, index: usize| ActivationMap {
        width: map.width,
        height: map.height,
        values: map.normalised(),
        index,
    };
    let cam = result
        .cam
        .zip(result.top.first())
        .map(|(m, best)| map(m, best.index));
    let custom = result.custom.map(|custom| {
        let best = i3d_core::postprocess::top_indices(&custom.probs, 1);
        CustomPrediction {
            cam: custom.cam.zip(best.first()).map(|(m, &best)| map(m, best)),
            probs: custom.probs,
        }
    });
    Ok(FromWorker::Classified {
        id,
        frames: count,
        probs: result.probs,
        latency_ms: now() - started,
        model_ms,
        cam,
        feature: result.feature,
        custom,
    })
}
