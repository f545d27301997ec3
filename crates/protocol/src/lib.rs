//! Messages between the app (main thread) and the classifier worker.
//!
//! Each message is a serde value converted with `serde-wasm-bindgen` and posted as
//! `{ message, frames }`: the pixels of a window do not go through serde but travel in `frames`, an
//! array of `ArrayBuffer`s listed as transferables, so they are moved to the worker, not copied.

use serde::{Deserialize, Serialize};

pub mod inside;
pub mod site;

pub use i3d_core::arch::MIN_FRAMES;
pub use i3d_core::{Backend, BackendChoice, Precision, PrecisionChoice};

/// The version of these messages. The worker announces it in [`FromWorker::Booted`]; a page whose
/// version differs (an old page that started a newly deployed worker, or the reverse) stops and
/// asks for a reload instead of exchanging messages neither side fully understands.
///
/// Version 5 changed the shape of [`FromWorker`] messages (see there); [`LegacyBoot`] still reads the boot
/// announcement of older workers, so that the page can tell them apart. Version 6 added
/// [`FromWorker::Unstartable`]. Version 7 added the few-shot heads: clip features on [`ToWorker::Classify`],
/// [`ToWorker::UseHead`], [`ToWorker::Train`], [`ToWorker::Nearest`] and their answers.
pub const PROTOCOL_VERSION: u32 = 7;

pub use site::MODEL_CACHE;

/// Window lengths the app offers, frames at 25 fps.
pub const WINDOW_LENGTHS: [usize; 3] = [16, 32, 64];

/// The most frames one message may carry (a window, or a clip for [`ToWorker::Run`]): four times the longest
/// window the app offers, room for the reference clips (79 frames) and benchmarks. What a message can make the
/// worker allocate is bounded by it: 256 × 224×224×3 f32 is 154 MB.
pub const MAX_MESSAGE_FRAMES: usize = 256;

/// Checks the frame count of a `what` (window, clip) sent by the page: [`MIN_FRAMES`] to
/// [`MAX_MESSAGE_FRAMES`]. Every size the worker computes from a count is computed after this check.
pub fn check_frame_count(what: &str, count: usize) -> Result<(), String> {
    if count < MIN_FRAMES {
        return Err(format!(
            "a {what} needs at least {MIN_FRAMES} frames, got {count}"
        ));
    }
    if count > MAX_MESSAGE_FRAMES {
        return Err(format!(
            "a {what} may hold at most {MAX_MESSAGE_FRAMES} frames, got {count}"
        ));
    }
    Ok(())
}

/// Checks one RGBA frame of a [`ToWorker::Classify`] window before its pixels are copied: `width`×`height`
/// within the preprocessing's bounds (`i3d_core::preprocess::check_frame_size`, overflow-free on wasm32) and
/// exactly 4 bytes a pixel in `bytes`.
pub fn check_window_frame(width: u32, height: u32, bytes: usize) -> Result<(), String> {
    let (width, height) = (width as usize, height as usize);
    if width == 0 || height == 0 {
        return Err(format!("empty frame {width}×{height}"));
    }
    let pixels =
        i3d_core::preprocess::check_frame_size(width, height).map_err(|e| e.to_string())?;
    // At most MAX_FRAME_PIXELS · 4 bytes: no overflow.
    let expected = pixels * 4;
    if bytes != expected {
        return Err(format!(
            "a {width}×{height} RGBA frame is {expected} bytes, got {bytes}"
        ));
    }
    Ok(())
}

/// Checks a pre-processed clip of [`ToWorker::Run`]: `count` frames (see [`check_frame_count`]) sent as `bytes`
/// bytes of f32; returns the number of f32 values (`count`×224×224×3).
pub fn check_clip(count: usize, bytes: usize) -> Result<usize, String> {
    check_frame_count("clip", count)?;
    // count ≤ MAX_MESSAGE_FRAMES: no overflow.
    let floats = count * i3d_core::preprocess::FRAME_LEN;
    if bytes != floats * 4 {
        return Err(format!(
            "a clip of {count} frames is {} bytes of f32, got {bytes}",
            floats * 4
        ));
    }
    Ok(floats)
}

