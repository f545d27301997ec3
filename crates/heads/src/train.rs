//! The trainer: multinomial logistic regression (softmax, L2) by L-BFGS, and its evaluation.
//!
//! Written here rather than taken from a crate: it is the product (it runs in the browser's worker, single
//! threaded, where its speed is the visitor's wait), and it is small.
//!
//! # The problem
//!
//! Features are standardized first with the training set's mean and (population) standard deviation, dimension by
//! dimension; a dimension whose deviation is below [`STD_FLOOR`] is constant and becomes 0. In that space, with
//! `n` examples `x_i` (standardized, `d` values) of classes `y_i`, `W` (`classes × d`) and `b` (`classes`), the
//! objective is
//!
//! ```text
//! f(W, b) = (1/n) Σ_i [ log Σ_k exp(W_k·x_i + b_k) − (W_{y_i}·x_i + b_{y_i}) ] + (l2/2) ‖W‖²
//! ```
//!
//! (mean cross-entropy in nats; the bias is not regularised). It is minimised by L-BFGS (memory [`MEMORY`]) with
//! a backtracking Armijo line search (quadratic interpolation), from `W = 0, b = 0`, until the gradient's max-norm
//! is at most [`Settings::tolerance`] or [`Settings::max_iterations`] steps were taken. The solution is then folded
//! into raw-feature space ([`Linear`]).
//!
//! # Speed
//!
//! The dataset stores f32; the trainer's standardized copy is widened to f64 and all products and sums are f64 (the
//! line search needs a loss accurate far below f32's precision to reach a gradient of 1e-7, and widened rows need no
//! conversion in the inner loops). Logits go four classes at a time and the gradient four examples at a time, so
//! that the loops vectorise (SSE2, wasm simd128) and each weight row is read once per four examples. When there are at most half as
//! many examples as dimensions (the usual few-shot case: 60 clips of 1024 values), the examples are first written in
//! an orthonormal basis of the space they span (modified Gram–Schmidt, twice): the solution lies in that span (the
//! gradient of every term does), so the problem is solved exactly, with `n` coordinates instead of `d`. The basis is
//! the full dataset's and serves the validation folds too (a fold's span lies inside it).

use serde::{Deserialize, Serialize};

use crate::{Dataset, K_FOLDS, LEAVE_ONE_OUT_MAX_EXAMPLES};

/// A standard deviation below this (raw feature units) marks a constant dimension, which is ignored.
pub const STD_FLOOR: f64 = 1e-6;
/// The number of steps L-BFGS remembers.
pub const MEMORY: usize = 10;
/// Validation folds stop at a gradient max-norm of at least this (or [`Settings::tolerance`], if larger): their
/// predictions, all they are used for, do not change below it, and each fold costs less.
pub const FOLD_TOLERANCE: f64 = 1e-5;
/// The sufficient-decrease constant of the Armijo line search.
const ARMIJO: f64 = 1e-4;
/// The most trial steps of one line search.
const MAX_TRIALS: usize = 40;

/// How to train.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Settings {
    /// The L2 penalty's weight (`l2/2 · ‖W‖²`, W in standardized-feature space; the bias is not penalised). Must be
    /// positive and finite: the classes of a few-shot set are usually separable, and without it the weights grow
    /// without bound.
    pub l2: f32,
    /// Drives the assignment of examples to validation folds (k-fold only). The trained head does not depend on it.
    pub seed: u64,
    /// The most L-BFGS steps (each one or more evaluations of the objective). At least 1.
    pub max_iterations: u32,
    /// Training stops when the max-norm of the objective's gradient is at most this (non-negative, finite).
    pub tolerance: f64,
}

impl Default for Settings {
    /// `l2` 1e-2, `seed` 0x4B1E, 500 iterations, tolerance 1e-7.
    fn default() -> Settings {
        Settings {
            l2: 1e-2,
            seed: 0x4B1E,
            max_iterations: 500,
            tolerance: 1e-7,
        }
    }
}

