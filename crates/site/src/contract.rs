//! The site contract ([`protocol::site`] and the protocol's messages) as JSON, for JavaScript.
//!
//! - [`values`] goes into the scripts the site ships (see [`crate::finish`]).
//! - [`for_tests`] adds a sample of every message of the protocol, as serde writes it, and the backend and
//!   precision choices: the browser tests' and benchmarks' helper (`tests/support/protocol.mjs`) builds its
//!   messages from these samples and reads the worker's by their kinds, so that no harness restates a shape.
//!   `cargo xtask` writes it to `target/site/contract.json` ([`TEST_CONTRACT`]).

use protocol::site::*;
use protocol::{
    Backend, BackendChoice, FilterTiles, FromWorker, Inspection, ModelReady, Precision,
    PrecisionChoice, Progress, Threads, ToWorker, MAX_MESSAGE_FRAMES, PROTOCOL_VERSION,
    WINDOW_LENGTHS,
};
use serde_json::{json, Map, Value};

/// Where `cargo xtask` writes [`for_tests`], relative to the workspace root.
pub const TEST_CONTRACT: &str = "target/site/contract.json";

/// The values every shipped script may read, by the names they read them under.
pub fn values() -> Value {
    let headers = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|&(name, value)| (name.to_owned(), Value::from(value)))
            .collect::<Map<_, _>>()
    };
    json!({
        "protocolVersion": PROTOCOL_VERSION,
        "modelCache": MODEL_CACHE,
        "appCachePrefix": APP_CACHE_PREFIX,
        "serviceWorker": SERVICE_WORKER,
        "swSkipWaiting": SW_SKIP_WAITING,
        "swVersion": SW_VERSION,
        "swPrecacheFailed": SW_PRECACHE_FAILED,
        "modelManifest": MODEL_MANIFEST,
        "singleThreadedWorker": SINGLE_THREADED_WORKER,
        "threadedDir": THREADED_DIR,
        "threadedWorker": THREADED_WORKER,
        "relaxedDir": RELAXED_DIR,
        "relaxedWorker": RELAXED_WORKER,
        "threadScript": THREAD_SCRIPT,
        "threadedGlue": THREADED_GLUE,
        "threadedWasm": THREADED_WASM,
        "threadEntry": THREAD_ENTRY,
        "envelope": { "message": ENVELOPE_MESSAGE, "frames": ENVELOPE_FRAMES },
        "warmupFrames": WARMUP_FRAMES,
        "windowLengths": WINDOW_LENGTHS,
        "maxMessageFrames": MAX_MESSAGE_FRAMES,
        "siteHeaders": headers(&SITE_HEADERS),
        "embedderPolicy": EMBEDDER_POLICY,
        "isolationHeaderNames": [OPENER_POLICY.0, EMBEDDER_POLICY],
        "routes": ROUTES.iter().map(|&(pattern, policy)| json!([pattern, policy])).collect::<Vec<_>>(),
        "coepRequireCorp": COEP_REQUIRE_CORP,
        "coepCredentialless": COEP_CREDENTIALLESS,
    })
}

/// [`values`] plus, under `"messages"`, a sample of every [`ToWorker`] (`"toWorker"`, keyed by its `kind`) and every
/// [`FromWorker`] (`"fromWorker"`, keyed by its tag) as serde writes them, and under `"choices"` the
/// [`BackendChoice`]s and [`PrecisionChoice`]s by name (`"auto"`, `"cpu"`, `"wgpu"`, `"f32"`, `"f16"`).
pub fn for_tests() -> Value {
    let mut out = values();
    let keyed = |samples: Vec<Value>, key: &dyn Fn(&Value) -> Option<String>| {
        samples
            .into_iter()
            .filter_map(|sample| Some((key(&sample)?, sample)))
            .collect::<Map<_, _>>()
    };
    let to_worker = keyed(
        to_worker_samples().iter().map(to_value).collect(),
        &|sample| sample["kind"].as_str().map(str::to_owned),
    );
    let from_worker = keyed(
        from_worker_samples().iter().map(to_value).collect(),
        &|sample| sample.as_object()?.keys().next().cloned(),
    );
    let mut backends = Map::new();
    backends.insert("auto".into(), to_value(&BackendChoice::Auto));
    for backend in [Backend::Cpu, Backend::Wgpu] {
        backends.insert(
            name(&to_value(&backend)),
            to_value(&BackendChoice::Only(backend)),
        );
    }
    let mut precisions = Map::new();
    precisions.insert("auto".into(), to_value(&PrecisionChoice::Auto));
    for precision in [Precision::F32, Precision::F16] {
        precisions.insert(
            name(&to_value(&precision)),
            to_value(&PrecisionChoice::Only(precision)),
        );
    }
    out["messages"] = json!({ "toWorker": to_worker, "fromWorker": from_worker });
    out["choices"] = json!({ "backend": backends, "precision": precisions });
    out
}

