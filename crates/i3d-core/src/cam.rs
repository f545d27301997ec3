//! Class activation maps (Zhou et al. 2016): where in the frame the evidence for a class lies.
//!
//! I3D ends with Mixed_5c (N×T'×7×7×1024), a 2×7×7 VALID average pool (stride 1: T' − 1 outputs),
//! a 1×1×1 conv to 400 logits and the mean over those T' − 1 outputs. Pooling and the conv commute,
//! so a class's logit is a weighted mean of `features · w_class` over the T'×7×7 positions plus the
//! bias, where time step t weighs c_t / (2(T' − 1)), c_t being the number of pooling windows that
//! hold it (1 at both ends, 2 inside; at T = 16, T' = 2 and both weigh ½). That per-position term,
//! summed over time with those weights, is the map; its mean over the 7×7 cells plus the bias is the
//! logit.

use crate::arch::{Op, Shape, FEATURE_CHANNELS, I3D_LAYERS, NUM_CLASSES};
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
        if class >= NUM_CLASSES {
            return Err(Error::ActivationMap(format!(
                "class {class} is out of range (0..{NUM_CLASSES})"
            )));
        }
        let row: Vec<f32> = (0..self.channels)
            .map(|k| self.weight[k * NUM_CLASSES + class])
            .collect();
        linear_activation_map(features, shape, &row)
    }

    /// The logits of a clip from its [`clip_feature`] (`channels` values): the classifier applied to it.
    pub fn logits(&self, feature: &[f32]) -> Vec<f32> {
        let mut logits = self.bias.clone();
        for (k, &f) in feature.iter().enumerate().take(self.channels) {
            let row = &self.weight[k * NUM_CLASSES..(k + 1) * NUM_CLASSES];
            for (logit, &w) in logits.iter_mut().zip(row) {
                *logit += f * w;
            }
        }
        logits
    }

    /// The `k` classes whose weight vectors (each `channels` values) point most nearly the way `vector`
    /// (`channels` values, raw feature space) does, as (class index, cosine in −1..1), most similar first: how
    /// a custom class's mean feature or weights relate to the Kinetics classes. Empty for a zero vector or
    /// one of another length.
    pub fn nearest(&self, vector: &[f32], k: usize) -> Vec<(usize, f32)> {
        if vector.len() != self.channels {
            return Vec::new();
        }
        let norm =
            |v: &mut dyn Iterator<Item = f32>| v.map(|x| f64::from(x).powi(2)).sum::<f64>().sqrt();
        let vector_norm = norm(&mut vector.iter().copied());
        if vector_norm == 0.0 {
            return Vec::new();
        }
        let mut cosines: Vec<(usize, f32)> = (0..NUM_CLASSES)
            .map(|class| {
                let column = (0..self.channels).map(|c| self.weight[c * NUM_CLASSES + class]);
                let dot: f64 = column
                    .clone()
                    .zip(vector)
                    .map(|(w, &v)| f64::from(w) * f64::from(v))
                    .sum();
                let class_norm = norm(&mut column.into_iter());
                let cosine = if class_norm > 0.0 {
                    dot / (class_norm * vector_norm)
                } else {
                    0.0
                };
                (class, cosine as f32)
            })
            .collect();
        cosines.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        cosines.truncate(k);
        cosines
    }
}

/// Checks that `features` hold a 1×T'×H×W×[`FEATURE_CHANNELS`] map of shape `shape`.
fn check_feature_map(features: &[f32], shape: Shape) -> Result<[usize; 5], Error> {
    let dims = shape.dims();
    if dims[0] != 1 || dims[4] != FEATURE_CHANNELS || features.len() != shape.elements() {
        return Err(Error::ActivationMap(format!(
            "expected 1×T×H×W×{FEATURE_CHANNELS} features, got {shape} ({} values)",
            features.len()
        )));
    }
    Ok(dims)
}

/// The clip feature: [`crate::arch::FEATURE_LAYER`]'s output `features` (1×T'×H×W×1024, shape `shape`) averaged
/// over time and space the way the logits layer weighs it (time steps as in the module docs, the H×W cells
/// equally), [`FEATURE_CHANNELS`] values. It is the input of the classifier: a class's logit is its weights · this
/// plus its bias ([`LogitsLayer::logits`]), and a head trained on it applies the same way. At T' = 2 (16 frames) it is
/// the plain mean over the 2×7×7 positions.
pub fn clip_feature(features: &[f32], shape: Shape) -> Result<Vec<f32>, Error> {
    let [_, t, h, w, c] = check_feature_map(features, shape)?;
    let cells = (h * w) as f32;
    let mut feature = vec![0.0f32; c];
    for (position, cell) in features.chunks_exact(c).enumerate() {
        let weight = time_weight(position / (h * w), t) / cells;
        for (sum, &value) in feature.iter_mut().zip(cell) {
            *sum += weight * value;
        }
    }
    Ok(feature)
}

/// The activation map of a linear classifier's class whose weights over the feature channels are `row`
/// ([`FEATURE_CHANNELS`] values, raw feature space) from [`crate::arch::FEATURE_LAYER`]'s `features` (1×T'×H×W×1024,
/// shape `shape`): the map of a Kinetics class ([`LogitsLayer::activation_map`]) or of a head trained on
/// [`clip_feature`]s. Its mean over the cells is `row · clip_feature` (the logit before the bias).
pub fn linear_activation_map(
    features: &[f32],
    shape: Shape,
    row: &[f32],
) -> Result<ActivationMap, Error> {
    let [_, t, h, w, c] = check_feature_map(features, shape)?;
    if row.len() != c {
        return Err(Error::ActivationMap(format!(
            "a class's weights are {c} values, got {}",
            row.len()
        )));
    }
    let mut raw = vec![0.0f32; h * w];
    for (position, cell) in features.chunks_exact(c).enumerate() {
        let dot: f32 = cell.iter().zip(row).map(|(f, w)| f * w).sum();
        raw[position % (h * w)] += dot * time_weight(position / (h * w), t);
    }
    Ok(ActivationMap {
        height: h,
        width: w,
        raw,
    })
}
