//! The engine's error type.

use i3d_core::manifest::WeightsError;

/// Why the engine cannot load or classify. Messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The weights file or manifest is missing, damaged or not the listed one.
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// Shapes, frames, weights tensors.
    #[error(transparent)]
    Network(#[from] i3d_core::Error),
    /// The CPU executor failed (its own error, whatever executor the engine was built with).
    #[error("{0}")]
    Cpu(Box<dyn std::error::Error + Send + Sync>),
    /// The wgpu executor failed (and there was no fallback).
    #[error(transparent)]
    Gpu(#[from] i3d_gpu::Error),
    /// The backend or precision asked for cannot be used here.
    #[error("{0}")]
    Unavailable(String),
    /// A custom head that does not fit this network.
    #[error("{0}")]
    Head(String),
    /// The clip's length does not match its frame count.
    #[error("a clip of {frames} frames needs {expected} floats, got {got}")]
    InputLength {
        /// Floats given.
        got: usize,
        /// Floats needed.
        expected: usize,
        /// Frames said.
        frames: usize,
    },
}

impl Error {
    /// A failure of the CPU executor.
    pub(crate) fn cpu(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Cpu(Box::new(error))
    }
}
