//! Post-processing: softmax over the 400 logits and the one top-k of the project (ranked classes with
//! their names).

use serde::{Deserialize, Serialize};

/// One ranked class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Output index (0..400): line `index` of the label map.
    pub index: usize,
    /// Class name (`"playing cricket"`), or `"class {index}"` when no label is known.
    pub label: String,
    /// Softmax probability in [0, 1].
    pub prob: f32,
    /// The raw logit.
    pub logit: f32,
}

/// Softmax of `logits` (numerically stable, accumulated in f64). Probabilities sum to 1.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f64> = logits.iter().map(|&l| f64::from(l - max).exp()).collect();
    let total: f64 = exps.iter().sum();
    exps.iter().map(|e| (e / total) as f32).collect()
}

/// Indices of the `k` largest values, largest first (ties: lower index first).
pub fn top_indices(values: &[f32], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    order.truncate(k);
    order
}

/// The `k` most probable classes of `logits` (one clip, 400 values), with their names from `labels`.
pub fn top_k(logits: &[f32], labels: &[String], k: usize) -> Vec<Prediction> {
    let probs = softmax(logits);
    top_indices(logits, k)
        .into_iter()
        .map(|index| Prediction {
            index,
            label: labels
                .get(index)
                .cloned()
                .unwrap_or_else(|| format!("class {index}")),
            prob: probs[index],
            logit: logits[index],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const LABELS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/kinetics/label_map_400.txt"
    );

    fn labels() -> Vec<String> {
        std::fs::read_to_string(LABELS)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn softmax_is_stable_and_normalised() {
        let p = softmax(&[1000.0, 1000.0, 0.0]);
        assert!((p[0] - 0.5).abs() < 1e-6 && (p[1] - 0.5).abs() < 1e-6 && p[2] < 1e-30);
        let p = softmax(&[1.0, 2.0, 3.0]);
        // exp(1..3) / sum, by hand: 0.09003057, 0.24472847, 0.66524096.
        for (a, b) in p.iter().zip([0.090_030_57, 0.244_728_47, 0.665_240_96]) {
            assert!((a - b).abs() < 1e-7);
        }
    }

    #[test]
    fn top_k_names_real_labels() {
        let labels = labels();
        assert_eq!(labels.len(), 400);
        let mut logits = vec![0.0f32; 400];
        logits[227] = 9.0;
        logits[5] = 7.0;
        logits[6] = 7.0;
        let top = top_k(&logits, &labels, 3);
        assert_eq!(top[0].label, "playing cricket");
        assert_eq!([top[0].index, top[1].index, top[2].index], [227, 5, 6]);
        assert!(top[0].prob > top[1].prob && top[1].prob == top[2].prob);
        assert_eq!(top_k(&logits, &[], 1)[0].label, "class 227");
    }
}
