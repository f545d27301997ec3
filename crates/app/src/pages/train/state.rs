//! What `/train` holds: the visitor's classes and their examples (clip features, never video), the trained or
//! imported head, and what runs. Created once by the app (like the classifier's session), so that a recording or
//! a training still running when the visitor leaves the page finds its state alive, and the examples are still
//! there when they come back.

use std::sync::Arc;

use leptos::prelude::*;

/// One example: a recording, a video or the sample clip, as the clip features of its windows.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// Unique on the page.
    pub id: u32,
    /// Where it came from ("camera", a file's name, "sample clip", "imported").
    pub source: String,
    /// Its length, s (0 when unknown: imported).
    pub seconds: f64,
    /// A small picture of its middle frame (a `data:` URL made by the canvas), when there is one.
    pub thumbnail: Option<String>,
    /// One clip feature (1024 values) per window of [`heads::WINDOW_FRAMES`] frames.
    pub features: Arc<Vec<Vec<f32>>>,
}

/// A class being taught.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassDraft {
    /// Unique on the page.
    pub id: u32,
    /// Its name as typed.
    pub name: String,
    /// Its examples.
    pub examples: Vec<Example>,
}

impl ClassDraft {
    /// The clip features of all its examples.
    pub fn windows(&self) -> usize {
        self.examples.iter().map(|e| e.features.len()).sum()
    }
}

/// `/train`'s state.
#[derive(Clone, Copy)]
pub struct Trainer {
    /// The classes, in the order shown (and of the head's outputs once trained).
    pub classes: RwSignal<Vec<ClassDraft>>,
    /// The next id of a class or an example.
    next_id: RwSignal<u32>,
    /// What runs now, in words (a countdown, a recording, windows being read); `None` when idle.
    pub busy: RwSignal<Option<String>>,
    /// The task that set `busy` ([`Trainer::begin`]): a task that ends clears `busy` only if it is still its own.
    busy_task: RwSignal<u32>,
    /// Whether the visitor changed the classes (or a head replaced them) since the page opened: the head saved on
    /// the device is then not restored over them.
    pub edited: RwSignal<bool>,
    /// The last failure, in words; cleared by the next action.
    pub error: RwSignal<Option<String>>,
    /// The head in use: trained here or imported.
    pub head: RwSignal<Option<Arc<heads::Head>>>,
    /// The training's wall time, ms (none for an imported head).
    pub train_ms: RwSignal<Option<f64>>,
    /// For each class of the head, its nearest Kinetics classes: (model index, cosine).
    pub nearest: RwSignal<Vec<Vec<(usize, f32)>>>,
    /// Bytes of the head saved on this device; `None` when none is.
    pub stored: RwSignal<Option<usize>>,
    /// Seconds a camera recording lasts.
    pub seconds: RwSignal<u32>,
    /// Whether exports carry the examples' features.
    pub export_examples: RwSignal<bool>,
    /// Whether the saved head was looked for (once per visit of the app).
    pub restored: RwSignal<bool>,
}

impl Trainer {
    /// Two empty classes, as a start.
    pub fn new() -> Self {
        let trainer = Self {
            classes: RwSignal::new(Vec::new()),
            next_id: RwSignal::new(0),
            busy: RwSignal::new(None),
            busy_task: RwSignal::new(0),
            edited: RwSignal::new(false),
            error: RwSignal::new(None),
            head: RwSignal::new(None),
            train_ms: RwSignal::new(None),
            nearest: RwSignal::new(Vec::new()),
            stored: RwSignal::new(None),
            seconds: RwSignal::new(DEFAULT_SECONDS),
            export_examples: RwSignal::new(false),
            restored: RwSignal::new(false),
        };
        trainer.add_class();
        trainer.add_class();
        trainer
    }

    /// Starts a task that shows `what` as busy; returns its number, for [`Self::say`] and [`Self::end`].
    pub fn begin(&self, what: &str) -> u32 {
        let task = self.busy_task.get_untracked() + 1;
        self.busy_task.set(task);
        self.busy.set(Some(what.to_owned()));
        task
    }

    /// What task `task` is doing now, if it is still the one shown.
    pub fn say(&self, task: u32, what: String) {
        if self.busy_task.get_untracked() == task {
            self.busy.set(Some(what));
        }
    }

    /// Task `task` ended: idle, unless another task started since.
    pub fn end(&self, task: u32) {
        if self.busy_task.get_untracked() == task {
            self.busy.set(None);
        }
    }

    /// A fresh id.
    pub fn id(&self) -> u32 {
        let id = self.next_id.get_untracked();
        self.next_id.set(id + 1);
        id
    }