/// A linear classifier on RAW features (standardization folded in): `logits = weights · x + bias`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Linear {
    /// The number of classes.
    pub classes: usize,
    /// The length of a feature vector.
    pub dim: usize,
    /// `classes × dim`, row-major: row `k` is class `k`'s weight on each raw feature (logit units per feature unit).
    pub weights: Vec<f32>,
    /// `classes`: each class's logit at the zero feature vector.
    pub bias: Vec<f32>,
}

impl Linear {
    /// The logits (`classes` values, natural-log odds up to a shared constant) of raw `features` (`dim` values).
    /// Summed in f64. Returns an empty vector when `features` does not have `dim` values or the shapes are
    /// inconsistent.
    pub fn logits(&self, features: &[f32]) -> Vec<f32> {
        if !self.consistent() || features.len() != self.dim {
            return Vec::new();
        }
        self.weights
            .chunks_exact(self.dim.max(1))
            .zip(&self.bias)
            .map(|(row, &b)| (dot32(row, features) + f64::from(b)) as f32)
            .collect()
    }

    /// The softmax of [`Linear::logits`]: `classes` probabilities summing to 1 (empty in the same cases).
    pub fn probabilities(&self, features: &[f32]) -> Vec<f32> {
        let logits: Vec<f64> = self.logits(features).into_iter().map(f64::from).collect();
        let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exps: Vec<f64> = logits.iter().map(|z| (z - max).exp()).collect();
        let sum: f64 = exps.iter().sum();
        exps.iter().map(|e| (e / sum) as f32).collect()
    }

    /// Class `class`'s weights (`dim` values, raw-feature space), if there is such a class.
    pub fn row(&self, class: usize) -> Option<&[f32]> {
        if !self.consistent() || class >= self.classes {
            return None;
        }
        self.weights.get(class * self.dim..(class + 1) * self.dim)
    }

    pub(crate) fn consistent(&self) -> bool {
        self.classes.checked_mul(self.dim) == Some(self.weights.len())
            && self.bias.len() == self.classes
    }
}

/// How a head was validated.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Validation {
    /// Each example predicted by a head trained on all the others (datasets of up to
    /// [`LEAVE_ONE_OUT_MAX_EXAMPLES`] examples).
    LeaveOneOut,
    /// Stratified k-fold: each example predicted by the head trained on the other folds. Examples are assigned to
    /// folds class by class, shuffled by [`Settings::seed`], round-robin.
    KFold { folds: u32 },
}

impl std::fmt::Display for Validation {
    /// "leave-one-out" or "5-fold cross-validation", as the visitor reads it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Validation::LeaveOneOut => f.write_str("leave-one-out"),
            Validation::KFold { folds } => write!(f, "{folds}-fold cross-validation"),
        }
    }
}

/// What validation measured. Standardization (mean and deviation) and the basis come from the whole dataset, and
/// each fold's training starts from the whole dataset's solution; the labels of the held-out examples are never
/// used. A class whose every example is held out at once (a class of 1 example) is learned from none: its examples
/// are then (nearly always) predicted wrong.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// How the examples were held out.
    pub validation: Validation,
    /// The share of examples predicted right, 0 to 1.
    pub accuracy: f32,
    /// Each class's share of its examples predicted right, 0 to 1 (`classes` values).
    pub per_class: Vec<f32>,
    /// `classes × classes` counts: `confusion[true class][predicted class]`.
    pub confusion: Vec<Vec<u32>>,
}

/// What training did and how well the head does.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Report {
    /// The number of examples trained on.
    pub examples: usize,
    /// The share of the training examples the head predicts right, 0 to 1.
    pub training_accuracy: f32,
    /// Held-out accuracy.
    pub validation: Evaluation,
    /// L-BFGS steps of the training on all examples.
    pub iterations: u32,
    /// The max-norm of the objective's gradient (standardized space, W and b) at the solution, recomputed in f64
    /// on all dimensions, reported in f32 (a file written and read back gives the same value).
    pub gradient_norm: f32,
}

/// Why training could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    /// A setting out of range.
    #[error("the training settings cannot be used: {0}")]
    Settings(String),
    /// The objective or the weights became infinite or NaN (should not happen with valid settings).
    #[error("training failed: the weights became infinite; try a larger L2 penalty")]
    Diverged,
    /// Every example holds the same features (a covered camera, one still picture for every class).
    #[error("all the examples are the same picture to the network: record the actions again, with the camera uncovered and something moving")]
    NothingToLearn,
}

