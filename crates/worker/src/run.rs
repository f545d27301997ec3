//! The worker's message loop and model state.

use std::cell::RefCell;
use std::rc::Rc;

use i3d::arch::Shape;
use i3d::cam::LogitsLayer;
use i3d::postprocess::{softmax, top_indices};
use i3d::preprocess::{FrameRef, Preprocessor};
use i3d_gpu::{Backend, Classifier, Precision, Preference};
use js_sys::{Array, ArrayBuffer, Reflect, Uint8Array};
use protocol::{ActivationMap, FromWorker, ModelReady, Scored, ToWorker};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::fetch;

/// Frames of the warm-up pass.
const WARMUP_FRAMES: usize = 16;
/// Floats in one preprocessed frame (224·224·3).
const FRAME_LEN: usize = 224 * 224 * 3;

/// A loaded model.
struct Model {
    classifier: Classifier,
    logits: LogitsLayer,
    labels: Vec<String>,
    /// Kept to rebuild the model on the CPU if the GPU device is lost.
    weights: Vec<u8>,
    preprocessor: Preprocessor,
    /// Load and warm-up figures, repeated when the backend changes.
    load_ms: f64,
    warmup_ms: f64,
    from_cache: bool,
}

impl Model {
    /// The `Ready` message for this model as it now is.
    fn ready(&self, reason: String) -> FromWorker {
        FromWorker::Ready(ModelReady {
            backend: backend_name(&self.classifier).into(),
            reason,
            precision: precision_name(&self.classifier).into(),
            warmup_ms: self.warmup_ms,
            load_ms: self.load_ms,
            from_cache: self.from_cache,
        })
    }
}

#[derive(Default)]
struct State {
    /// `None` while loading or while a window runs (taken out, put back).
    model: Option<Model>,
    loading: bool,
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
        let message = Reflect::get(&data, &JsValue::from_str("message")).unwrap_or(data.clone());
        let frames = Reflect::get(&data, &JsValue::from_str("frames"))
            .ok()
            .filter(Array::is_array)
            .map(|f| Array::from(&f))
            .unwrap_or_default();
        match serde_wasm_bindgen::from_value::<ToWorker>(message) {
            Ok(request) => {
                let state = state.clone();
                wasm_bindgen_futures::spawn_local(handle(state, request, frames));
            }
            Err(e) => fail(
                None,
                format!("the worker got a message it does not know: {e}"),
            ),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    post(&FromWorker::Booted);
}

async fn handle(state: Rc<RefCell<State>>, request: ToWorker, frames: Array) {
    match request {
        ToWorker::Load {
            backend,
            manifest_url,
        } => {
            if state.borrow().loading {
                return;
            }
            state.borrow_mut().loading = true;
            let loaded = load(&backend, &manifest_url).await;
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
        } => {
            let Some(mut model) = state.borrow_mut().model.take() else {
                fail(
                    Some(id),
                    "the model is not ready (still loading or busy); window dropped".into(),
                );
                return;
            };
            let result = classify(&mut model, id, width, height, cam, &frames).await;
            state.borrow_mut().model = Some(model);
            match result {
                Ok(reply) => post(&reply),
                Err(message) => fail(Some(id), message),
            }
        }
    }
}

fn now() -> f64 {
    scope().performance().map(|p| p.now()).unwrap_or(0.0)
}

fn precision_name(classifier: &Classifier) -> &'static str {
    match classifier {
        Classifier::Wgpu(model) => match model.precision() {
            Precision::F16 => "f16",
            Precision::F32 => "f32",
        },
        Classifier::Cpu(_) => "f32",
    }
}

fn backend_name(classifier: &Classifier) -> &'static str {
    match classifier {
        Classifier::Wgpu(_) => "webgpu",
        Classifier::Cpu(_) => "cpu",
    }
}

