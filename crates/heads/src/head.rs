//! The head file (`*.kinetiscope-head.json`): a trained head, what it was trained on, and how well it did.

use serde::{Deserialize, Serialize};

use crate::dataset::check_name;
use crate::{
    Class, Dataset, DatasetError, Linear, Report, Settings, FORMAT_VERSION, MAX_CLASSES,
    MAX_EXAMPLES_PER_CLASS, MIN_CLASSES,
};

/// One training example kept in a head file: its class (index into [`Head::classes`]) and its raw features
/// ([`Linear::dim`] values). Never video.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Example {
    /// Its class, an index into [`Head::classes`].
    pub class: usize,
    /// Its clip feature (as many values as the head's `linear.dim`).
    pub features: Vec<f32>,
}

/// A trained head, as saved in a head file.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Head {
    /// [`FORMAT_VERSION`].
    pub format: u32,
    /// The class names, trimmed ([`crate::MIN_CLASSES`] to [`crate::MAX_CLASSES`]).
    pub classes: Vec<String>,
    /// Which features the head reads, e.g. "Mixed_5c (mean over time and space)"; given by the caller.
    pub feature_layer: String,
    /// The SHA-256 (hex) of the I3D weights file the features came from: a head fits those weights only.
    pub model_sha256: String,
    /// The classifier, on raw features.
    pub linear: Linear,
    /// How it was trained.
    pub settings: Settings,
    /// How well it did.
    pub report: Report,
    /// The training examples' features, if the visitor kept them (to retrain after a reload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub examples: Option<Vec<Example>>,
}

/// Why a head file cannot be used. Shown to the visitor verbatim.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HeadError {
    /// Not JSON (or cut short): where the reader stopped, from 1.
    #[error("this head file is not valid JSON (line {line}, column {column}: {message}); was it cut short or edited?")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    /// Another format version.
    #[error("this head file has format version {found}, this Kinetiscope reads version {FORMAT_VERSION}: {}", if *.found > u64::from(FORMAT_VERSION) { "it was made by a newer Kinetiscope; reload the page to update" } else { "it was made by an older Kinetiscope; train the head again" })]
    Version { found: u64 },
    /// Made for other I3D weights (the first 12 hex digits of each SHA-256).
    #[error("this head was trained on the features of other I3D weights ({head}…, these are {in_use}…): load those weights or train the head again")]
    OtherModel { head: String, in_use: String },
    /// Well-formed JSON that is not a consistent head.
    #[error("this is not a usable head file: {0}")]
    Invalid(String),
}

/// The first 12 characters of a hash.
fn short(hash: &str) -> String {
    hash.chars().take(12).collect()
}

fn json_error(e: &serde_json::Error) -> HeadError {
    match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => HeadError::Json {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        },
        _ => HeadError::Invalid(e.to_string()),
    }
}

/// Just the format version (any JSON value), whatever else the object holds; only an object is accepted (a derived
/// `Deserialize` would take an array for a struct too).
struct Probe {
    format: Option<serde_json::Value>,
}