/// Trains a head on `dataset` and validates it (see the module documentation). Deterministic: the same dataset and
/// settings give a bit-identical result.
pub fn train(dataset: &Dataset, settings: &Settings) -> Result<(Linear, Report), TrainError> {
    let fit = fit(dataset, settings)?;
    Ok((fit.linear, fit.report))
}

/// The whole result of training (the standardized-space solution too, for the tests).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Fit {
    pub linear: Linear,
    pub report: Report,
    /// Per dimension (`d`), raw units.
    pub mean: Vec<f64>,
    /// Per dimension: 1/deviation, 0 for a constant dimension.
    pub inv_std: Vec<f64>,
    /// `classes × d`, standardized space.
    pub weights: Vec<f64>,
    /// `classes`.
    pub bias: Vec<f64>,
}

fn check(settings: &Settings) -> Result<(), TrainError> {
    if !(settings.l2.is_finite() && settings.l2 > 0.0) {
        return Err(TrainError::Settings(format!(
            "the L2 penalty must be a positive number, it is {}",
            settings.l2
        )));
    }
    if settings.max_iterations == 0 {
        return Err(TrainError::Settings(
            "at least 1 iteration is needed".to_owned(),
        ));
    }
    if !(settings.tolerance.is_finite() && settings.tolerance >= 0.0) {
        return Err(TrainError::Settings(format!(
            "the tolerance must be a number of at least 0, it is {}",
            settings.tolerance
        )));
    }
    Ok(())
}

pub(crate) fn fit(dataset: &Dataset, settings: &Settings) -> Result<Fit, TrainError> {
    check(settings)?;
    let n = dataset.len();
    let d = dataset.dim();
    let classes = dataset.classes().len();
    let labels = dataset.labels();
    let l2 = f64::from(settings.l2);

    // Standardize.
    let (mean, inv_std) = standardization(dataset.features(), n, d);
    // Examples that are all the same (a covered camera, one still picture for every action) hold nothing to learn
    // from: every standardized value is 0.
    if inv_std.iter().all(|&s| s == 0.0) {
        return Err(TrainError::NothingToLearn);
    }
    let standardized: Vec<f32> = dataset
        .features()
        .chunks_exact(d)
        .flat_map(|row| {
            row.iter()
                .zip(&mean)
                .zip(&inv_std)
                .map(|((&x, &m), &s)| ((f64::from(x) - m) * s) as f32)
        })
        .collect();

    // The coordinates the problem is solved in.
    let basis = if 2 * n <= d {
        Some(Basis::new(&standardized, n, d))
    } else {
        None
    };
    let (coordinates, r) = match &basis {
        Some(basis) => (basis.coordinates.clone(), basis.rank),
        None => (standardized.iter().map(|&x| f64::from(x)).collect(), d),
    };
    if r == 0 {
        return Err(TrainError::NothingToLearn);
    }
    let problem = Problem {
        x: coordinates,
        labels: labels.to_vec(),
        dim: r,
        classes,
        l2,
    };
    let mut theta = vec![0f64; classes * r + classes];
    let norm = if basis.is_some() {
        Norm::RowEuclidean
    } else {
        Norm::Max
    };
    let outcome = minimize(
        &problem,
        &mut theta,
        settings.tolerance,
        settings.max_iterations,
        norm,
    );
    if !theta.iter().all(|v| v.is_finite()) || !outcome.loss.is_finite() {
        return Err(TrainError::Diverged);
    }

    let training_accuracy = {
        let correct = (0..n)
            .filter(|&i| problem.predict(&theta, problem.row(i)) == labels[i])
            .count();
        correct as f32 / n as f32
    };
    let validation = validate(&problem, &theta, settings);

    // Back to the standardized space, all dimensions.
    let (vw, b) = theta.split_at(classes * r);
    let weights: Vec<f64> = match &basis {
        Some(basis) => basis.expand(vw, classes),
        None => vw.to_vec(),
    };
    let bias = b.to_vec();
    let gradient_norm = match basis {
        Some(_) => {
            let full = Problem {
                x: standardized.iter().map(|&x| f64::from(x)).collect(),
                labels: labels.to_vec(),
                dim: d,
                classes,
                l2,
            };
            let mut theta_full = weights.clone();
            theta_full.extend_from_slice(&bias);
            let mut gradient = vec![0f64; theta_full.len()];
            full.evaluate(&theta_full, &mut gradient);
            max_norm(&gradient)
        }
        None => max_norm(&outcome.gradient),
    };

    // Fold the standardization in: w_raw = w / std, b_raw = b − Σ w_raw · mean.
    let mut raw_weights = Vec::with_capacity(classes * d);
    let mut raw_bias = Vec::with_capacity(classes);
    for (row, &bk) in weights.chunks_exact(d).zip(&bias) {
        let mut shift = 0f64;
        for ((&w, &s), &m) in row.iter().zip(&inv_std).zip(&mean) {
            let raw = w * s;
            shift += raw * m;
            raw_weights.push(raw as f32);
        }
        raw_bias.push((bk - shift) as f32);
    }
    if !raw_weights.iter().chain(&raw_bias).all(|v| v.is_finite()) {
        return Err(TrainError::Diverged);
    }
    Ok(Fit {
        linear: Linear {
            classes,
            dim: d,
            weights: raw_weights,
            bias: raw_bias,
        },
        report: Report {
            examples: n,
            training_accuracy,
            validation,
            iterations: outcome.iterations,
            gradient_norm: gradient_norm as f32,
        },
        mean,
        inv_std,
        weights,
        bias,
    })
}

