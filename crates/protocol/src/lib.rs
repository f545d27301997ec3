//! Messages between the app (main thread) and the classifier worker.
//!
//! Each message is a serde value converted with `serde-wasm-bindgen` and posted as
//! `{ message, frames }`: the pixels of a window do not go through serde but travel in `frames`, an
//! array of `ArrayBuffer`s listed as transferables, so they are moved to the worker, not copied.

use serde::{Deserialize, Serialize};

/// The name of the Cache API cache that holds the model weights. Versioned by the weights format, not by the
/// app build, so that app updates (and the service worker's clean-up of old app caches) keep the weights.
pub const MODEL_CACHE: &str = "kinetiscope-model-v1";

/// Window lengths the app offers, frames at 25 fps.
pub const WINDOW_LENGTHS: [usize; 3] = [16, 32, 64];

/// The fewest frames I3D accepts (its temporal receptive field needs 9).
pub const MIN_FRAMES: usize = 9;

/// From the app to the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ToWorker {
    /// Choose a backend, fetch (or read from the cache) the weights, build the model and warm it up.
    Load {
        /// `auto`, `cpu` or `webgpu`.
        backend: String,
        /// URL of the weights manifest (JSON with sizes, hashes, labels), relative to the page.
        manifest_url: String,
    },
    /// Classify one window; `frames` RGBA buffers of `width`×`height` pixels travel beside the message.
    Classify {
        /// Echoed in the reply.
        id: u32,
        /// Frame width, pixels.
        width: u32,
        /// Frame height, pixels.
        height: u32,
        /// Also compute the class activation map of the top class.
        cam: bool,
    },
}

/// One class and its probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// Index in the model's label order (0..400).
    pub index: usize,
    /// Kinetics-400 class name.
    pub label: String,
    /// Softmax probability, 0..1.
    pub prob: f32,
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

/// From the worker to the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker's WASM is running and listening (messages posted before this are lost).
    Booted,
    /// Weights download (or cache read) progress.
    Progress {
        /// Bytes so far.
        loaded: u64,
        /// Bytes in all, from the manifest.
        total: u64,
        /// Whether the bytes come from the Cache API rather than the network.
        from_cache: bool,
    },
    /// The weights are in; the warm-up pass is running.
    WarmingUp {
        /// `cpu` or `webgpu`.
        backend: String,
    },
    /// The model is ready.
    Ready {
        /// `cpu` or `webgpu`.
        backend: String,
        /// Why this backend (adapter name, or why not WebGPU).
        reason: String,
        /// `f32` or `f16` (what the executor computes in).
        precision: String,
        /// Wall time of the warm-up pass at 16 frames, ms.
        warmup_ms: f64,
        /// Wall time of fetching and building the model, ms.
        load_ms: f64,
        /// Whether the weights came from the Cache API.
        from_cache: bool,
    },
    /// The result of a [`ToWorker::Classify`].
    Classified {
        /// The request's id.
        id: u32,
        /// Frames in the window.
        frames: usize,
        /// Probabilities of all 400 classes, model label order.
        probs: Vec<f32>,
        /// The five most probable classes.
        top: Vec<Scored>,
        /// Wall time of preprocessing and inference, ms.
        latency_ms: f64,
        /// When asked for.
        cam: Option<ActivationMap>,
    },
    /// Something failed; `id` is set when it is a window's classification.
    Failed {
        /// The request's id, if any.
        id: Option<u32>,
        /// What happened and what to do.
        message: String,
    },
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
        };
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json["kind"], "classify");
        assert_eq!(serde_json::from_value::<ToWorker>(json).unwrap(), message);
        let reply = FromWorker::Failed {
            id: None,
            message: "no weights".into(),
        };
        let json = serde_json::to_string(&reply).unwrap();
        assert!(json.contains("\"kind\":\"failed\""), "{json}");
    }
}
