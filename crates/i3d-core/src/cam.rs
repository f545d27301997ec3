//! Class activation maps (Zhou et al. 2016): where in the frame the evidence for a class lies.
//!
//! I3D ends with Mixed_5c (N×T'×7×7×1024), a 2×7×7 VALID average pool (stride 1: T' − 1 outputs),
//! a 1×1×1 conv to 400 logits and the mean over those T' − 1 outputs. Pooling and the conv commute,
//! so a class's logit is a weighted mean of `features · w_class` over the T'×7×7 positions plus the
//! bias, where time step t weighs c_t / (2(T' − 1)), c_t being the number of pooling windows that
//! hold it (1 at both ends, 2 inside; at T = 16, T' = 2 and both weigh ½). That per-position term,
//! summed over time with those weights, is the map; its mean over the 7×7 cells plus the bias is the
//! logit.

use crate::arch::{Op, Shape, I3D_LAYERS, NUM_CLASSES};
use crate::weights::{parse, tensor_f32};
use crate::Error;

/// The classifier layer (`Logits.Conv3d_0c_1x1`) in f32.
#[derive(Debug, Clone)]
pub struct LogitsLayer {
    /// (channels, classes) row-major.
    weight: Vec<f32>,
    /// (classes).
    bias: Vec<f32>,
    channels: usize,
}

/// A map over the 7×7 grid of the centre crop (each cell covers 32×32 input pixels).
#[derive(Debug, Clone, PartialEq)]
pub struct ActivationMap {
    /// Cells down.
    pub height: usize,
    /// Cells across.
    pub width: usize,
    /// Per-cell contribution to the logit (before the bias), row-major.
    pub raw: Vec<f32>,
}

impl ActivationMap {
    /// The map with negative evidence clipped to 0 and scaled so the maximum is 1 (all 0 when no
    /// cell has positive evidence).
    pub fn normalised(&self) -> Vec<f32> {
        let max = self.raw.iter().copied().fold(0.0f32, f32::max);
        self.raw
            .iter()
            .map(|&v| if max > 0.0 { v.max(0.0) / max } else { 0.0 })
            .collect()
    }
}

/// The weight of time step `step` of `steps` (T') in the logits: see the module docs.
fn time_weight(step: usize, steps: usize) -> f32 {
    if steps < 2 {
        return 1.0;
    }
    let windows = if step == 0 || step == steps - 1 {
        1.0
    } else {
        2.0
    };
    windows / (2.0 * (steps - 1) as f32)
}

impl LogitsLayer {
    /// Reads the classifier's weights from the converted safetensors file (f32 or f16).
    pub fn from_safetensors_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let spec = I3D_LAYERS
            .iter()
            .find_map(|layer| match &layer.op {
                Op::Logits(spec) => Some(*spec),
                _ => None,
            })
            .ok_or_else(|| Error::Weights("the layer table has no logits layer".into()))?;
        let st = parse(bytes)?;
        Ok(Self {
            weight: tensor_f32(&st, &format!("{}.weight", spec.name), &spec.weight_shape())?,
            bias: tensor_f32(&st, &format!("{}.bias", spec.name), &[spec.cout])?,
            channels: spec.cin,
        })
    }

    /// The bias of `class`.
    pub fn bias(&self, class: usize) -> f32 {
        self.bias.get(class).copied().unwrap_or(0.0)
    }

    /// The map of `class` from Mixed_5c `features` of shape `shape` (1×T'×H×W×1024, channels last).
    pub fn activation_map(
        &self,
        features: &[f32],
        shape: Shape,
        class: usize,
    ) -> Result<ActivationMap, Error> {
        let [n, t, h, w, c] = shape.dims();
        if n != 1 || c != self.channels || features.len() != shape.elements() {
            return Err(Error::ActivationMap(format!(
                "expected 1×T×H×W×{} features, got {shape} ({} values)",
                self.channels,
                features.len()
            )));
        }
        if class >= NUM_CLASSES {
            return Err(Error::ActivationMap(format!(
                "class {class} is out of range (0..{NUM_CLASSES})"
            )));
        }
        let mut raw = vec![0.0f32; h * w];
        for (position, cell) in features.chunks_exact(c).enumerate() {
            let dot: f32 = cell
                .iter()
                .enumerate()
                .map(|(k, &f)| f * self.weight[k * NUM_CLASSES + class])
                .sum();
            raw[position % (h * w)] += dot * time_weight(position / (h * w), t);
        }
        Ok(ActivationMap {
            height: h,
            width: w,
            raw,
        })
    }
}