    /// Adds an empty class named "Class N" (a name no class has), unless there are [`heads::MAX_CLASSES`].
    pub fn add_class(&self) {
        let id = self.id();
        self.classes.update(|classes| {
            if classes.len() >= heads::MAX_CLASSES {
                return;
            }
            let name = (1..)
                .map(|n| format!("Class {n}"))
                .find(|name| !classes.iter().any(|c| c.name.eq_ignore_ascii_case(name)))
                .unwrap_or_default();
            classes.push(ClassDraft {
                id,
                name,
                examples: Vec::new(),
            });
        });
    }

    /// Adds `example` to class `class` (if it is still there), within [`heads::MAX_EXAMPLES_PER_CLASS`] windows:
    /// the windows beyond are dropped, and the visitor told.
    pub fn add_example(&self, class: u32, mut example: Example) {
        let mut dropped = 0;
        let mut found = false;
        let source = example.source.clone();
        self.edited.set(true);
        self.classes.update(|classes| {
            if let Some(draft) = classes.iter_mut().find(|c| c.id == class) {
                found = true;
                let room = heads::MAX_EXAMPLES_PER_CLASS.saturating_sub(draft.windows());
                if example.features.len() > room {
                    dropped = example.features.len() - room;
                    let kept = example.features[..room].to_vec();
                    example.features = Arc::new(kept);
                }
                if !example.features.is_empty() {
                    draft.examples.push(example);
                }
            }
        });
        if !found {
            self.error.set(Some(format!(
                "{source}: its action was deleted (or replaced by an imported head) while it was read, so it was not kept."
            )));
        } else if dropped > 0 {
            self.error.set(Some(format!(
                "A class holds at most {} windows: {dropped} were left out. Delete an example to make room.",
                heads::MAX_EXAMPLES_PER_CLASS
            )));
        }
    }

    /// Why Train cannot run now, in words; `None` when it can.
    pub fn cannot_train(&self) -> Option<String> {
        self.classes.with(|classes| {
            let counts: Vec<(&str, usize)> = classes
                .iter()
                .map(|c| (c.name.as_str(), c.windows()))
                .collect();
            heads::check_classes(&counts).err().map(|e| e.to_string())
        })
    }

    /// The classes as the trainer takes them.
    pub fn dataset(&self) -> Vec<heads::Class> {
        self.classes.with_untracked(|classes| {
            classes
                .iter()
                .map(|c| heads::Class {
                    name: c.name.trim().to_owned(),
                    examples: c
                        .examples
                        .iter()
                        .flat_map(|e| e.features.iter().cloned())
                        .collect(),
                })
                .collect()
        })
    }

    /// Replaces the classes with a head's (its examples' features when it has them, one example per class).
    pub fn restore_classes(&self, head: &heads::Head) {
        let mut classes: Vec<ClassDraft> = head
            .classes
            .iter()
            .map(|name| ClassDraft {
                id: self.id(),
                name: name.clone(),
                examples: Vec::new(),
            })
            .collect();
        for (index, class) in classes.iter_mut().enumerate() {
            let features: Vec<Vec<f32>> = head
                .examples
                .iter()
                .flatten()
                .filter(|e| e.class == index)
                .map(|e| e.features.clone())
                .collect();
            if !features.is_empty() {
                class.examples.push(Example {
                    id: self.id(),
                    source: "saved with the head".into(),
                    seconds: 0.0,
                    thumbnail: None,
                    features: Arc::new(features),
                });
            }
        }
        self.classes.set(classes);
    }
}

impl Default for Trainer {
    fn default() -> Self {
        Self::new()
    }
}

/// Seconds a recording lasts unless the visitor picks another length.
pub const DEFAULT_SECONDS: u32 = 3;

/// The recording lengths offered, s (at most 10: a recording's frames are held in memory until read).
pub const RECORDING_SECONDS: [u32; 5] = [2, 3, 5, 8, 10];

/// The mean clip feature of each of the head's classes, from its examples; `None` when it has none (an
/// exported head without them).
pub fn class_means(head: &heads::Head) -> Option<Vec<Vec<f32>>> {
    let examples = head.examples.as_ref()?;
    let dim = head.linear.dim;
    let mut sums = vec![vec![0.0f32; dim]; head.classes.len()];
    let mut counts = vec![0usize; head.classes.len()];
    for example in examples {
        if let (Some(sum), Some(count)) =
            (sums.get_mut(example.class), counts.get_mut(example.class))
        {
            for (s, v) in sum.iter_mut().zip(&example.features) {
                *s += v;
            }
            *count += 1;
        }
    }
    for (sum, &count) in sums.iter_mut().zip(&counts) {
        for s in sum.iter_mut() {
            *s /= count.max(1) as f32;
        }
    }
    Some(sums)
}