impl<'de> Deserialize<'de> for Probe {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Probe, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Probe;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Probe, A::Error> {
                let mut format = None;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if key == "format" {
                        format = Some(map.next_value::<serde_json::Value>()?);
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(Probe { format })
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

impl Head {
    /// The head file's text: compact JSON (20 classes of 1024 weights are about 250 kB; pretty-printed, each number
    /// on its own line, 400 kB).
    pub fn to_json(&self) -> String {
        // A `Head` has string keys and no maps: it always serialises. `unwrap_or_default` keeps the lint.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a head file. `model_sha256`: the SHA-256 (hex, any case) of the weights in use, if known; a head made
    /// for other weights is refused ([`HeadError::OtherModel`]). Checked in this order: JSON syntax
    /// ([`HeadError::Json`] with line and column), the format version ([`HeadError::Version`], read before any
    /// other field so that a future version is reported as such), the fields, the model, then consistency
    /// ([`HeadError::Invalid`]: class names and count, shapes, finite numbers, the report's sizes, the examples).
    pub fn from_json(text: &str, model_sha256: Option<&str>) -> Result<Head, HeadError> {
        let probe: Probe = serde_json::from_str(text).map_err(|e| match json_error(&e) {
            HeadError::Invalid(_) => {
                HeadError::Invalid("it holds no head (a JSON object is expected)".to_owned())
            }
            other => other,
        })?;
        let format = match probe.format {
            None => {
                return Err(HeadError::Invalid(
                    "it has no format version: is it a Kinetiscope head file?".to_owned(),
                ))
            }
            Some(value) => value.as_u64().ok_or_else(|| {
                HeadError::Invalid(format!("its format version is {value}, not a number"))
            })?,
        };
        if format != u64::from(FORMAT_VERSION) {
            return Err(HeadError::Version { found: format });
        }
        let head: Head = serde_json::from_str(text).map_err(|e| json_error(&e))?;
        if let Some(in_use) = model_sha256 {
            if !head.model_sha256.trim().eq_ignore_ascii_case(in_use.trim()) {
                return Err(HeadError::OtherModel {
                    head: short(&head.model_sha256),
                    in_use: short(in_use),
                });
            }
        }
        head.check().map_err(HeadError::Invalid)?;
        Ok(head)
    }

    /// Everything [`Head::from_json`] checks beyond the JSON, the version and the model.
    fn check(&self) -> Result<(), String> {
        let k = self.classes.len();
        if !(MIN_CLASSES..=MAX_CLASSES).contains(&k) {
            return Err(format!(
                "it has {k} classes, a head has {MIN_CLASSES} to {MAX_CLASSES}"
            ));
        }
        let mut seen = Vec::with_capacity(k);
        for (index, name) in self.classes.iter().enumerate() {
            let name = check_name(name, index).map_err(|e| e.to_string())?;
            let folded = name.to_lowercase();
            if seen.contains(&folded) {
                return Err(DatasetError::DuplicateName {
                    name: name.to_owned(),
                }
                .to_string());
            }
            seen.push(folded);
        }
        let linear = &self.linear;
        if linear.classes != k {
            return Err(format!(
                "its weights are for {} classes, it names {k}",
                linear.classes
            ));
        }
        if linear.dim == 0 {
            return Err("its weights read no features".to_owned());
        }
        if linear.classes.checked_mul(linear.dim) != Some(linear.weights.len()) {
            return Err(format!(
                "it has {} weights for {k} classes × {} features",
                linear.weights.len(),
                linear.dim,
            ));
        }
        if linear.bias.len() != k {
            return Err(format!(
                "it has {} biases for {k} classes",
                linear.bias.len()
            ));
        }
        if !linear
            .weights
            .iter()
            .chain(&linear.bias)
            .all(|v| v.is_finite())
        {
            return Err("a weight is not a finite number".to_owned());
        }
        let s = &self.settings;
        if !(s.l2.is_finite() && s.tolerance.is_finite()) {
            return Err("a training setting is not a finite number".to_owned());
        }
        let r = &self.report;
        if !(r.gradient_norm.is_finite() && r.gradient_norm >= 0.0) {
            return Err(
                "its report's gradient norm is not a finite, non-negative number".to_owned(),
            );
        }
        let v = &r.validation;
        if v.per_class.len() != k
            || v.confusion.len() != k
            || v.confusion.iter().any(|row| row.len() != k)
        {
            return Err(format!("its validation report is not for {k} classes"));
        }
        let shares = [r.training_accuracy, v.accuracy]
            .into_iter()
            .chain(v.per_class.iter().copied());
        for share in shares {
            if !(0.0..=1.0).contains(&share) {
                return Err(format!("an accuracy is {share}, not between 0 and 1"));
            }
        }
        if let Some(examples) = &self.examples {
            let mut counts = vec![0usize; k];
            for (i, example) in examples.iter().enumerate() {
                let Some(count) = counts.get_mut(example.class) else {
                    return Err(format!(
                        "example {} is of class {}, there are {k}",
                        i + 1,
                        example.class + 1
                    ));
                };
                *count += 1;
                if example.features.len() != linear.dim {
                    return Err(format!(
                        "example {} has {} features, the weights read {}",
                        i + 1,
                        example.features.len(),
                        linear.dim
                    ));
                }
                if !example.features.iter().all(|v| v.is_finite()) {
                    return Err(format!(
                        "example {} holds a value that is not a finite number",
                        i + 1
                    ));
                }
            }
            if let Some(c) = counts.iter().position(|&n| n > MAX_EXAMPLES_PER_CLASS) {
                return Err(format!(
                    "class “{}” has more than {MAX_EXAMPLES_PER_CLASS} examples",
                    self.classes[c].trim()
                ));
            }
        }
        Ok(())
    }

    /// The top `k` classes for raw `features` ([`Linear::dim`] values) as (class index, probability), best first;
    /// equal probabilities in class order. At most `k` and at most the number of classes; empty when `features` has
    /// another length.
    pub fn top(&self, features: &[f32], k: usize) -> Vec<(usize, f32)> {
        let mut ranked: Vec<(usize, f32)> = self
            .linear
            .probabilities(features)
            .into_iter()
            .enumerate()
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(k);
        ranked
    }

    /// The dataset of [`Head::examples`] (for retraining after a reload), if the head kept them: the classes in
    /// order, each class's examples in file order, checked as by [`Dataset::new`].
    pub fn dataset(&self) -> Option<Result<Dataset, DatasetError>> {
        let examples = self.examples.as_ref()?;
        let mut classes: Vec<Class> = self
            .classes
            .iter()
            .map(|name| Class {
                name: name.clone(),
                examples: Vec::new(),
            })
            .collect();
        for example in examples {
            let count = classes.len();
            let Some(class) = classes.get_mut(example.class) else {
                return Some(Err(DatasetError::UnknownClass {
                    class: example.class,
                    classes: count,
                }));
            };
            class.examples.push(example.features.clone());
        }
        Some(Dataset::new(classes))
    }

    /// A head of `dataset` trained as `linear`, `settings`, `report`; `keep_examples`: keep the examples' features
    /// in the file.
    pub fn new(
        dataset: &Dataset,
        feature_layer: &str,
        model_sha256: &str,
        trained: (Linear, Report),
        settings: Settings,
        keep_examples: bool,
    ) -> Head {
        let (linear, report) = trained;
        Head {
            format: FORMAT_VERSION,
            classes: dataset.classes().to_vec(),
            feature_layer: feature_layer.to_owned(),
            model_sha256: model_sha256.to_owned(),
            linear,
            settings,
            report,
            examples: keep_examples.then(|| dataset.to_examples()),
        }
    }
}
