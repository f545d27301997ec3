//! The classes a visitor recorded, checked.

use crate::{MAX_CLASSES, MAX_EXAMPLES_PER_CLASS, MAX_NAME_CHARS, MIN_CLASSES};

/// Why a set of classes cannot be trained (or a head's examples cannot be restored). The messages name the class
/// and say what to do; they are shown to the visitor verbatim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatasetError {
    /// Fewer than [`MIN_CLASSES`] or more than [`MAX_CLASSES`] classes.
    #[error("{MIN_CLASSES} to {MAX_CLASSES} classes are needed, there {}", are(*.count))]
    ClassCount { count: usize },
    /// A name that is empty after trimming. `index`: the class's position, from 0.
    #[error("a class needs a name (class {} has none)", .index + 1)]
    NoName { index: usize },
    /// A name longer than [`MAX_NAME_CHARS`] characters.
    #[error("the class name “{name}” is too long: at most {MAX_NAME_CHARS} characters")]
    NameTooLong { name: String },
    /// Two names equal but for case (and surrounding spaces). `name`: the second one.
    #[error("two classes are named “{name}”: rename one")]
    DuplicateName { name: String },
    /// A class without examples.
    #[error("class “{class}” has no examples: record or add a clip")]
    NoExamples { class: String },
    /// A class with more than [`MAX_EXAMPLES_PER_CLASS`] examples.
    #[error("class “{class}” has {count} examples, at most {MAX_EXAMPLES_PER_CLASS} are allowed: remove some")]
    TooManyExamples { class: String, count: usize },
    /// An example with no values at all.
    #[error("example {} of class “{class}” has no features: record it again", .example + 1)]
    EmptyExample { class: String, example: usize },
    /// An example whose length differs from the first example's (of the first class).
    #[error("example {} of class “{class}” has {found} features, the others {expected}: were its features made by other weights? Record it again", .example + 1)]
    LengthMismatch {
        class: String,
        example: usize,
        expected: usize,
        found: usize,
    },
    /// An example holding NaN or an infinity.
    #[error("example {} of class “{class}” holds a value that is not a finite number: record it again", .example + 1)]
    NonFinite { class: String, example: usize },
    /// (Restoring a head's examples) an example of a class the head does not have.
    #[error("an example belongs to class {} but the head has {classes} classes: the file is damaged", .class + 1)]
    UnknownClass { class: usize, classes: usize },
}

fn are(count: usize) -> String {
    if count == 1 {
        "is 1".to_owned()
    } else {
        format!("are {count}")
    }
}

/// Checks class names and example counts alone: what the page shows before Train (the reason Train is disabled).
///
/// `classes`: (name, number of examples) of each class, in order. Names are trimmed; each must be non-empty, at
/// most [`MAX_NAME_CHARS`] characters, and differ from the others ignoring case. There must be [`MIN_CLASSES`] to
/// [`MAX_CLASSES`] classes, each with 1 to [`MAX_EXAMPLES_PER_CLASS`] examples. The first problem found is
/// returned, in this order: the class count, then every name (blank, too long, a duplicate of an earlier one),
/// then every example count: what a visitor can fix by typing comes before what needs recording.
pub fn check_classes(classes: &[(&str, usize)]) -> Result<(), DatasetError> {
    if !(MIN_CLASSES..=MAX_CLASSES).contains(&classes.len()) {
        return Err(DatasetError::ClassCount {
            count: classes.len(),
        });
    }
    let mut seen: Vec<String> = Vec::with_capacity(classes.len());
    for (index, &(name, _)) in classes.iter().enumerate() {
        let name = check_name(name, index)?;
        let folded = name.to_lowercase();
        if seen.contains(&folded) {
            return Err(DatasetError::DuplicateName {
                name: name.to_owned(),
            });
        }
        seen.push(folded);
    }
    for &(name, count) in classes {
        let name = name.trim();
        if count == 0 {
            return Err(DatasetError::NoExamples {
                class: name.to_owned(),
            });
        }
        if count > MAX_EXAMPLES_PER_CLASS {
            return Err(DatasetError::TooManyExamples {
                class: name.to_owned(),
                count,
            });
        }
    }
    Ok(())
}

