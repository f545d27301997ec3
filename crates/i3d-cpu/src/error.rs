//! The error type of the candle executor.

/// A network error (shapes, weights, frames: see [`i3d_core::Error`]) or one of candle's.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Shapes, weights, inputs.
    #[error(transparent)]
    Network(#[from] i3d_core::Error),
    /// From candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

impl Error {
    /// A weights error (missing or malformed tensor).
    pub fn weights(message: impl Into<String>) -> Self {
        Error::Network(i3d_core::Error::Weights(message.into()))
    }
}
