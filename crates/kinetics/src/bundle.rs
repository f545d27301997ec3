//! The manifest of the annotation assets bundled with the site (`/data/manifest.json`): the one
//! definition of that file format, written by `cargo xtask data` and read by the web app.
//!
//! It lists each asset (a file of [`crate::asset`]'s encoding, one per official CSV found) with the
//! dataset and split it holds and its counts, and the official files the build did not find (with
//! their URLs, so the app can say where to get them).

use serde::{Deserialize, Serialize};

use crate::Version;

/// The manifest's file name, next to the assets.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Bumped when the manifest layout changes; with [`crate::asset::VERSION`] it decides whether a
/// manifest (and its assets) can be used.
pub const MANIFEST_VERSION: u32 = 1;

/// `/data/manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_VERSION`].
    pub version: u32,
    /// [`crate::asset::VERSION`] of the assets.
    pub asset_version: u8,
    /// The assets, in dataset then split order.
    pub sources: Vec<BundledAsset>,
    /// Official files that were not found.
    pub missing: Vec<MissingFile>,
}

impl Manifest {
    /// Whether this manifest is of the layout and asset encoding this build reads.
    pub fn is_current(&self) -> bool {
        self.version == MANIFEST_VERSION && self.asset_version == crate::asset::VERSION
    }
}

/// One bundled asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundledAsset {
    /// `400`, `600` or `700_2020`.
    pub dataset: String,
    /// `train`, `val` or `test`.
    pub split: String,
    /// Asset file name, next to the manifest.
    pub file: String,
    /// The source name inside the asset (`kinetics-400_val.csv`).
    pub source: String,
    /// Clips in the file.
    pub clips: usize,
    /// Clips with a label.
    pub labelled: usize,
    /// Rows skipped as malformed.
    pub skipped: usize,
    /// Size of the asset, bytes.
    pub bytes: u64,
    /// Where the CSV came from: a URL, or a path relative to the workspace root.
    pub origin: String,
    /// Size of the CSV, bytes (with `input_modified`, decides whether the asset is up to date).
    pub input_bytes: u64,
    /// Modification time of the CSV, seconds since the Unix epoch.
    pub input_modified: u64,
}

impl BundledAsset {
    /// The dataset version its clips belong to (`None` for Kinetics-700).
    pub fn version(&self) -> Option<Version> {
        dataset_version(&self.dataset)
    }

    /// `Kinetics-400 val`.
    pub fn title(&self) -> String {
        format!("{} {}", dataset_title(&self.dataset), self.split)
    }
}

/// An official file the build did not find.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingFile {
    /// `400`, `600` or `700_2020`.
    pub dataset: String,
    /// `train`, `val` or `test`.
    pub split: String,
    /// The official download URL.
    pub url: String,
}

impl MissingFile {
    /// `Kinetics-400 train`.
    pub fn title(&self) -> String {
        format!("{} {}", dataset_title(&self.dataset), self.split)
    }
}

/// The version of a dataset folder name of the official URLs (`None` for `700_2020`, which the
/// taxonomy does not cover).
fn dataset_version(dataset: &str) -> Option<Version> {
    match dataset {
        "400" => Some(Version::K400),
        "600" => Some(Version::K600),
        _ => None,
    }
}

/// `Kinetics-700-2020` for `700_2020`.
fn dataset_title(dataset: &str) -> String {
    format!("Kinetics-{}", dataset.replace('_', "-"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_and_versions_of_the_official_datasets() {
        let missing = MissingFile {
            dataset: "700_2020".into(),
            split: "train".into(),
            url: "https://s3.amazonaws.com/kinetics/700_2020/annotations/train.csv".into(),
        };
        assert_eq!(missing.title(), "Kinetics-700-2020 train");
        assert_eq!(dataset_version("400"), Some(Version::K400));
        assert_eq!(dataset_version("700_2020"), None);
        let manifest = Manifest {
            version: MANIFEST_VERSION,
            asset_version: crate::asset::VERSION,
            sources: Vec::new(),
            missing: vec![missing],
        };
        assert!(manifest.is_current());
        let json = serde_json::to_string(&manifest).unwrap();
        assert_eq!(serde_json::from_str::<Manifest>(&json).unwrap(), manifest);
        assert!(!Manifest {
            version: 0,
            ..manifest
        }
        .is_current());
    }
}