/// Per-dimension mean and 1/deviation (0 below [`STD_FLOOR`]) of `n × d` features, in f64.
pub(crate) fn standardization(features: &[f32], n: usize, d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut mean = vec![0f64; d];
    for row in features.chunks_exact(d) {
        for (m, &x) in mean.iter_mut().zip(row) {
            *m += f64::from(x);
        }
    }
    for m in &mut mean {
        *m /= n as f64;
    }
    let mut var = vec![0f64; d];
    for row in features.chunks_exact(d) {
        for ((v, &x), &m) in var.iter_mut().zip(row).zip(&mean) {
            let c = f64::from(x) - m;
            *v += c * c;
        }
    }
    let inv_std = var
        .iter()
        .map(|v| {
            let std = (v / n as f64).sqrt();
            if std < STD_FLOOR {
                0.0
            } else {
                1.0 / std
            }
        })
        .collect();
    (mean, inv_std)
}

/// An orthonormal basis of the span of `n` examples (`rank ≤ n` vectors of `d` values) and the examples'
/// coordinates in it.
struct Basis {
    rank: usize,
    d: usize,
    /// `rank × d`, row-major.
    vectors: Vec<f64>,
    /// `n × rank`, row-major.
    coordinates: Vec<f64>,
}

impl Basis {
    /// Modified Gram–Schmidt, each example orthogonalised twice against the vectors so far; a residual below 1e-10
    /// of the example's norm adds no vector.
    fn new(x: &[f32], n: usize, d: usize) -> Basis {
        let mut vectors: Vec<f64> = Vec::with_capacity(n * d);
        let mut coefficients: Vec<Vec<f64>> = Vec::with_capacity(n);
        let mut v = vec![0f64; d];
        for row in x.chunks_exact(d) {
            for (v, &x) in v.iter_mut().zip(row) {
                *v = f64::from(x);
            }
            let norm0 = dot64(&v, &v).sqrt();
            let rank = vectors.len() / d;
            let mut c = vec![0f64; rank];
            for _pass in 0..2 {
                for (j, q) in vectors.chunks_exact(d).enumerate() {
                    let a = dot64(q, &v);
                    c[j] += a;
                    for (v, &q) in v.iter_mut().zip(q) {
                        *v -= a * q;
                    }
                }
            }
            let norm = dot64(&v, &v).sqrt();
            if norm > 1e-10 * norm0 && norm > 0.0 {
                vectors.extend(v.iter().map(|v| v / norm));
                c.push(norm);
            }
            coefficients.push(c);
        }
        let rank = vectors.len() / d;
        let mut coordinates = vec![0f64; n * rank];
        for (row, c) in coordinates.chunks_exact_mut(rank.max(1)).zip(&coefficients) {
            row[..c.len()].copy_from_slice(c);
        }
        Basis {
            rank,
            d,
            vectors,
            coordinates,
        }
    }

