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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::kernels::{Conv3d, KernelId, MaxPool3d};

    fn dispatch(label: &str, layer: Option<LayerId>, seconds: f64) -> KernelTime {
        KernelTime {
            label: label.to_owned(),
            layer,
            kernel: KernelId::of::<Conv3d>(Precision::F32, 4),
            seconds,
            macs: 0,
            gemm_shape: None,
        }
    }

    #[test]
    fn layer_times_sum_the_dispatches_by_layer_id_not_by_label() {
        let mixed_3b = LayerId::named("Mixed_3b").unwrap();
        let mixed_3c = LayerId::named("Mixed_3c").unwrap();
        let mut pool = dispatch("Mixed_3b.Branch_3.MaxPool3d_0a_3x3", Some(mixed_3b), 0.002);
        pool.kernel = KernelId::of::<MaxPool3d>(Precision::F32, 4);
        let profile = [
            dispatch("Mixed_3b.Branch_0+1+2.Conv3d_0a_1x1", Some(mixed_3b), 0.001),
            pool,
            // A label that names another layer counts for the layer the plan said.
            dispatch("Mixed_3b.odd", Some(mixed_3c), 0.004),
            dispatch("gemm", None, 1.0),
        ];
        let times = layer_times(&profile);
        assert_eq!(
            times.iter().map(|t| t.layer).collect::<Vec<_>>(),
            LayerId::all().collect::<Vec<_>>()
        );
        let ms = |id: LayerId| times[id.index()].ms;
        assert!((ms(mixed_3b) - 3.0).abs() < 1e-9);
        assert!((ms(mixed_3c) - 4.0).abs() < 1e-9);
        assert_eq!(times.iter().map(|t| t.ms).sum::<f64>(), 7.0);
    }
}