/// The trimmed name, if valid.
pub(crate) fn check_name(name: &str, index: usize) -> Result<&str, DatasetError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DatasetError::NoName { index });
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(DatasetError::NameTooLong {
            name: name.to_owned(),
        });
    }
    Ok(name)
}

/// One class as recorded: its name and its examples, one feature vector (I3D `Mixed_5c` pooled, 1024 values
/// for the shipped model) per clip. All examples of all classes have the same length.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Class {
    /// The name, as typed.
    pub name: String,
    /// One feature vector per example.
    pub examples: Vec<Vec<f32>>,
}

/// Classes checked and laid out for training: `len()` examples × `dim()` features, f32, row-major, each with the
/// index of its class. Examples are in class order (all of class 0, then class 1, …), each class's in the order
/// given.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    names: Vec<String>,
    dim: usize,
    /// `len × dim`, row-major.
    features: Vec<f32>,
    /// `len`, each `< names.len()`.
    labels: Vec<usize>,
}

impl Dataset {
    /// Checks the classes (everything [`check_classes`] checks, then that every example has the same non-zero
    /// length and only finite values) and lays them out. Names are stored trimmed.
    pub fn new(classes: Vec<Class>) -> Result<Dataset, DatasetError> {
        let counts: Vec<(&str, usize)> = classes
            .iter()
            .map(|c| (c.name.as_str(), c.examples.len()))
            .collect();
        check_classes(&counts)?;
        let dim = classes
            .first()
            .and_then(|c| c.examples.first())
            .map_or(0, Vec::len);
        let total: usize = counts.iter().map(|&(_, n)| n).sum();
        let mut features = Vec::with_capacity(total * dim);
        let mut labels = Vec::with_capacity(total);
        let mut names = Vec::with_capacity(classes.len());
        for (label, class) in classes.into_iter().enumerate() {
            let name = class.name.trim().to_owned();
            for (example, values) in class.examples.iter().enumerate() {
                if values.is_empty() {
                    return Err(DatasetError::EmptyExample {
                        class: name,
                        example,
                    });
                }
                if values.len() != dim {
                    return Err(DatasetError::LengthMismatch {
                        class: name,
                        example,
                        expected: dim,
                        found: values.len(),
                    });
                }
                if !values.iter().all(|v| v.is_finite()) {
                    return Err(DatasetError::NonFinite {
                        class: name,
                        example,
                    });
                }
                features.extend_from_slice(values);
                labels.push(label);
            }
            names.push(name);
        }
        Ok(Dataset {
            names,
            dim,
            features,
            labels,
        })
    }

    /// The class names, trimmed, in order.
    pub fn classes(&self) -> &[String] {
        &self.names
    }

    /// The number of examples (all classes).
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Always false: a dataset has at least [`MIN_CLASSES`] examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The length of every feature vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The features of example `index` (`dim()` values), if there is one.
    pub fn example(&self, index: usize) -> Option<&[f32]> {
        let start = index.checked_mul(self.dim)?;
        self.features.get(start..start + self.dim)
    }

    /// The class index of every example (`len()` values, each `< classes().len()`).
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// All features, `len() × dim()` row-major.
    pub fn features(&self) -> &[f32] {
        &self.features
    }

    /// The mean feature vector of each class (classes × dim, raw feature units; summed in f64): what "nearest
    /// Kinetics class" compares.
    pub fn class_means(&self) -> Vec<Vec<f32>> {
        let mut sums = vec![vec![0f64; self.dim]; self.names.len()];
        let mut counts = vec![0usize; self.names.len()];
        for (row, &label) in self
            .features
            .chunks_exact(self.dim.max(1))
            .zip(&self.labels)
        {
            counts[label] += 1;
            for (s, &v) in sums[label].iter_mut().zip(row) {
                *s += f64::from(v);
            }
        }
        sums.into_iter()
            .zip(counts)
            .map(|(sum, n)| sum.iter().map(|s| (s / n.max(1) as f64) as f32).collect())
            .collect()
    }

    /// Back to classes (for [`crate::Head::examples`]).
    pub(crate) fn to_examples(&self) -> Vec<crate::Example> {
        self.features
            .chunks_exact(self.dim.max(1))
            .zip(&self.labels)
            .map(|(row, &class)| crate::Example {
                class,
                features: row.to_vec(),
            })
            .collect()
    }
}
