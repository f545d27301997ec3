//! Few-shot heads on I3D's clip features.
//!
//! A visitor records a few clips of each of their own actions; every clip gives one feature vector (I3D's
//! `Mixed_5c` output averaged over time and space: 1024 values, no unit). This crate
//!
//! - checks the classes ([`check_classes`] on names and counts alone, [`Dataset::new`] on the features too),
//! - trains a multinomial logistic regression on them ([`train`]: softmax, L2, L-BFGS; written here, it is the
//!   product, not a dependency) and evaluates it (leave-one-out or stratified k-fold),
//! - reads and writes the head file ([`Head`], `*.kinetiscope-head.json`).
//!
//! It runs in the browser's worker (wasm32, one thread), on the page (the file format and the checks) and in the
//! command line: no threads, no I/O, no clock. Every result is a pure function of its inputs: the same examples,
//! settings and seed give a bit-identical head on every platform that rounds IEEE 754 the same way.
//!
//! Error messages are shown to the visitor verbatim: each says what is wrong and what to do.

mod dataset;
mod head;
mod train;

#[cfg(test)]
mod tests;

pub use dataset::{check_classes, Class, Dataset, DatasetError};
pub use head::{Example, Head, HeadError};
pub use train::{train, Evaluation, Linear, Report, Settings, TrainError, Validation};

/// The version of the head file ([`Head::format`]). [`Head::from_json`] reads this version only.
pub const FORMAT_VERSION: u32 = 1;
/// How the name of a head file ends.
pub const FILE_SUFFIX: &str = ".kinetiscope-head.json";
/// The fewest classes a head has.
pub const MIN_CLASSES: usize = 2;
/// The most classes a head has.
pub const MAX_CLASSES: usize = 20;
/// The most examples (feature vectors, one per clip) a class may have.
pub const MAX_EXAMPLES_PER_CLASS: usize = 100;
/// The longest class name, in characters (Unicode scalar values) after trimming.
pub const MAX_NAME_CHARS: usize = 40;
/// Datasets of up to this many examples are evaluated leave-one-out, larger ones by stratified k-fold.
pub const LEAVE_ONE_OUT_MAX_EXAMPLES: usize = 60;
/// The number of folds of the k-fold evaluation (fewer when a class has fewer examples, at least 2).
pub const K_FOLDS: u32 = 5;

/// The largest head file read, bytes: 20 classes of 100 examples' features (1024 values each, about 12 characters
/// a value) are about 25 MB; a file over this is refused before it is read.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Frames read from a clip for its examples: its first 10 s at 25 fps (the length of a Kinetics clip), in the app
/// and the command line alike.
pub const MAX_EXAMPLE_FRAMES: usize = 250;

/// Frames of the windows a clip is cut into for its examples (at 25 fps, 0.64 s): each window gives one clip
/// feature. The app (a recording, a video) and the command line (`kinetiscope train`) cut clips the same way.
pub const WINDOW_FRAMES: usize = 16;
/// Frames between the starts of two windows (they overlap by half).
pub const WINDOW_STRIDE: usize = 8;

/// The first frame of each window of a clip of `frames` frames: every [`WINDOW_STRIDE`] frames while a whole
/// [`WINDOW_FRAMES`]-frame window fits; none for a clip shorter than one window.
pub fn window_starts(frames: usize) -> Vec<usize> {
    if frames < WINDOW_FRAMES {
        return Vec::new();
    }
    (0..=frames - WINDOW_FRAMES)
        .step_by(WINDOW_STRIDE)
        .collect()
}
