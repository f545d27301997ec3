//! The one interface of the executors: a clip in; logits, features, a layer's output and per-layer
//! times out. Both executors implement [`Executor`] (`i3d-cpu` on candle, `i3d-gpu` on wgpu) with
//! the types of this module only, so what drives them (the `engine` crate) needs neither candle nor
//! wgpu's types to run a clip.
//!
//! Waiting on a GPU is `async` (the browser cannot block), so the methods are `async fn`s; the CPU
//! executor computes before its future first resolves. The futures are not required to be `Send`:
//! they are awaited on one thread (the browser's worker, or `pollster` natively).

use crate::arch::{check_frames, LayerId, Shape, MAX_FRAMES};
use crate::preprocess::FRAME_LEN;
use crate::{Backend, Error, Precision};

/// A pre-processed clip, checked: 1×`frames`×224×224×3 f32 in [−1, 1] (NTHWC, RGB), with
/// [`crate::arch::MIN_FRAMES`] ≤ `frames` ≤ [`MAX_FRAMES`].
#[derive(Debug, Clone, Copy)]
pub struct Clip<'a> {
    values: &'a [f32],
    frames: usize,
}

impl<'a> Clip<'a> {
    /// Checks that `values` hold a clip of `frames` frames. The count is bounded before any size
    /// is computed from it, and the size is computed with checked arithmetic, so no count from an
    /// untrusted page can wrap on wasm32 and pass.
    pub fn new(values: &'a [f32], frames: usize) -> Result<Self, Error> {
        check_frames(frames)?;
        let expected = FRAME_LEN.checked_mul(frames).ok_or(Error::TooManyFrames {
            frames,
            max: MAX_FRAMES,
        })?;
        if values.len() != expected {
            return Err(Error::ClipLength {
                got: values.len(),
                expected,
                frames,
            });
        }
        Ok(Clip { values, frames })
    }

    /// The values, 1×T×224×224×3 NTHWC.
    pub fn values(&self) -> &'a [f32] {
        self.values
    }

    /// Frames T.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// 1×T×224×224×3.
    pub fn shape(&self) -> Shape {
        Shape::clip(self.frames)
    }
}

/// A layer's output: `values` (f32, NTHWC, whatever the executor's storage precision) of shape
/// `shape` (1×T'×H'×W'×C).
#[derive(Debug, Clone, PartialEq)]
pub struct Activation {
    /// 1×T'×H'×W'×C values, NTHWC.
    pub values: Vec<f32>,
    /// Their shape.
    pub shape: Shape,
}

/// What one pass over a clip gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Forward {
    /// The [`crate::arch::NUM_CLASSES`] logits, model label order.
    pub logits: Vec<f32>,
    /// The features ([`crate::arch::FEATURE_LAYER`]'s output, 1×⌈T/8⌉×7×7×1024), when asked for.
    pub features: Option<Activation>,
}

/// The time one layer took in a pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerTime {
    /// The layer.
    pub layer: LayerId,
    /// Milliseconds (wall clock on the CPU, device time on a GPU).
    pub ms: f64,
}

/// An executor of the network: the same clip in, the same outputs out, on any backend.
// The futures are awaited where they are made (one thread: the browser's worker or `pollster`), so
// no `Send` bound is promised for them.
#[allow(async_fn_in_trait)]
pub trait Executor {
    /// Why a pass failed.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Where it runs.
    fn backend(&self) -> Backend;

    /// The storage precision of weights and activations (arithmetic is f32).
    fn precision(&self) -> Precision;

    /// The longest clip (frames) it can run, when it has a limit of its own (a GPU's buffer limits)
    /// below [`MAX_FRAMES`].
    fn max_frames(&self) -> Option<usize>;

    /// One pass: the logits, and the features when `features` is set.
    async fn forward(&mut self, clip: Clip<'_>, features: bool) -> Result<Forward, Self::Error>;

    /// The output of `layer` (one of [`LayerId::inspectable`]; others are an
    /// [`Error::UnknownLayer`]): the network runs up to that layer only.
    async fn endpoint(&mut self, clip: Clip<'_>, layer: LayerId)
        -> Result<Activation, Self::Error>;

    /// The time of every layer of one pass, in layer order, `None` when the executor cannot time
    /// layers (a GPU without timestamp queries). `now` is a clock in ms, for executors that time
    /// layers on the host.
    async fn layer_times(
        &mut self,
        clip: Clip<'_>,
        now: &dyn Fn() -> f64,
    ) -> Result<Option<Vec<LayerTime>>, Self::Error>;
}

/// An executor made from the weights alone, with no device to choose: what the engine runs on,
/// or falls back to, when there is no GPU.
pub trait FromWeights: Executor + Sized {
    /// Builds the network from the bytes of a safetensors weights file (f32 or f16).
    fn from_weights(weights: &[u8]) -> Result<Self, Self::Error>;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::arch::MIN_FRAMES;

    #[test]
    fn clips_are_checked_by_count_first() {
        let values = vec![0.0; FRAME_LEN * MIN_FRAMES];
        let clip = Clip::new(&values, MIN_FRAMES).unwrap();
        assert_eq!(clip.shape(), Shape::clip(MIN_FRAMES));
        assert!(matches!(
            Clip::new(&values[1..], MIN_FRAMES),
            Err(Error::ClipLength { .. })
        ));
        for frames in [MAX_FRAMES + 1, usize::MAX / FRAME_LEN + 1] {
            assert!(matches!(
                Clip::new(&values, frames),
                Err(Error::TooManyFrames { .. })
            ));
        }
        assert!(matches!(
            Clip::new(&values, MIN_FRAMES - 1),
            Err(Error::TooFewFrames { .. })
        ));
    }
}