    /// `classes × rank` coordinates → `classes × d` vectors.
    fn expand(&self, v: &[f64], classes: usize) -> Vec<f64> {
        let mut out = vec![0f64; classes * self.d];
        for (row, coefficients) in out
            .chunks_exact_mut(self.d)
            .zip(v.chunks_exact(self.rank.max(1)))
        {
            for (&c, q) in coefficients.iter().zip(self.vectors.chunks_exact(self.d)) {
                for (o, &q) in row.iter_mut().zip(q) {
                    *o += c * q;
                }
            }
        }
        out
    }
}

/// The objective on a set of examples, in some coordinates.
struct Problem {
    /// `n × dim`, row-major (the f32 features, widened: no conversion in the inner loops).
    x: Vec<f64>,
    labels: Vec<usize>,
    dim: usize,
    classes: usize,
    l2: f64,
}

impl Problem {
    fn len(&self) -> usize {
        self.labels.len()
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.dim..(i + 1) * self.dim]
    }

    /// The examples `rows`, as a problem of their own.
    fn subset(&self, rows: &[usize]) -> Problem {
        let mut x = Vec::with_capacity(rows.len() * self.dim);
        for &i in rows {
            x.extend_from_slice(self.row(i));
        }
        Problem {
            x,
            labels: rows.iter().map(|&i| self.labels[i]).collect(),
            dim: self.dim,
            classes: self.classes,
            l2: self.l2,
        }
    }

    /// The class with the largest logit for `x` (the lowest index among equals).
    fn predict(&self, theta: &[f64], x: &[f64]) -> usize {
        let (w, b) = theta.split_at(self.classes * self.dim);
        let mut best = 0;
        let mut best_logit = f64::NEG_INFINITY;
        for (k, (row, &bk)) in w.chunks_exact(self.dim.max(1)).zip(b).enumerate() {
            let z = dot64(x, row) + bk;
            if z > best_logit {
                best = k;
                best_logit = z;
            }
        }
        best
    }

    /// The objective at `theta` (`classes × dim` weights, then `classes` biases); its gradient into `gradient`.
    ///
    /// Rows go four at a time: their logits (four classes at a time, [`dot4`]), then their share of the gradient,
    /// each class's gradient row read and written once per four examples ([`axpy4`]).
    fn evaluate(&self, theta: &[f64], gradient: &mut [f64]) -> f64 {
        let k = self.classes;
        let dim = self.dim;
        let n = self.len();
        gradient.fill(0.0);
        let (w, b) = theta.split_at(k * dim);
        let (gw, gb) = gradient.split_at_mut(k * dim);
        let mut z = vec![0f64; k];
        // `BLOCK × classes` residuals (softmax − one-hot) of the current rows.
        let mut residuals = vec![0f64; BLOCK * k];
        let mut loss = 0f64;
        for (rows, labels) in self.x.chunks(BLOCK * dim).zip(self.labels.chunks(BLOCK)) {
            residuals.fill(0.0);
            for ((x, &y), r) in rows
                .chunks_exact(dim)
                .zip(labels)
                .zip(residuals.chunks_exact_mut(k))
            {
                logits(x, w, b, dim, &mut z);
                let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = z.iter().map(|z| (z - max).exp()).sum();
                let lse = max + sum.ln();
                loss += lse - z[y];
                for (class, (r, &zk)) in r.iter_mut().zip(&z).enumerate() {
                    *r = (zk - lse).exp() - if class == y { 1.0 } else { 0.0 };
                }
            }
            for (class, (g, gb)) in gw.chunks_exact_mut(dim).zip(gb.iter_mut()).enumerate() {
                let mut r = [0f64; BLOCK];
                for (i, r) in r.iter_mut().enumerate().take(labels.len()) {
                    *r = residuals[i * k + class];
                    *gb += *r;
                }
                axpy4(g, r, rows, dim);
            }
        }
        let scale = 1.0 / n as f64;
        for g in gradient.iter_mut() {
            *g *= scale;
        }
        let mut penalty = 0f64;
        for (g, &w) in gradient.iter_mut().zip(w) {
            penalty += w * w;
            *g += self.l2 * w;
        }
        loss * scale + 0.5 * self.l2 * penalty
    }
}