/// From the app to the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ToWorker {
    /// Choose a backend, fetch (or read from the cache) the weights, build the model and warm it up.
    Load {
        /// Where to run.
        backend: BackendChoice,
        /// In what number format.
        precision: PrecisionChoice,
        /// URL of the weights manifest (JSON with sizes, hashes, labels), relative to the page.
        manifest_url: String,
        /// CPU threads wanted (1: one). Only the threaded build (`/worker-mt/`) can use more; it
        /// starts that many Web Workers for the CPU executor's rayon pool.
        #[serde(default = "one")]
        threads: u32,
    },
    /// Classify one window; `frames` RGBA buffers of `width`×`height` pixels travel beside the message.
    Classify {
        /// Echoed in the reply.
        id: u32,
        /// Frame width, pixels.
        width: u32,
        /// Frame height, pixels.
        height: u32,
        /// Also compute the class activation map of the top class (and of the top custom class when a head is in
        /// use, [`ToWorker::UseHead`]).
        cam: bool,
        /// Also answer with the window's clip feature ([`FromWorker::Classified::feature`]).
        #[serde(default)]
        feature: bool,
    },
    /// From now on, apply this few-shot head to every window classified and answer with its classes'
    /// probabilities ([`FromWorker::Classified::custom`]); `None`: stop.
    UseHead {
        /// The head, applied to the clip feature (raw feature space).
        head: Option<heads::Linear>,
    },
    /// Train a few-shot head on these classes' clip features ([`FromWorker::Trained`], or `Failed` saying why).
    Train {
        /// Echoed in the reply.
        id: u32,
        /// Each class with its examples' clip features ([`heads::MIN_CLASSES`] to [`heads::MAX_CLASSES`]).
        classes: Vec<heads::Class>,
        /// Regularisation, seed, iterations.
        settings: heads::Settings,
        /// Keep the examples' features in the head (to retrain it after a reload, or share them).
        keep_examples: bool,
    },
    /// The Kinetics classes nearest to each of `vectors` ([`FromWorker::Nearest`]).
    Nearest {
        /// Echoed in the reply.
        id: u32,
        /// Vectors in the raw feature space (a custom class's mean clip feature, or its weights), 1024 values each.
        vectors: Vec<Vec<f32>>,
        /// How many classes for each, nearest first.
        k: usize,
    },
    /// Run the network on a clip that is already pre-processed (`frames` holds one buffer of
    /// `frames`×224×224×3 f32 values in [−1, 1], NTHWC, as the reference fixtures store it) and
    /// answer with its logits ([`FromWorker::Logits`]): for checks against a reference and for
    /// benchmarks of the network alone.
    Run {
        /// Echoed in the reply.
        id: u32,
        /// Frames in the clip (at least [`MIN_FRAMES`]).
        frames: usize,
    },
    /// Show what layer `layer` computes on the last window classified: its `channels` strongest
    /// channels ([`FromWorker::Inspected`]).
    Inspect {
        /// Echoed in the reply.
        id: u32,
        /// A layer of `i3d_core::anatomy::inspectable` (`Conv3d_1a_7x7` … `Mixed_5c`).
        layer: String,
        /// How many channels, strongest first.
        channels: usize,
    },
    /// Time every layer on the last window classified ([`FromWorker::LayerTimes`]).
    TimeLayers {
        /// Echoed in the reply.
        id: u32,
    },
    /// The first layer's filters ([`FromWorker::Filters`]).
    Filters {
        /// Echoed in the reply.
        id: u32,
    },
}

/// One channel of a layer's output, as the `/inside` page draws it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelView {
    /// Channel index in the layer's output.
    pub index: usize,
    /// Mean activation over the clip (the ranking).
    pub mean: f32,
    /// Smallest value (drawn black).
    pub min: f32,
    /// Largest value (drawn white).
    pub max: f32,
    /// The channel over time: `volume` = T×H×W bytes, time first, scaled from `min`..`max`.
    pub pixels: Vec<u8>,
}

