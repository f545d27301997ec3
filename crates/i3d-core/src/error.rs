//! The error type of the `i3d-core` crate (and of the executors built on it).

/// Everything that can go wrong in shape inference, loading, inference and pre/post-processing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The clip is shorter than the network accepts.
    #[error("the clip has {frames} frames; I3D needs at least {min}")]
    TooFewFrames {
        /// Frames given.
        frames: usize,
        /// Minimum accepted.
        min: usize,
    },
    /// The clip is longer than the network is run on in one pass.
    #[error("the clip has {frames} frames; at most {max} are classified in one pass (split it into windows)")]
    TooManyFrames {
        /// Frames given.
        frames: usize,
        /// Maximum accepted.
        max: usize,
    },
    /// A clip's values do not match its frame count.
    #[error("a clip of {frames} frames needs {expected} floats, got {got}")]
    ClipLength {
        /// Floats given.
        got: usize,
        /// Floats needed.
        expected: usize,
        /// Frames said.
        frames: usize,
    },
    /// The input is not N×T×224×224×3.
    #[error("expected an input of shape 1×T×224×224×3 (NTHWC), got {got:?}")]
    InputShape {
        /// Dims given.
        got: Vec<usize>,
    },
    /// A tensor that should be 5-D (N×T×H×W×C) is not.
    #[error("expected a 5-D N×T×H×W×C tensor, got dims {got:?}")]
    Rank {
        /// Dims given.
        got: Vec<usize>,
    },
    /// A layer got the wrong number of input channels.
    #[error("layer {layer}: expected {expected} input channels, got {got}")]
    Channels {
        /// Layer (or weight prefix).
        layer: &'static str,
        /// Channels it was built for.
        expected: usize,
        /// Channels given.
        got: usize,
    },
    /// A VALID window is larger than its input.
    #[error("layer {layer}: needs at least {need:?} (t, h, w) positions, got {got:?}")]
    TooSmall {
        /// Layer.
        layer: &'static str,
        /// Window (t, h, w).
        need: [usize; 3],
        /// Input (t, h, w).
        got: [usize; 3],
    },
    /// A backend or precision name that does not exist.
    #[error("{0}")]
    Choice(String),
    /// A weight tensor is missing or has the wrong shape or dtype.
    #[error("weights: {0}")]
    Weights(String),
    /// Mixed_5c features of the wrong shape for a class activation map, or a class out of range.
    #[error("class activation map: {0}")]
    ActivationMap(String),
    /// Bad frames given to pre-processing.
    #[error("frames: {0}")]
    Frames(String),
    /// A reference fixture could not be read.
    #[error("fixture: {0}")]
    Fixture(String),
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An executor failed (its own error, as text).
    #[error("{0}")]
    Executor(String),
    /// A layer name that is not one whose activations can be shown ([`crate::anatomy::inspectable`]).
    #[error("I3D has no layer {0} with activations to show (Conv3d_1a_7x7 … Mixed_5c)")]
    UnknownLayer(String),
}
