//! [`InceptionI3d`] behind the executors' one interface ([`i3d_core::executor::Executor`]): slices
//! in, `i3d-core` types out, candle kept inside this crate.

use candle_core::{Device, Tensor};
use i3d_core::arch::{LayerId, Shape, FEATURE_LAYER};
use i3d_core::executor::{Activation, Clip, Executor, Forward, FromWeights, LayerTime};
use i3d_core::{Backend, Precision};

use crate::{Error, InceptionI3d};

/// The clip as a candle tensor 1×T×224×224×3 on the CPU.
fn tensor(clip: Clip<'_>) -> Result<Tensor, Error> {
    Ok(Tensor::from_slice(
        clip.values(),
        clip.shape().dims().to_vec(),
        &Device::Cpu,
    )?)
}

/// A tensor's values (f32, row-major) and shape.
fn activation(t: &Tensor) -> Result<Activation, Error> {
    Ok(Activation {
        values: t.flatten_all()?.to_vec1::<f32>()?,
        shape: Shape::from_dims(t.dims())?,
    })
}

impl Executor for InceptionI3d {
    type Error = Error;

    fn backend(&self) -> Backend {
        Backend::Cpu
    }

    /// The CPU path computes and stores in f32 (f16 weights are widened at load).
    fn precision(&self) -> Precision {
        Precision::F32
    }

    /// None: the CPU path has no limit of its own.
    fn max_frames(&self) -> Option<usize> {
        None
    }

    async fn forward(&mut self, clip: Clip<'_>, features: bool) -> Result<Forward, Error> {
        let x = tensor(clip)?;
        let mut read = None;
        let logits = self.forward_endpoints(&x, |layer, t| {
            // The features live in a recycled buffer: read them now.
            if features && layer == FEATURE_LAYER {
                read = Some(activation(t));
            }
        })?;
        Ok(Forward {
            logits: logits.flatten_all()?.to_vec1::<f32>()?,
            features: read.transpose()?,
        })
    }

    async fn endpoint(&mut self, clip: Clip<'_>, layer: LayerId) -> Result<Activation, Error> {
        let x = tensor(clip)?;
        activation(&InceptionI3d::endpoint(self, &x, layer, |_, _| {})?)
    }

    /// Wall-clock times read from `now` after each layer.
    async fn layer_times(
        &mut self,
        clip: Clip<'_>,
        now: &dyn Fn() -> f64,
    ) -> Result<Option<Vec<LayerTime>>, Error> {
        let x = tensor(clip)?;
        let mut times = Vec::with_capacity(LayerId::all().len());
        let mut last = now();
        self.forward_endpoints(&x, |layer, _| {
            let t = now();
            times.push(LayerTime {
                layer,
                ms: t - last,
            });
            last = t;
        })?;
        Ok(Some(times))
    }
}

impl FromWeights for InceptionI3d {
    fn from_weights(weights: &[u8]) -> Result<Self, Error> {
        InceptionI3d::from_safetensors_bytes(weights)
    }
}