/// A layer's output on the last window, for the `/inside` page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    /// The layer.
    pub layer: String,
    /// Where it was computed.
    pub backend: Backend,
    /// Frames of the window.
    pub frames: usize,
    /// The layer's output shape (T', H', W', C).
    pub shape: [usize; 4],
    /// Each channel's volume as sent (T', h, w): H'×W' averaged down to at most 56 on a side.
    pub volume: [usize; 3],
    /// The strongest channels, strongest first.
    pub channels: Vec<ChannelView>,
    /// Every channel's mean activation over the window, channel order (C values): what the ranking is made
    /// from, exported with the page's JSON so that runs and backends can be compared value by value.
    pub means: Vec<f32>,
    /// The window's frames as the network saw them (centre crop), `frames`×side×side×3 RGB bytes.
    pub input: Vec<u8>,
    /// Side of each input frame in `input`, pixels.
    pub input_side: usize,
    /// Wall time of running the network up to this layer, ms.
    pub ms: f64,
}

/// The first layer's 7×7×7 filters, for the `/inside` page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterTiles {
    /// (kt, kh, kw, cin, cout) of the weights: (7, 7, 7, 3, 64).
    pub shape: [usize; 5],
    /// Each filter as kt frames of kh×kw RGB: cout × kt×kh×kw×3 bytes, 128 = 0, scaled per filter
    /// by its largest magnitude.
    pub rgb: Vec<u8>,
    /// Per filter, the share of its energy that changes over time (0: the same 2D filter in every
    /// frame, as ImageNet inflation starts it; the rest is what training on video added).
    pub temporal: Vec<f32>,
}

fn one() -> u32 {
    1
}

/// The CPU threads a model runs on, and why that many.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threads {
    /// Threads the CPU executor uses (1 in the single-threaded build).
    pub count: u32,
    /// Why this many, for the model panel ("4 of 8 cores", "the page is not cross-origin isolated", ...).
    pub note: String,
}

/// A class activation map: `height`×`width` values in 0..1, row-major, over the centre 224×224 crop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivationMap {
    /// Cells across.
    pub width: usize,
    /// Cells down.
    pub height: usize,
    /// Normalised activations (max 1).
    pub values: Vec<f32>,
    /// The class it explains.
    pub index: usize,
}

/// What a few-shot head says of a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomPrediction {
    /// Probabilities of the head's classes, its order.
    pub probs: Vec<f32>,
    /// The activation map of its most probable class (`index` is that class), when a map was asked for.
    pub cam: Option<ActivationMap>,
}

/// How far the weights have arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Bytes so far.
    pub loaded: u64,
    /// Bytes in all, from the manifest.
    pub total: u64,
    /// Whether the bytes come from the Cache API rather than the network.
    pub from_cache: bool,
}

/// A model ready to classify: what it runs on, why, and what loading it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelReady {
    /// Where it runs.
    pub backend: Backend,
    /// Why this backend, in plain words (the adapter, or why not WebGPU).
    pub reason: String,
    /// The raw detail behind `reason` (wgpu's own message), shown behind a disclosure.
    #[serde(default)]
    pub reason_detail: Option<String>,
    /// The storage precision (arithmetic is f32).
    pub precision: Precision,
    /// Wall time of the warm-up pass at [`site::WARMUP_FRAMES`] frames, ms.
    pub warmup_ms: f64,
    /// Wall time of fetching and building the model, ms.
    pub load_ms: f64,
    /// Whether the weights came from the Cache API.
    pub from_cache: bool,
    /// The CPU threads (the CPU executor's; WebGPU runs the network on the GPU).
    pub threads: Threads,
    /// The warm-up time of each backend tried when the choice was left to `auto`, ms (the faster one
    /// is kept); empty when only one backend was usable or one was asked for.
    #[serde(default)]
    pub measured: Vec<(Backend, f64)>,
    /// What the visitor should know about the weights' cache, in words: a cached copy found corrupt or
    /// truncated (deleted and downloaded again), or a copy that could not be kept (storage full).
    #[serde(default)]
    pub notes: Vec<String>,
    /// The SHA-256 (lowercase hex) of the published checkpoint the weights were converted from (the manifest's
    /// `source.checkpoint_sha256`; the same for the f32 and f16 files): what a few-shot head names as the model its
    /// features came from.
    #[serde(default)]
    pub model_sha256: String,
}