async fn load(backend: &str, manifest_url: &str) -> Result<Model, String> {
    let started = now();
    let preference: Preference = backend
        .parse()
        .map_err(|e: i3d_gpu::Error| format!("{e}; use ?backend=cpu or ?backend=webgpu"))?;
    let selection = Backend::select(preference).await.map_err(|e| {
        format!("WebGPU was asked for (?backend=webgpu) but cannot be used: {e}. Open the page without ?backend= to use the CPU.")
    })?;
    let manifest = fetch::manifest(manifest_url).await?;
    // The f16 file: half the download, and both executors read it (the CPU path widens it to f32).
    let entry = manifest
        .files
        .iter()
        .find(|f| f.dtype == "f16")
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
            post(&FromWorker::Progress {
                loaded,
                total,
                from_cache,
            });
        }
    })
    .await?;
    let logits = LogitsLayer::from_safetensors_bytes(&weights.bytes)
        .map_err(|e| format!("the weights file is not usable: {e}"))?;
    let mut reason = selection.reason;
    let on_gpu = matches!(selection.backend, Backend::Wgpu(_));
    let classifier = match Classifier::new(selection.backend, &weights.bytes, None) {
        Ok(classifier) => classifier,
        // As for a failing warm-up or window below: the CPU path still works.
        Err(e) if on_gpu => {
            reason = gpu_failure_reason(&e.to_string());
            Classifier::new(Backend::Cpu, &weights.bytes, None)
                .map_err(|e| format!("could not build the model: {e}"))?
        }
        Err(e) => return Err(format!("could not build the model: {e}")),
    };
    let mut model = Model {
        classifier,
        logits,
        labels: manifest.labels,
        weights: weights.bytes,
        preprocessor: Preprocessor::new(),
        load_ms: 0.0,
        warmup_ms: 0.0,
        from_cache: weights.from_cache,
    };
    model.load_ms = now() - started;
    post(&FromWorker::WarmingUp {
        backend: backend_name(&model.classifier).into(),
    });
    let warm = now();
    let input = vec![0.0f32; WARMUP_FRAMES * FRAME_LEN];
    if let Err(e) = model.classifier.run(&input, WARMUP_FRAMES).await {
        reason = fall_back_to_cpu(&mut model, &e.to_string())?;
        model
            .classifier
            .run(&input, WARMUP_FRAMES)
            .await
            .map_err(|e| format!("the warm-up pass failed: {e}"))?;
    }
    model.warmup_ms = now() - warm;
    post(&model.ready(reason));
    Ok(model)
}

/// Rebuilds the model on the CPU after a WebGPU failure; returns the new reason.
fn fall_back_to_cpu(model: &mut Model, error: &str) -> Result<String, String> {
    let reason = gpu_failure_reason(error);
    model.classifier = Classifier::new(Backend::Cpu, &model.weights, None)
        .map_err(|e| format!("could not rebuild the model on the CPU: {e}"))?;
    Ok(reason)
}

/// Logs a WebGPU failure and gives the reason shown for the switch to the CPU.
fn gpu_failure_reason(error: &str) -> String {
    web_sys::console::warn_1(&format!("WebGPU failed: {error}; switching to the CPU").into());
    format!("WebGPU failed ({error}); switched to the candle CPU path")
}

async fn classify(
    model: &mut Model,
    id: u32,
    width: u32,
    height: u32,
    cam: bool,
    frames: &Array,
) -> Result<FromWorker, String> {
    let started = now();
    let count = frames.length() as usize;
    if count < protocol::MIN_FRAMES {
        return Err(format!(
            "a window needs at least {} frames, got {count}",
            protocol::MIN_FRAMES
        ));
    }
    let mut input = vec![0.0f32; count * FRAME_LEN];
    let mut pixels = Vec::new();
    for (i, out) in input.chunks_exact_mut(FRAME_LEN).enumerate() {
        let buffer: ArrayBuffer = frames
            .get(i as u32)
            .dyn_into()
            .map_err(|_| format!("frame {i} is not an ArrayBuffer"))?;
        pixels.resize(buffer.byte_length() as usize, 0);
        Uint8Array::new(&buffer).copy_to(&mut pixels);
        let frame = FrameRef {
            width: width as usize,
            height: height as usize,
            channels: 4,
            data: &pixels,
        };
        model
            .preprocessor
            .frame_into(frame, out)
            .map_err(|e| format!("frame {i}: {e}"))?;
    }
    let (logits, features) = match model.classifier.run_with(&input, count, cam).await {
        Ok(output) => output,
        Err(e) if matches!(model.classifier, Classifier::Wgpu(_)) => {
            let reason = fall_back_to_cpu(model, &e.to_string())?;
            post(&model.ready(reason));
            model
                .classifier
                .run_with(&input, count, cam)
                .await
                .map_err(|e| e.to_string())?
        }
        Err(e) => return Err(e.to_string()),
    };
    let probs = softmax(&logits);
    let top: Vec<Scored> = top_indices(&probs, 5)
        .into_iter()
        .map(|index| Scored {
            index,
            label: model.labels.get(index).cloned().unwrap_or_default(),
            prob: probs[index],
        })
        .collect();
    // A map that cannot be made costs the map, not the prediction.
    let cam = match (features, top.first()) {
        (Some((values, shape)), Some(best)) => activation_map(model, &values, shape, best.index)
            .map_err(|e| web_sys::console::warn_1(&format!("no activation map: {e}").into()))
            .ok(),
        _ => None,
    };
    Ok(FromWorker::Classified {
        id,
        frames: count,
        probs,
        top,
        latency_ms: now() - started,
        cam,
    })
}

fn activation_map(
    model: &Model,
    features: &[f32],
    shape: Shape,
    class: usize,
) -> Result<ActivationMap, String> {
    let map = model
        .logits
        .activation_map(features, shape, class)
        .map_err(|e| e.to_string())?;
    Ok(ActivationMap {
        width: map.width,
        height: map.height,
        values: map.normalised(),
        index: class,
    })
}
