//! [`GpuI3d`] behind the executors' one interface ([`i3d_core::executor::Executor`]).

use i3d_core::arch::LayerId;
use i3d_core::executor::{Activation, Clip, Executor, Forward, LayerTime};
use i3d_core::{Backend, Precision};

use crate::model::KernelTime;
use crate::{Error, GpuI3d, RunOptions};

/// Each layer's device time in `profile`, ms, in layer order: the sum of the dispatches the plan
/// attributed to it.
pub fn layer_times(profile: &[KernelTime]) -> Vec<LayerTime> {
    LayerId::all()
        .map(|layer| LayerTime {
            layer,
            ms: profile
                .iter()
                .filter(|k| k.layer == Some(layer))
                .map(|k| k.seconds * 1e3)
                .sum(),
        })
        .collect()
}

impl Executor for GpuI3d {
    type Error = Error;

    fn backend(&self) -> Backend {
        Backend::Wgpu
    }

    fn precision(&self) -> Precision {
        GpuI3d::precision(self)
    }

    /// The longest clip whose buffers fit the adapter's binding limits.
    fn max_frames(&self) -> Option<usize> {
        Some(GpuI3d::max_frames(self))
    }

    async fn forward(&mut self, clip: Clip<'_>, features: bool) -> Result<Forward, Error> {
        let options = RunOptions {
            features,
            profile: false,
        };
        let output = self.run(clip.values(), clip.frames(), options).await?;
        Ok(Forward {
            logits: output.logits,
            features: output
                .features
                .map(|(values, shape)| Activation { values, shape }),
        })
    }

    async fn endpoint(&mut self, clip: Clip<'_>, layer: LayerId) -> Result<Activation, Error> {
        let (values, shape) = GpuI3d::endpoint(self, clip.values(), clip.frames(), layer).await?;
        Ok(Activation { values, shape })
    }

    /// Device times from timestamp queries (`None` when the adapter has none); `now` is not used.
    async fn layer_times(
        &mut self,
        clip: Clip<'_>,
        _now: &dyn Fn() -> f64,
    ) -> Result<Option<Vec<LayerTime>>, Error> {
        let options = RunOptions {
            features: false,
            profile: true,
        };
        let output = self.run(clip.values(), clip.frames(), options).await?;
        Ok(output.profile.as_deref().map(layer_times))
    }
}
