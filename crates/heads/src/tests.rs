#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::train::{assign_folds, fit, standardization, SplitMix64};
use crate::*;

/// The seed of every synthetic dataset below.
const DATA_SEED: u64 = 0x5EED_0001;
/// A second training seed (k-fold assignment).
const OTHER_SEED: u64 = 0xD1FF;
/// A model hash for the head files.
const MODEL: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const OTHER_MODEL: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

/// Standard normal draws (Box–Muller) from splitmix64.
struct Gauss(SplitMix64);

impl Gauss {
    fn new(seed: u64) -> Gauss {
        Gauss(SplitMix64(seed))
    }
    fn uniform(&mut self) -> f64 {
        ((self.0.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// `classes` classes of `per_class` examples of `dim` values: each class a random centre (normal × `spread`)
/// plus normal noise × `noise`, all offset by +1 (positive-ish, like pooled ReLU features).
fn synthetic(
    classes: usize,
    per_class: usize,
    dim: usize,
    spread: f64,
    noise: f64,
    seed: u64,
) -> Vec<Class> {
    let mut g = Gauss::new(seed);
    (0..classes)
        .map(|c| {
            let centre: Vec<f64> = (0..dim).map(|_| 1.0 + spread * g.normal()).collect();
            Class {
                name: format!("action {c}"),
                examples: (0..per_class)
                    .map(|_| {
                        centre
                            .iter()
                            .map(|m| (m + noise * g.normal()) as f32)
                            .collect()
                    })
                    .collect(),
            }
        })
        .collect()
}

fn dataset(classes: usize, per_class: usize, dim: usize, spread: f64, noise: f64) -> Dataset {
    Dataset::new(synthetic(classes, per_class, dim, spread, noise, DATA_SEED)).unwrap()
}

/// The objective's gradient (W then b, standardized space) recomputed from scratch in f64 from the raw dataset,
/// standardized in f64 here.
fn gradient_from_scratch(data: &Dataset, weights: &[f64], bias: &[f64], l2: f64) -> Vec<f64> {
    let (n, d, k) = (data.len(), data.dim(), data.classes().len());
    let (mean, inv_std) = standardization(data.features(), n, d);
    let mut gw = vec![0f64; k * d];
    let mut gb = vec![0f64; k];
    for i in 0..n {
        let x: Vec<f64> = data
            .example(i)
            .unwrap()
            .iter()
            .zip(&mean)
            .zip(&inv_std)
            .map(|((&x, m), s)| (f64::from(x) - m) * s)
            .collect();
        let z: Vec<f64> = (0..k)
            .map(|c| (0..d).map(|j| weights[c * d + j] * x[j]).sum::<f64>() + bias[c])
            .collect();
        let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = z.iter().map(|z| (z - max).exp()).sum();
        for c in 0..k {
            let p = (z[c] - max).exp() / sum;
            let r = p - f64::from(u8::from(c == data.labels()[i]));
            gb[c] += r / n as f64;
            for j in 0..d {
                gw[c * d + j] += r * x[j] / n as f64;
            }
        }
    }
    for (g, w) in gw.iter_mut().zip(weights) {
        *g += l2 * w;
    }
    gw.extend(gb);
    gw
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

// 1. Separable data: everything right, trained and held out.

#[test]
fn separable_classes_are_learned_and_validated_perfectly() {
    let data = dataset(4, 10, 64, 3.0, 0.3);
    let (linear, report) = train(&data, &Settings::default()).unwrap();
    assert_eq!(report.examples, 40);
    assert_eq!(report.training_accuracy, 1.0);
    assert_eq!(report.validation.validation, Validation::LeaveOneOut);
    assert_eq!(report.validation.accuracy, 1.0);
    assert_eq!(report.validation.per_class, vec![1.0; 4]);
    for (t, row) in report.validation.confusion.iter().enumerate() {
        for (p, &count) in row.iter().enumerate() {
            assert_eq!(count, if t == p { 10 } else { 0 }, "{t} {p}");
        }
    }
    assert!(
        f64::from(report.gradient_norm) <= Settings::default().tolerance,
        "{}",
        report.gradient_norm
    );
    // The raw-space head classifies the raw examples.
    for i in 0..data.len() {
        let p = linear.probabilities(data.example(i).unwrap());
        let best = (0..4).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
        assert_eq!(best, data.labels()[i]);
    }
}

/// Few examples of many dimensions: solved in the examples' span (the basis), still exact in the full space.
#[test]
fn few_examples_of_many_dimensions_are_solved_in_their_span() {
    let data = dataset(4, 5, 1024, 1.0, 1.0);
    let settings = Settings::default();
    let fit = fit(&data, &settings).unwrap();
    assert_eq!(fit.report.training_accuracy, 1.0);
    assert_eq!(fit.report.validation.accuracy, 1.0);
    assert!(
        f64::from(fit.report.gradient_norm) <= settings.tolerance,
        "{}",
        fit.report.gradient_norm
    );
    let g = gradient_from_scratch(&data, &fit.weights, &fit.bias, f64::from(settings.l2));
    assert!(max_abs(&g) < 1e-6, "{}", max_abs(&g));
}

// 2. Converged: the gradient, recomputed independently, is (nearly) zero.

#[test]
fn a_small_overlapping_problem_converges_to_a_zero_gradient() {
    let data = dataset(3, 6, 8, 0.5, 1.0);
    let settings = Settings::default();
    let fit = fit(&data, &settings).unwrap();
    let report = &fit.report;
    assert!(report.gradient_norm < 1e-6, "{}", report.gradient_norm);
    assert!(
        report.training_accuracy < 1.0 || report.validation.accuracy < 1.0,
        "overlapping: {report:?}"
    );
    // From the trainer's own standardized-space solution (f64).
    let g = gradient_from_scratch(&data, &fit.weights, &fit.bias, f64::from(settings.l2));
    assert!(max_abs(&g) < 1e-6, "{}", max_abs(&g));
    // From the saved raw-space head (f32), transformed back: w = w_raw · std, b = b_raw + Σ w_raw · mean.
    let (d, k) = (data.dim(), 3);
    let (mean, inv_std) = standardization(data.features(), data.len(), d);
    let weights: Vec<f64> = (0..k * d)
        .map(|i| {
            let s = inv_std[i % d];
            if s == 0.0 {
                0.0
            } else {
                f64::from(fit.linear.weights[i]) / s
            }
        })
        .collect();
    let bias: Vec<f64> = (0..k)
        .map(|c| {
            f64::from(fit.linear.bias[c])
                + (0..d)
                    .map(|j| f64::from(fit.linear.weights[c * d + j]) * mean[j])
                    .sum::<f64>()
        })
        .collect();
    let g = gradient_from_scratch(&data, &weights, &bias, f64::from(settings.l2));
    // The head's f32 rounding (relative 6e-8 of each weight) is all that separates it from the solution.
    assert!(max_abs(&g) < 1e-5, "{}", max_abs(&g));
}

// 3. Determinism.

#[test]
fn the_same_seed_gives_the_same_head_and_other_seeds_only_other_folds() {
    let data = dataset(3, 25, 16, 0.4, 1.0);
    assert!(data.len() > LEAVE_ONE_OUT_MAX_EXAMPLES);
    let settings = Settings::default();
    let (a, report_a) = train(&data, &settings).unwrap();
    let (b, report_b) = train(&data, &settings).unwrap();
    assert_eq!(a, b);
    assert_eq!(report_a, report_b);
    assert_eq!(
        report_a.validation.validation,
        Validation::KFold { folds: K_FOLDS }
    );
    let other = Settings {
        seed: OTHER_SEED,
        ..settings.clone()
    };
    let (c, report_c) = train(&data, &other).unwrap();
    assert_eq!(a, c, "the head does not depend on the seed");
    assert_eq!(report_a.training_accuracy, report_c.training_accuracy);
    assert_eq!(report_a.iterations, report_c.iterations);
    assert_eq!(report_a.gradient_norm, report_c.gradient_norm);
    assert_eq!(
        report_a.validation.validation,
        report_c.validation.validation
    );
    // The seed does change the folds.
    let folds_a = assign_folds(data.labels(), 3, 5, settings.seed);
    let folds_c = assign_folds(data.labels(), 3, 5, OTHER_SEED);
    assert_ne!(folds_a, folds_c);
    // Stratified: each fold holds 5 examples of each class.
    for fold in 0..5 {
        for class in 0..3 {
            let count = (0..data.len())
                .filter(|&i| folds_a[i] == fold && data.labels()[i] == class)
                .count();
            assert_eq!(count, 5, "fold {fold} class {class}");
        }
    }
}

#[test]
fn a_class_of_two_examples_gives_two_folds() {
    let mut classes = synthetic(3, 30, 8, 2.0, 0.5, DATA_SEED);
    classes[1].examples.truncate(2);
    let data = Dataset::new(classes).unwrap();
    let (_, report) = train(&data, &Settings::default()).unwrap();
    assert_eq!(report.validation.validation, Validation::KFold { folds: 2 });
    let total: u32 = report.validation.confusion.iter().flatten().sum();
    assert_eq!(total as usize, data.len());
}

// 4. Dataset errors.

fn class(name: &str, examples: usize, dim: usize) -> Class {
    Class {
        name: name.to_owned(),
        examples: vec![vec![0.5; dim]; examples],
    }
}

#[test]
fn dataset_errors_name_the_class_and_what_to_do() {
    let err = |classes: Vec<Class>| Dataset::new(classes).unwrap_err();
    assert_eq!(
        err(vec![class("wave", 3, 4)]),
        DatasetError::ClassCount { count: 1 }
    );
    assert_eq!(
        err(vec![class("wave", 3, 4)]).to_string(),
        "2 to 20 classes are needed, there is 1"
    );
    let many: Vec<Class> = (0..21).map(|i| class(&format!("c{i}"), 1, 4)).collect();
    assert_eq!(
        err(many).to_string(),
        "2 to 20 classes are needed, there are 21"
    );
    assert_eq!(
        err(vec![class("wave", 3, 4), class("clap", 0, 4)]).to_string(),
        "class “clap” has no examples: record or add a clip"
    );
    assert_eq!(
        err(vec![class("Clap", 3, 4), class(" clap ", 3, 4)]).to_string(),
        "two classes are named “clap”: rename one"
    );
    assert_eq!(
        err(vec![class("wave", 3, 4), class("   ", 3, 4)]),
        DatasetError::NoName { index: 1 }
    );
    assert!(err(vec![class("wave", 3, 4), class("", 3, 4)])
        .to_string()
        .starts_with("a class needs a name"));
    let long = "x".repeat(MAX_NAME_CHARS + 1);
    assert!(err(vec![class("wave", 3, 4), class(&long, 3, 4)])
        .to_string()
        .contains(&long));
    // 40 characters (not bytes) are fine.
    let accented = "é".repeat(MAX_NAME_CHARS);
    Dataset::new(vec![class("wave", 3, 4), class(&accented, 3, 4)]).unwrap();

    let mut nan = class("wave", 3, 4);
    nan.examples[2][1] = f32::NAN;
    assert_eq!(
        err(vec![class("clap", 3, 4), nan]).to_string(),
        "example 3 of class “wave” holds a value that is not a finite number: record it again"
    );
    let mut infinite = class("wave", 3, 4);
    infinite.examples[0][0] = f32::INFINITY;
    assert_eq!(
        err(vec![class("clap", 3, 4), infinite]),
        DatasetError::NonFinite {
            class: "wave".to_owned(),
            example: 0
        }
    );
    let mut short = class("wave", 3, 4);
    short.examples[1].pop();
    let e = err(vec![class("clap", 3, 4), short]);
    assert_eq!(
        e,
        DatasetError::LengthMismatch {
            class: "wave".to_owned(),
            example: 1,
            expected: 4,
            found: 3
        }
    );
    assert!(e.to_string().contains("“wave”"), "{e}");
    let e = err(vec![class("clap", 3, 0), class("wave", 3, 0)]);
    assert_eq!(
        e,
        DatasetError::EmptyExample {
            class: "clap".to_owned(),
            example: 0
        }
    );
    let e = err(vec![
        class("clap", 3, 4),
        class("wave", MAX_EXAMPLES_PER_CLASS + 1, 4),
    ]);
    assert_eq!(
        e.to_string(),
        "class “wave” has 101 examples, at most 100 are allowed: remove some"
    );
}

#[test]
fn check_classes_tells_why_train_is_disabled() {
    assert_eq!(check_classes(&[("wave", 2), ("clap", 1)]), Ok(()));
    assert_eq!(
        check_classes(&[]),
        Err(DatasetError::ClassCount { count: 0 })
    );
    assert_eq!(
        check_classes(&[("wave", 2), ("clap", 0)]),
        Err(DatasetError::NoExamples {
            class: "clap".to_owned()
        })
    );
    assert_eq!(
        check_classes(&[("wave", 2), ("WAVE", 2)]),
        Err(DatasetError::DuplicateName {
            name: "WAVE".to_owned()
        })
    );
    assert_eq!(
        check_classes(&[("wave", 2), (" ", 2)])
            .unwrap_err()
            .to_string(),
        "a class needs a name (class 2 has none)"
    );
}

#[test]
fn names_are_trimmed_and_class_means_are_per_class() {
    let data = Dataset::new(vec![
        Class {
            name: "  wave ".to_owned(),
            examples: vec![vec![1.0, 2.0], vec![3.0, 4.0]],
        },
        Class {
            name: "clap".to_owned(),
            examples: vec![vec![-1.0, 0.0]],
        },
    ])
    .unwrap();
    assert_eq!(data.classes(), ["wave", "clap"]);
    assert_eq!((data.len(), data.dim(), data.is_empty()), (3, 2, false));
    assert_eq!(data.class_means(), vec![vec![2.0, 3.0], vec![-1.0, 0.0]]);
}

#[test]
fn invalid_settings_are_refused() {
    let data = dataset(2, 3, 4, 1.0, 1.0);
    for settings in [
        Settings {
            l2: 0.0,
            ..Settings::default()
        },
        Settings {
            l2: f32::NAN,
            ..Settings::default()
        },
        Settings {
            max_iterations: 0,
            ..Settings::default()
        },
        Settings {
            tolerance: -1.0,
            ..Settings::default()
        },
    ] {
        assert!(
            matches!(train(&data, &settings), Err(TrainError::Settings(_))),
            "{settings:?}"
        );
    }
}

// 5. The head file.

fn head(keep_examples: bool) -> Head {
    let data = dataset(3, 4, 16, 2.0, 0.5);
    let settings = Settings::default();
    let trained = train(&data, &settings).unwrap();
    Head::new(
        &data,
        "Mixed_5c (mean over time and space)",
        MODEL,
        trained,
        settings,
        keep_examples,
    )
}

#[test]
fn a_head_file_reads_back_equal() {
    for keep in [false, true] {
        let head = head(keep);
        let text = head.to_json();
        assert_eq!(text.contains("\"examples\":["), keep);
        assert_eq!(Head::from_json(&text, Some(MODEL)).unwrap(), head);
        assert_eq!(
            Head::from_json(&text, Some(&MODEL.to_uppercase())).unwrap(),
            head
        );
        assert_eq!(Head::from_json(&text, None).unwrap(), head);
    }
}

#[test]
fn a_head_keeps_its_examples_to_retrain() {
    let head = head(true);
    let data = head.dataset().unwrap().unwrap();
    assert_eq!(data, dataset(3, 4, 16, 2.0, 0.5));
    let (linear, _) = train(&data, &head.settings).unwrap();
    assert_eq!(linear, head.linear);
    assert!(self::head(false).dataset().is_none());
    let mut bad = head.clone();
    bad.examples.as_mut().unwrap()[0].class = 7;
    assert_eq!(
        bad.dataset().unwrap(),
        Err(DatasetError::UnknownClass {
            class: 7,
            classes: 3
        })
    );
}

#[test]
fn a_head_for_other_weights_is_refused_naming_both() {
    let text = head(false).to_json();
    let e = Head::from_json(&text, Some(OTHER_MODEL)).unwrap_err();
    assert_eq!(
        e,
        HeadError::OtherModel {
            head: MODEL[..12].to_owned(),
            in_use: OTHER_MODEL[..12].to_owned()
        }
    );
    let message = e.to_string();
    assert!(
        message.contains("0123456789ab") && message.contains("fedcba987654"),
        "{message}"
    );
}

#[test]
fn another_format_version_is_refused_before_anything_else() {
    let mut value: serde_json::Value = serde_json::from_str(&head(false).to_json()).unwrap();
    value["format"] = 2.into();
    // A future version may change every other field too.
    value["linear"] = "something else".into();
    let e = Head::from_json(&value.to_string(), Some(OTHER_MODEL)).unwrap_err();
    assert_eq!(e, HeadError::Version { found: 2 });
    assert!(e.to_string().contains("newer"), "{e}");
    assert_eq!(
        Head::from_json(r#"{"format": 0}"#, None),
        Err(HeadError::Version { found: 0 })
    );
    assert!(matches!(
        Head::from_json(r#"{"classes": []}"#, None),
        Err(HeadError::Invalid(_))
    ));
    assert!(matches!(
        Head::from_json("[1, 2]", None),
        Err(HeadError::Invalid(_))
    ));
    assert!(matches!(
        Head::from_json(r#"{"format": "1"}"#, None),
        Err(HeadError::Invalid(_))
    ));
}

#[test]
fn a_truncated_file_is_a_json_error_with_its_position() {
    let text = head(true).to_json();
    let half = &text[..text.len() / 2];
    let Err(HeadError::Json { line, column, .. }) = Head::from_json(half, Some(MODEL)) else {
        panic!("expected a JSON error")
    };
    let last_line = half.lines().count();
    assert_eq!(line, last_line);
    assert!(column > 0);
    let e = Head::from_json("{\n  \"format\": 1,\n  oops\n}", None).unwrap_err();
    assert!(
        matches!(
            e,
            HeadError::Json {
                line: 3,
                column: 3,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("line 3, column 3"), "{e}");
}

#[test]
fn an_inconsistent_head_is_invalid() {
    let good = head(true);
    let invalid = |change: &dyn Fn(&mut Head)| {
        let mut head = good.clone();
        change(&mut head);
        let e = Head::from_json(&head.to_json(), Some(MODEL)).unwrap_err();
        assert!(matches!(e, HeadError::Invalid(_)), "{e:?}");
        e.to_string()
    };
    let message = invalid(&|h| {
        h.linear.weights.pop();
    });
    assert!(message.contains("47 weights"), "{message}");
    invalid(&|h| h.linear.bias.push(0.0));
    invalid(&|h| h.linear.classes = 4);
    invalid(&|h| h.classes.push("extra".to_owned()));
    invalid(&|h| h.classes[1] = h.classes[0].to_uppercase());
    invalid(&|h| h.classes[1] = " ".to_owned());
    invalid(&|h| h.classes.truncate(1));
    invalid(&|h| h.report.validation.per_class.pop().map(drop).unwrap_or(()));
    invalid(&|h| h.report.validation.confusion[2].push(1));
    invalid(&|h| h.report.training_accuracy = 1.5);
    invalid(&|h| {
        h.examples.as_mut().unwrap()[3]
            .features
            .pop()
            .map(drop)
            .unwrap_or(())
    });
    invalid(&|h| h.examples.as_mut().unwrap()[3].class = 3);
    // Non-finite numbers are written as null by serde_json: a field error, reported as invalid.
    invalid(&|h| h.linear.weights[5] = f32::NAN);
    let mut text = good.to_json();
    text = text.replacen("\"bias\":[", "\"bias\":[1e999,", 1);
    assert!(text.contains("1e999"));
    assert!(Head::from_json(&text, Some(MODEL)).is_err());
}

#[test]
fn top_ranks_classes_by_probability_ties_by_index() {
    let head = Head {
        format: FORMAT_VERSION,
        classes: vec!["a".into(), "b".into(), "c".into()],
        feature_layer: String::new(),
        model_sha256: MODEL.into(),
        linear: Linear {
            classes: 3,
            dim: 2,
            weights: vec![0.0, 0.0, 1.0, 0.0, 1.0, 0.0],
            bias: vec![0.0, 0.0, 0.0],
        },
        settings: Settings::default(),
        report: head(false).report,
        examples: None,
    };
    let top = head.top(&[1.0, 0.0], 3);
    assert_eq!(top.iter().map(|t| t.0).collect::<Vec<_>>(), vec![1, 2, 0]);
    assert!((top[0].1 - top[1].1).abs() < 1e-7);
    assert!((top.iter().map(|t| t.1).sum::<f32>() - 1.0).abs() < 1e-6);
    assert_eq!(head.top(&[1.0, 0.0], 1).len(), 1);
    assert!(head.top(&[1.0], 2).is_empty());
    assert_eq!(head.linear.row(2), Some(&[1.0, 0.0][..]));
    assert_eq!(head.linear.row(3), None);
}

// 7. The raw-space head computes the standardized-space logits.

#[test]
fn raw_logits_equal_standardized_logits() {
    let mut classes = synthetic(5, 8, 32, 1.0, 1.0, DATA_SEED);
    // A constant dimension, ignored.
    for c in &mut classes {
        for e in &mut c.examples {
            e[7] = 3.25;
        }
    }
    let data = Dataset::new(classes).unwrap();
    let fit = fit(&data, &Settings::default()).unwrap();
    assert_eq!(fit.inv_std[7], 0.0);
    let d = data.dim();
    let mut g = Gauss::new(DATA_SEED + 1);
    for i in 0..data.len() + 10 {
        // The examples, and a few new feature vectors.
        let x: Vec<f32> = match data.example(i) {
            Some(x) => x.to_vec(),
            None => (0..d).map(|_| (1.0 + 1.5 * g.normal()) as f32).collect(),
        };
        let raw = fit.linear.logits(&x);
        for (k, &logit) in raw.iter().enumerate() {
            let standardized = (0..d)
                .map(|j| fit.weights[k * d + j] * (f64::from(x[j]) - fit.mean[j]) * fit.inv_std[j])
                .sum::<f64>()
                + fit.bias[k];
            let scale = standardized.abs().max(1.0);
            assert!(
                (f64::from(logit) - standardized).abs() <= 1e-4 * scale,
                "example {i} class {k}: {logit} vs {standardized}"
            );
        }
    }
}

// 6. Speed: `cargo test -p heads --release -- --ignored --nocapture speed`.

/// Trains 20 classes × 50 examples × 1024 values five times and prints each time and the median.
#[test]
#[ignore = "a timing, not a check: run it with --ignored --nocapture"]
fn speed_20_classes_50_examples_1024_values() {
    let data = dataset(20, 50, 1024, 0.3, 1.0);
    let settings = Settings::default();
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let start = std::time::Instant::now();
        let result = train(&data, &settings).unwrap();
        times.push(start.elapsed().as_secs_f64());
        last = Some(result.1);
    }
    let report = last.unwrap();
    times.sort_by(f64::total_cmp);
    println!(
        "20×50×1024: times {:?} s, median {:.3} s; {} iterations, gradient max-norm {:.2e}, training accuracy {}, {:?} accuracy {}",
        times, times[2], report.iterations, report.gradient_norm, report.training_accuracy,
        report.validation.validation, report.validation.accuracy
    );
}

#[test]
fn windows_start_every_stride_while_a_window_fits() {
    assert!(crate::window_starts(15).is_empty());
    assert_eq!(crate::window_starts(16), vec![0]);
    assert_eq!(crate::window_starts(31), vec![0, 8]);
    // The shared cricket clip: 79 frames.
    assert_eq!(crate::window_starts(79), vec![0, 8, 16, 24, 32, 40, 48, 56]);
    assert_eq!(Validation::LeaveOneOut.to_string(), "leave-one-out");
    assert_eq!(
        Validation::KFold { folds: 5 }.to_string(),
        "5-fold cross-validation"
    );
}

#[test]
fn examples_that_are_all_the_same_are_refused_not_trained() {
    let same = vec![0.25f32; 64];
    let classes = vec![
        Class {
            name: "wave".into(),
            examples: vec![same.clone(); 3],
        },
        Class {
            name: "clap".into(),
            examples: vec![same.clone(); 3],
        },
    ];
    let data = Dataset::new(classes).unwrap();
    assert_eq!(
        train(&data, &Settings::default()),
        Err(TrainError::NothingToLearn)
    );
    // Also in the examples' own span (more dimensions than twice the examples).
    let same = vec![1.0f32; 1024];
    let classes = vec![
        Class {
            name: "a".into(),
            examples: vec![same.clone(); 2],
        },
        Class {
            name: "b".into(),
            examples: vec![same.clone(); 2],
        },
    ];
    let data = Dataset::new(classes).unwrap();
    assert_eq!(
        train(&data, &Settings::default()),
        Err(TrainError::NothingToLearn)
    );
}

#[test]
fn a_head_with_an_impossible_report_or_sizes_is_refused_without_overflow() {
    let mut value: serde_json::Value = serde_json::from_str(&head(false).to_json()).unwrap();
    value["report"]["gradient_norm"] = serde_json::json!(1e300);
    assert!(matches!(
        Head::from_json(&value.to_string(), None),
        Err(HeadError::Invalid(_))
    ));
    let mut value: serde_json::Value = serde_json::from_str(&head(false).to_json()).unwrap();
    value["linear"]["dim"] = serde_json::json!(9_223_372_036_854_775_808u64);
    assert!(Head::from_json(&value.to_string(), None).is_err());
}