/// Rows per block of [`Problem::evaluate`].
const BLOCK: usize = 4;

/// `g += Σ_i r[i] · rows[i]` over the (up to [`BLOCK`]) rows of `dim` values in `rows`.
fn axpy4(g: &mut [f64], r: [f64; BLOCK], rows: &[f64], dim: usize) {
    let mut it = rows.chunks_exact(dim);
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(x0), Some(x1), Some(x2), Some(x3)) => {
            for ((((g, &a), &b), &c), &d) in g.iter_mut().zip(x0).zip(x1).zip(x2).zip(x3) {
                *g += (r[0] * a + r[1] * b) + (r[2] * c + r[3] * d);
            }
        }
        (x0, x1, x2, _) => {
            for (x, r) in [x0, x1, x2].into_iter().zip(r) {
                if let Some(x) = x {
                    for (g, &x) in g.iter_mut().zip(x) {
                        *g += r * x;
                    }
                }
            }
        }
    }
}

/// `z[k] = w_k · x + b_k` for every class: four classes at a time, so that each chunk of `x` is loaded once.
fn logits(x: &[f64], w: &[f64], b: &[f64], dim: usize, z: &mut [f64]) {
    let mut blocks = w.chunks_exact(4 * dim);
    let mut k = 0;
    for block in blocks.by_ref() {
        let (w0, rest) = block.split_at(dim);
        let (w1, rest) = rest.split_at(dim);
        let (w2, w3) = rest.split_at(dim);
        let [a, c, e, g] = dot4(x, w0, w1, w2, w3);
        z[k] = a + b[k];
        z[k + 1] = c + b[k + 1];
        z[k + 2] = e + b[k + 2];
        z[k + 3] = g + b[k + 3];
        k += 4;
    }
    for row in blocks.remainder().chunks_exact(dim) {
        z[k] = dot64(x, row) + b[k];
        k += 1;
    }
}

/// Four dot products of f32 `x` with f64 rows, in f64 (four lanes per row).
fn dot4(x: &[f64], w0: &[f64], w1: &[f64], w2: &[f64], w3: &[f64]) -> [f64; 4] {
    let mut acc = [[0f64; 4]; 4];
    let rows = x
        .chunks_exact(4)
        .zip(w0.chunks_exact(4))
        .zip(w1.chunks_exact(4))
        .zip(w2.chunks_exact(4))
        .zip(w3.chunks_exact(4));
    for ((((x, a), b), e), g) in rows {
        for l in 0..4 {
            let xv = x[l];
            acc[0][l] += xv * a[l];
            acc[1][l] += xv * b[l];
            acc[2][l] += xv * e[l];
            acc[3][l] += xv * g[l];
        }
    }
    let mut out = acc.map(|a| (a[0] + a[1]) + (a[2] + a[3]));
    let tail = x.len() - x.len() % 4;
    for (i, &xv) in x.iter().enumerate().skip(tail) {
        out[0] += xv * w0[i];
        out[1] += xv * w1[i];
        out[2] += xv * w2[i];
        out[3] += xv * w3[i];
    }
    out
}