impl ModelReady {
    /// The default window length for this backend's measured speed, one of [`WINDOW_LENGTHS`]: 64 frames when a
    /// 64-frame window is estimated (from the warm-up) to take under 1.5 s, else 32. 16-frame windows are offered
    /// but not the default: on the shared cricket clip only 4 of 9 16-frame windows rank "playing cricket" first,
    /// against 8 of 9 32-frame windows (`kinetiscope classify`, CPU).
    pub fn default_window(&self) -> usize {
        let per_frame_ms = self.warmup_ms / site::WARMUP_FRAMES as f64;
        if per_frame_ms * 64.0 < 1500.0 {
            64
        } else {
            32
        }
    }
}

/// From the worker to the app, as `{ "<kind>": { <fields> } }` (serde's external tagging), e.g.
/// `{ "failed": { "id": 3, "message": "…" } }`.
///
/// Not `{ "kind": …, <fields> }` like [`ToWorker`]: reading that shape, the app (where size counts: every
/// visitor downloads it) would buffer each message into serde's generic `Content` tree first, and that code,
/// instantiated for every message type, was 41,964 bytes of its wasm (after wasm-opt). The worker reads [`ToWorker`], so the
/// cost of its tag stays there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker's WASM is running and listening (messages posted before this are lost).
    Booted {
        /// The worker's [`PROTOCOL_VERSION`] (0 from a worker of version 1, which did not send one).
        #[serde(default)]
        version: u32,
    },
    /// Weights download (or cache read) progress (the same message as a struct variant's: `{ "progress": {…} }`).
    Progress(Progress),
    /// The weights are in; the warm-up pass is running.
    WarmingUp {
        /// Where it runs.
        backend: Backend,
    },
    /// The model is ready (sent again if a failing GPU made the worker fall back to the CPU).
    Ready(ModelReady),
    /// The result of a [`ToWorker::Classify`].
    Classified {
        /// The request's id.
        id: u32,
        /// Frames in the window.
        frames: usize,
        /// Probabilities of all 400 classes, model label order (the app ranks them, alone or
        /// smoothed over windows, with `i3d_core::postprocess`).
        probs: Vec<f32>,
        /// Wall time of preprocessing and inference, ms.
        latency_ms: f64,
        /// Wall time of the network alone (no preprocessing, no activation map), ms.
        model_ms: f64,
        /// When asked for.
        cam: Option<ActivationMap>,
        /// The clip feature (1024 values, `i3d_core::cam::clip_feature`), when asked for.
        #[serde(default)]
        feature: Option<Vec<f32>>,
        /// The few-shot head's answer, when one is in use ([`ToWorker::UseHead`]).
        #[serde(default)]
        custom: Option<CustomPrediction>,
    },
    /// The answer to [`ToWorker::Train`].
    Trained {
        /// The request's id.
        id: u32,
        /// The head file ([`heads::Head::to_json`]: the head, its report and, when asked, its examples), which the
        /// page reads with [`heads::Head::from_json`] as it reads an imported one: one reader for every head.
        head: String,
        /// Wall time of training and cross-validation, ms.
        ms: f64,
    },
    /// The answer to [`ToWorker::Nearest`].
    Nearest {
        /// The request's id.
        id: u32,
        /// For each vector asked about: (Kinetics class index, cosine), nearest first.
        classes: Vec<Vec<(usize, f32)>>,
    },
    /// The result of a [`ToWorker::Run`].
    Logits {
        /// The request's id.
        id: u32,
        /// The 400 logits, model label order.
        logits: Vec<f32>,
        /// Wall time of the network, ms.
        model_ms: f64,
    },
    /// The answer to [`ToWorker::Inspect`].
    Inspected {
        /// The request's id.
        id: u32,
        /// What the layer computed.
        inspection: Inspection,
    },
    /// The answer to [`ToWorker::TimeLayers`].
    LayerTimes {
        /// The request's id.
        id: u32,
        /// Where they were measured.
        backend: Backend,
        /// Frames of the window.
        frames: usize,
        /// Each layer's time, ms, in layer order; `None` where the backend cannot time layers
        /// (a GPU without timestamp queries).
        times: Option<Vec<(String, f64)>>,
    },
    /// The answer to [`ToWorker::Filters`].
    Filters {
        /// The request's id.
        id: u32,
        /// The filters.
        tiles: FilterTiles,
    },
    /// This build of the worker cannot run here: the threaded build's pool of threads did not start (a thread
    /// worker that failed or never answered, a worker that could not be created). Sent instead of loading the
    /// model; the page then starts the single-threaded build and shows `message` as the reason. (A threaded
    /// build whose module cannot even load says nothing: its loader throws, and the page reads the worker's
    /// `error` event.)
    Unstartable {
        /// Why, in words.
        message: String,
    },
    /// Something failed; `id` is set when it is a window's classification.
    Failed {
        /// The request's id, if any.
        id: Option<u32>,
        /// What happened and what to do.
        message: String,
    },
}