/// A value as serde writes it (every protocol type serialises: `Null` cannot happen).
fn to_value(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn name(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// One [`ToWorker`] of each kind; [`to_worker_kind`] keeps the list whole.
pub fn to_worker_samples() -> Vec<ToWorker> {
    vec![
        ToWorker::Load {
            backend: BackendChoice::Auto,
            precision: PrecisionChoice::Auto,
            manifest_url: MODEL_MANIFEST.into(),
            threads: 1,
        },
        ToWorker::Classify {
            id: 0,
            width: 224,
            height: 224,
            cam: false,
            feature: false,
        },
        ToWorker::Run {
            id: 0,
            frames: WARMUP_FRAMES,
        },
        ToWorker::Inspect {
            id: 0,
            layer: String::new(),
            channels: 0,
        },
        ToWorker::TimeLayers { id: 0 },
        ToWorker::Filters { id: 0 },
        ToWorker::UseHead { head: None },
        ToWorker::Train {
            id: 0,
            classes: Vec::new(),
            settings: heads::Settings::default(),
            keep_examples: false,
        },
        ToWorker::Nearest {
            id: 0,
            vectors: Vec::new(),
            k: 0,
        },
    ]
}

/// The index of a [`ToWorker`]'s kind: a new kind fails to compile here until it is given one, and the test
/// below until [`to_worker_samples`] has it.
pub fn to_worker_kind(message: &ToWorker) -> usize {
    match message {
        ToWorker::Load { .. } => 0,
        ToWorker::Classify { .. } => 1,
        ToWorker::Run { .. } => 2,
        ToWorker::Inspect { .. } => 3,
        ToWorker::TimeLayers { .. } => 4,
        ToWorker::Filters { .. } => 5,
        ToWorker::UseHead { .. } => 6,
        ToWorker::Train { .. } => 7,
        ToWorker::Nearest { .. } => 8,
    }
}

/// One [`FromWorker`] of each kind; [`from_worker_kind`] keeps the list whole.
pub fn from_worker_samples() -> Vec<FromWorker> {
    let ready = ModelReady {
        backend: Backend::Cpu,
        reason: String::new(),
        reason_detail: None,
        precision: Precision::F32,
        warmup_ms: 0.0,
        load_ms: 0.0,
        from_cache: false,
        threads: Threads {
            count: 1,
            note: String::new(),
        },
        measured: Vec::new(),
        notes: Vec::new(),
        model_sha256: String::new(),
    };
    vec![
        FromWorker::Booted {
            version: PROTOCOL_VERSION,
        },
        FromWorker::Progress(Progress {
            loaded: 0,
            total: 0,
            from_cache: false,
        }),
        FromWorker::WarmingUp {
            backend: Backend::Cpu,
        },
        FromWorker::Ready(ready),
        FromWorker::Classified {
            id: 0,
            frames: 0,
            probs: Vec::new(),
            latency_ms: 0.0,
            model_ms: 0.0,
            cam: None,
            feature: None,
            custom: None,
        },
        FromWorker::Logits {
            id: 0,
            logits: Vec::new(),
            model_ms: 0.0,
        },
        FromWorker::Inspected {
            id: 0,
            inspection: Inspection {
                layer: String::new(),
                backend: Backend::Cpu,
                frames: 0,
                shape: [0; 4],
                volume: [0; 3],
                channels: Vec::new(),
                means: Vec::new(),
                input: Vec::new(),
                input_side: 0,
                ms: 0.0,
            },
        },
        FromWorker::LayerTimes {
            id: 0,
            backend: Backend::Cpu,
            frames: 0,
            times: None,
        },
        FromWorker::Filters {
            id: 0,
            tiles: FilterTiles {
                shape: [0; 5],
                rgb: Vec::new(),
                temporal: Vec::new(),
            },
        },
        FromWorker::Unstartable {
            message: String::new(),
        },
        FromWorker::Failed {
            id: None,
            message: String::new(),
        },
        FromWorker::Trained {
            id: 0,
            head: sample_head().to_json(),
            ms: 0.0,
        },
        FromWorker::Nearest {
            id: 0,
            classes: Vec::new(),
        },
    ]
}

/// A head of two classes in one dimension, as the worker sends it.
fn sample_head() -> heads::Head {
    heads::Head {
        format: heads::FORMAT_VERSION,
        classes: vec!["a".into(), "b".into()],
        feature_layer: String::new(),
        model_sha256: String::new(),
        linear: heads::Linear {
            classes: 2,
            dim: 1,
            weights: vec![1.0, -1.0],
            bias: vec![0.0, 0.0],
        },
        settings: heads::Settings::default(),
        report: heads::Report {
            examples: 2,
            training_accuracy: 1.0,
            validation: heads::Evaluation {
                validation: heads::Validation::LeaveOneOut,
                accuracy: 1.0,
                per_class: vec![1.0, 1.0],
                confusion: vec![vec![1, 0], vec![0, 1]],
            },
            iterations: 1,
            gradient_norm: 0.0,
        },
        examples: None,
    }
}

/// The index of a [`FromWorker`]'s kind (see [`to_worker_kind`]).
pub fn from_worker_kind(message: &FromWorker) -> usize {
    match message {
        FromWorker::Booted { .. } => 0,
        FromWorker::Progress(_) => 1,
        FromWorker::WarmingUp { .. } => 2,
        FromWorker::Ready(_) => 3,
        FromWorker::Classified { .. } => 4,
        FromWorker::Logits { .. } => 5,
        FromWorker::Inspected { .. } => 6,
        FromWorker::LayerTimes { .. } => 7,
        FromWorker::Filters { .. } => 8,
        FromWorker::Unstartable { .. } => 9,
        FromWorker::Failed { .. } => 10,
        FromWorker::Trained { .. } => 11,
        FromWorker::Nearest { .. } => 12,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_message_kind_has_one_sample() {
        let kinds: Vec<usize> = to_worker_samples().iter().map(to_worker_kind).collect();
        assert_eq!(kinds, (0..kinds.len()).collect::<Vec<_>>());
        let kinds: Vec<usize> = from_worker_samples().iter().map(from_worker_kind).collect();
        assert_eq!(kinds, (0..kinds.len()).collect::<Vec<_>>());
        let contract = for_tests();
        assert_eq!(
            contract["messages"]["toWorker"].as_object().unwrap().len(),
            to_worker_samples().len()
        );
        assert_eq!(
            contract["messages"]["fromWorker"]
                .as_object()
                .unwrap()
                .len(),
            from_worker_samples().len()
        );
    }

    /// The samples are what the worker and the page read: each parses back to itself.
    #[test]
    fn samples_round_trip() {
        for sample in to_worker_samples() {
            let json = serde_json::to_value(&sample).unwrap();
            assert_eq!(serde_json::from_value::<ToWorker>(json).unwrap(), sample);
        }
        for sample in from_worker_samples() {
            let json = serde_json::to_value(&sample).unwrap();
            assert_eq!(serde_json::from_value::<FromWorker>(json).unwrap(), sample);
        }
        let contract = for_tests();
        assert_eq!(contract["messages"]["toWorker"]["run"]["kind"], "run");
        assert_eq!(
            contract["messages"]["fromWorker"]["booted"]["booted"]["version"],
            PROTOCOL_VERSION
        );
        assert_eq!(
            contract["choices"]["backend"]["cpu"],
            json!({ "only": "cpu" })
        );
        assert_eq!(contract["choices"]["precision"]["auto"], "auto");
        assert_eq!(contract["modelCache"], MODEL_CACHE);
    }
}