/// `a · b` in f64 for f32 vectors (eight accumulators).
fn dot32(a: &[f32], b: &[f32]) -> f64 {
    let mut acc = [0f64; 8];
    let xs = a.chunks_exact(8);
    let ws = b.chunks_exact(8);
    let tail: f64 = xs
        .remainder()
        .iter()
        .zip(ws.remainder())
        .map(|(&x, &w)| f64::from(x) * f64::from(w))
        .sum();
    for (x, w) in xs.zip(ws) {
        for l in 0..8 {
            acc[l] += f64::from(x[l]) * f64::from(w[l]);
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// `a · b` in f64 (four accumulators).
fn dot64(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0f64; 4];
    let xs = a.chunks_exact(4);
    let ws = b.chunks_exact(4);
    let tail: f64 = xs
        .remainder()
        .iter()
        .zip(ws.remainder())
        .map(|(&x, &w)| x * w)
        .sum();
    for (x, w) in xs.zip(ws) {
        for l in 0..4 {
            acc[l] += x[l] * w[l];
        }
    }
    acc.iter().sum::<f64>() + tail
}

fn max_norm(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, g| m.max(g.abs()))
}

/// How the stopping test measures the gradient.
#[derive(Clone, Copy)]
enum Norm {
    /// Max-norm.
    Max,
    /// The largest of each class's weight-gradient Euclidean norm and each bias's: in basis coordinates, a bound on
    /// the max-norm of the gradient in the full space (an orthonormal basis keeps Euclidean norms).
    RowEuclidean,
}

impl Norm {
    fn measure(self, gradient: &[f64], classes: usize) -> f64 {
        match self {
            Norm::Max => max_norm(gradient),
            Norm::RowEuclidean => {
                let dim = (gradient.len() - classes) / classes;
                let (w, b) = gradient.split_at(classes * dim);
                let rows = w
                    .chunks_exact(dim.max(1))
                    .fold(0f64, |m, row| m.max(dot64(row, row).sqrt()));
                rows.max(max_norm(b))
            }
        }
    }
}

struct Outcome {
    iterations: u32,
    loss: f64,
    gradient: Vec<f64>,
}

/// L-BFGS from `theta` (updated in place) until the gradient's norm is at most `tolerance`, `max_iterations` steps,
/// or no step decreases the objective any more (rounding).
fn minimize(
    problem: &Problem,
    theta: &mut [f64],
    tolerance: f64,
    max_iterations: u32,
    norm: Norm,
) -> Outcome {
    let size = theta.len();
    let classes = problem.classes;
    let mut gradient = vec![0f64; size];
    let mut loss = problem.evaluate(theta, &mut gradient);
    let mut history: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> =
        std::collections::VecDeque::with_capacity(MEMORY);
    let mut direction = vec![0f64; size];
    let mut trial = vec![0f64; size];
    let mut trial_gradient = vec![0f64; size];
    let mut alpha_history = [0f64; MEMORY];
    let mut iterations = 0;
    while iterations < max_iterations {
        let measured = norm.measure(&gradient, classes);
        if measured.is_nan() || measured <= tolerance {
            break;
        }
        // Two-loop recursion: direction = −H·gradient.
        for (d, &g) in direction.iter_mut().zip(&gradient) {
            *d = -g;
        }
        for (j, (s, y, rho)) in history.iter().enumerate().rev() {
            let a = rho * dot64(s, &direction);
            alpha_history[j] = a;
            for (d, &y) in direction.iter_mut().zip(y) {
                *d -= a * y;
            }
        }
        if let Some((s, y, _)) = history.back() {
            let gamma = dot64(s, y) / dot64(y, y);
            for d in direction.iter_mut() {
                *d *= gamma;
            }
        }
        for (j, (s, y, rho)) in history.iter().enumerate() {
            let beta = rho * dot64(y, &direction);
            let a = alpha_history[j];
            for (d, &s) in direction.iter_mut().zip(s) {
                *d += (a - beta) * s;
            }
        }
        let mut slope = dot64(&direction, &gradient);
        if slope.is_nan() || slope >= 0.0 {
            history.clear();
            for (d, &g) in direction.iter_mut().zip(&gradient) {
                *d = -g;
            }
            slope = -dot64(&gradient, &gradient);
        }
        // First step (no curvature known yet): at most 1 in max-norm.
        let mut alpha = if history.is_empty() {
            (1.0 / max_norm(&direction)).min(1.0)
        } else {
            1.0
        };
        let mut accepted = None;
        for _ in 0..MAX_TRIALS {
            for ((t, &x), &d) in trial.iter_mut().zip(theta.iter()).zip(&direction) {
                *t = x + alpha * d;
            }
            let value = problem.evaluate(&trial, &mut trial_gradient);
            if value.is_finite() && value <= loss + ARMIJO * alpha * slope {
                accepted = Some(value);
                break;
            }
            // The minimiser of the quadratic through f(0), f'(0) and f(alpha), kept within [0.1, 0.5]·alpha.
            let quadratic = if value.is_finite() {
                -slope * alpha * alpha / (2.0 * (value - loss - slope * alpha))
            } else {
                0.1 * alpha
            };
            alpha = quadratic.clamp(0.1 * alpha, 0.5 * alpha);
        }
        let Some(value) = accepted else {
            if history.is_empty() {
                break; // Even steepest descent cannot decrease it: rounding level.
            }
            history.clear();
            continue;
        };
        iterations += 1;
        let s: Vec<f64> = trial.iter().zip(theta.iter()).map(|(t, x)| t - x).collect();
        let y: Vec<f64> = trial_gradient
            .iter()
            .zip(&gradient)
            .map(|(a, b)| a - b)
            .collect();
        let sy = dot64(&s, &y);
        if sy > 1e-16 * dot64(&y, &y).max(f64::MIN_POSITIVE) && sy > 0.0 {
            if history.len() == MEMORY {
                history.pop_front();
            }
            history.push_back((s, y, 1.0 / sy));
        }
        theta.copy_from_slice(&trial);
        gradient.copy_from_slice(&trial_gradient);
        loss = value;
    }
    Outcome {
        iterations,
        loss,
        gradient,
    }
}

/// A small seeded generator (splitmix64): the fold assignment.
pub(crate) struct SplitMix64(pub u64);

impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (`bound > 0`).
    fn below(&mut self, bound: usize) -> usize {
        ((u128::from(self.next()) * bound as u128) >> 64) as usize
    }
}