/// The boot announcement of a worker of protocol version 4 or older, `{ "kind": "booted", "version": n }`
/// (`version` absent before version 2: read as 0). A page that cannot read a message as a [`FromWorker`] tries
/// this, to tell an old worker (a mismatch to report) from a broken message.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LegacyBoot {
    /// The message's kind: `"booted"` for a boot announcement.
    pub kind: String,
    /// The worker's protocol version.
    #[serde(default)]
    pub version: u32,
}

impl LegacyBoot {
    /// The old worker's version, when this is its boot announcement.
    pub fn version(&self) -> Option<u32> {
        (self.kind == "booted").then_some(self.version)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn messages_round_trip_with_a_kind_tag() {
        let message = ToWorker::Classify {
            id: 7,
            width: 320,
            height: 240,
            cam: true,
            feature: false,
        };
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json["kind"], "classify");
        assert_eq!(serde_json::from_value::<ToWorker>(json).unwrap(), message);
        let load = ToWorker::Load {
            backend: "webgpu".parse().unwrap(),
            precision: PrecisionChoice::Auto,
            manifest_url: "model/i3d-kinetics-400.json".into(),
            threads: 4,
        };
        let json = serde_json::to_value(&load).unwrap();
        assert_eq!(json["backend"], serde_json::json!({ "only": "wgpu" }));
        assert_eq!(json["precision"], "auto");
        assert_eq!(serde_json::from_value::<ToWorker>(json).unwrap(), load);
        // A page that says nothing of threads asks for one.
        let json = serde_json::json!({ "kind": "load", "backend": "auto", "precision": "auto", "manifest_url": "m.json" });
        assert!(matches!(
            serde_json::from_value::<ToWorker>(json).unwrap(),
            ToWorker::Load { threads: 1, .. }
        ));
        let run = ToWorker::Run { id: 3, frames: 16 };
        let json = serde_json::to_value(&run).unwrap();
        assert_eq!(json["kind"], "run");
        assert_eq!(serde_json::from_value::<ToWorker>(json).unwrap(), run);
        let booted = serde_json::to_value(FromWorker::Booted {
            version: PROTOCOL_VERSION,
        })
        .unwrap();
        assert_eq!(booted["booted"]["version"], PROTOCOL_VERSION);
        let reply = FromWorker::Failed {
            id: None,
            message: "no weights".into(),
        };
        let json = serde_json::to_string(&reply).unwrap();
        assert_eq!(json, r#"{"failed":{"id":null,"message":"no weights"}}"#);
        assert_eq!(serde_json::from_str::<FromWorker>(&json).unwrap(), reply);
    }

    #[test]
    fn an_old_workers_boot_announcement_is_recognised_as_such() {
        // Version 4 workers tagged their messages with `kind`; a version-1 worker said only `{"kind": "booted"}`.
        for (text, version) in [
            (r#"{"kind":"booted","version":4}"#, 4),
            (r#"{"kind":"booted"}"#, 0),
        ] {
            assert!(serde_json::from_str::<FromWorker>(text).is_err(), "{text}");
            let old: LegacyBoot = serde_json::from_str(text).unwrap();
            assert_eq!(old.version(), Some(version), "{text}");
        }
        let other: LegacyBoot =
            serde_json::from_str(r#"{"kind":"ready","backend":"cpu"}"#).unwrap();
        assert_eq!(other.version(), None);
    }

    #[test]
    fn sizes_from_the_page_are_bounded_before_anything_is_allocated() {
        // `Run { frames: 7134 }` with a 499,712-byte buffer once passed and then asked for 4.3 GB.
        let err = check_clip(7134, 499_712).unwrap_err();
        assert!(err.contains("at most 256 frames"), "{err}");
        // 28,533 frames: `count * FRAME_LEN` wraps on wasm32; refused by count first.
        assert!(check_frame_count("window", 28_533).is_err());
        assert!(check_frame_count("window", usize::MAX).is_err());
        assert!(check_frame_count("window", MIN_FRAMES - 1).is_err());
        assert_eq!(check_frame_count("window", 64), Ok(()));
        let floats = i3d_core::preprocess::FRAME_LEN * 16;
        assert_eq!(check_clip(16, floats * 4), Ok(floats));
        assert!(check_clip(16, floats * 4 - 4).is_err());
        assert_eq!(check_window_frame(320, 240, 320 * 240 * 4), Ok(()));
        assert!(check_window_frame(320, 240, 320 * 240 * 3).is_err());
        // Sides whose product wraps a 32-bit usize, and a zero side.
        let err = check_window_frame(65_536, 65_536, 0).unwrap_err();
        assert!(err.contains("refused"), "{err}");
        assert!(check_window_frame(0, 240, 0).is_err());
    }

    fn ready(warmup_ms: f64) -> ModelReady {
        ModelReady {
            backend: Backend::Wgpu,
            reason: "adapter: google / swiftshader".into(),
            reason_detail: Some("google / swiftshader (Cpu, BrowserWebGpu)".into()),
            precision: Precision::F16,
            warmup_ms,
            load_ms: 812.5,
            from_cache: true,
            threads: Threads {
                count: 1,
                note: "WebGPU".into(),
            },
            measured: vec![(Backend::Wgpu, warmup_ms), (Backend::Cpu, 2.0 * warmup_ms)],
            notes: vec!["the cached copy was corrupt".into()],
            model_sha256: "ab".repeat(32),
        }
    }

    #[test]
    fn ready_carries_its_fields_under_its_kind() {
        let reply = FromWorker::Ready(ready(950.0));
        let json = serde_json::to_value(&reply).unwrap();
        assert_eq!(json["ready"]["backend"], "wgpu");
        assert_eq!(json["ready"]["precision"], "f16");
        assert_eq!(json["ready"]["from_cache"], true);
        assert_eq!(serde_json::from_value::<FromWorker>(json).unwrap(), reply);
    }

    #[test]
    fn the_default_window_follows_the_warm_up_speed() {
        // 16 frames in 300 ms: 64 frames ≈ 1.2 s, under the 1.5 s budget.
        assert_eq!(ready(300.0).default_window(), 64);
        // 16 frames in 1.5 s (the CPU in WASM): 64 frames would take 6 s.
        assert_eq!(ready(1500.0).default_window(), 32);
        assert!(WINDOW_LENGTHS.contains(&ready(0.0).default_window()));
    }
}
