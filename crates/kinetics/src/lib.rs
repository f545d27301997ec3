//! Kinetics annotations, the papers' class taxonomy, and a compact searchable index.
//!
//! This crate is the data layer of Kinetiscope. It has no web or platform dependencies and builds for
//! native targets and `wasm32-unknown-unknown` alike; it never touches the file system or the network:
//! callers hand it bytes.
//!
//! - [`mod@parse`]: reads every official annotation variant (labelled CSV with or without `is_cc`,
//!   unlabelled test CSV, the JSON map) into [`Annotations`], detecting the variant from the content.
//!   Malformed rows are errors naming file, line and field, or can be skipped and counted.
//! - [`taxonomy`]: the 400 Kinetics-400 classes with the paper's clip counts, its 38 parent-child
//!   groupings, the 600 Kinetics-600 classes and what changed between the two, all compiled in.
//! - [`Index`]: clips of one or more files interned into 24-byte records (classes as `u16`, YouTube ids
//!   as `[u8; 11]`, times as `u32` milliseconds), with class × split counts, per-class clip lists sorted
//!   by YouTube id, filters (split, group, dataset version) and merging of newly loaded files.
//! - [`mod@search`]: prefix-first, then fuzzy, case-insensitive search over class and group names.
//! - [`asset`]: a compact binary encoding of [`Annotations`] for the web app; [`bundle`]: the manifest of
//!   the assets bundled with the site (written by `cargo xtask data`, read by the app).
//! - [`export`]: clips written back as an official CSV; [`teach`]: the classroom exercises (the
//!   annotators' verification task, the quiz) and their hard negatives.
//! - [`YoutubeId`]: a validated YouTube id, and the only place where YouTube URLs are built.
//!
//! ```
//! let csv = "label,youtube_id,time_start,time_end,split\nabseiling,0wR5jVB-WPk,417,427,val\n";
//! let annotations = kinetics::parse("val.csv", csv.as_bytes(), &kinetics::ReadOptions::default())?;
//! let mut index = kinetics::Index::new();
//! index.insert(annotations, None, kinetics::Merge::Extend)?;
//! let stats = index.stats(&kinetics::Filter::default());
//! assert_eq!((stats.clips, stats.classes, stats.splits.val), (1, 1, 1));
//! # Ok::<(), kinetics::Error>(())
//! ```

pub mod asset;
pub mod bundle;
mod error;
pub mod export;
pub mod index;
pub mod parse;
pub mod search;
#[cfg(any(test, feature = "synthetic"))]
pub mod synthetic;
pub mod taxonomy;
pub mod teach;
mod youtube;

pub use error::{Error, FieldProblem};
pub use index::{
    ClassId, ClassTable, Clip, Counts, Filter, Index, Merge, SourceId, SourceInfo, Stats,
};
pub use parse::{parse, AnnotatedClip, Annotations, Format, ReadOptions, Segment, Skipped, Split};
pub use search::{search, Hit, MatchKind, SearchOptions, Target};
pub use taxonomy::{Change, Group, Version};
pub use youtube::YoutubeId;