/// The fold of each example: stratified (each class's examples shuffled, then dealt round-robin, the deal
/// continuing from class to class so that folds differ in size by at most one).
pub(crate) fn assign_folds(
    labels: &[usize],
    classes: usize,
    folds: usize,
    seed: u64,
) -> Vec<usize> {
    let mut rng = SplitMix64(seed);
    let mut fold_of = vec![0; labels.len()];
    let mut next = 0;
    for class in 0..classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        for i in (1..members.len()).rev() {
            let j = rng.below(i + 1);
            members.swap(i, j);
        }
        for i in members {
            fold_of[i] = next % folds;
            next += 1;
        }
    }
    fold_of
}

/// Leave-one-out or stratified k-fold (see [`Validation`]), each fold warm-started from `theta`.
fn validate(problem: &Problem, theta: &[f64], settings: &Settings) -> Evaluation {
    let n = problem.len();
    let classes = problem.classes;
    let (validation, fold_of, folds) = if n <= LEAVE_ONE_OUT_MAX_EXAMPLES {
        (Validation::LeaveOneOut, (0..n).collect::<Vec<_>>(), n)
    } else {
        let smallest = (0..classes)
            .map(|c| problem.labels.iter().filter(|&&l| l == c).count())
            .min()
            .unwrap_or(0);
        let folds = smallest.clamp(2, K_FOLDS as usize);
        (
            Validation::KFold {
                folds: folds as u32,
            },
            assign_folds(&problem.labels, classes, folds, settings.seed),
            folds,
        )
    };
    let tolerance = settings.tolerance.max(FOLD_TOLERANCE);
    let norm = Norm::Max;
    let mut confusion = vec![vec![0u32; classes]; classes];
    for fold in 0..folds {
        let train: Vec<usize> = (0..n).filter(|&i| fold_of[i] != fold).collect();
        let held: Vec<usize> = (0..n).filter(|&i| fold_of[i] == fold).collect();
        let sub = problem.subset(&train);
        let mut start = theta.to_vec();
        minimize(&sub, &mut start, tolerance, settings.max_iterations, norm);
        for i in held {
            let predicted = problem.predict(&start, problem.row(i));
            confusion[problem.labels[i]][predicted] += 1;
        }
    }
    let correct: u32 = (0..classes).map(|c| confusion[c][c]).sum();
    let per_class = confusion
        .iter()
        .enumerate()
        .map(|(c, row)| {
            let total: u32 = row.iter().sum();
            if total == 0 {
                0.0
            } else {
                row[c] as f32 / total as f32
            }
        })
        .collect();
    Evaluation {
        validation,
        accuracy: correct as f32 / n as f32,
        per_class,
        confusion,
    }
}
