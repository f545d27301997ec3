//! The explorer's shared data: one [`Index`] of every loaded clip, the site's bundled assets
//! (`/data/manifest.json`, fetched lazily per dataset version) and annotation files the user loads.

use std::collections::HashMap;

use kinetics::bundle::{BundledAsset, Manifest};
use kinetics::{asset, Annotations, Index, Merge, ReadOptions, SourceId, Version};
use leptos::prelude::*;

use super::query::View;

/// Where the site build (`cargo xtask data`) puts the manifest of its annotation assets.
pub const MANIFEST_URL: &str = "/data/manifest.json";

/// The state of a bundled asset.
#[derive(Debug, Clone, PartialEq)]
pub enum Bundle {
    /// Being fetched.
    Loading,
    /// In the index as this source.
    Loaded(SourceId),
    /// Could not be fetched or decoded.
    Failed(String),
    /// Removed by the user, or replaced by a loaded file: not fetched again unless asked.
    Dropped,
}

/// How a file the user loads joins the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Added to the loaded clips as one more source.
    #[default]
    Extend,
    /// Replaces every loaded clip.
    Replace,
}

/// What happened to the last file the user loaded.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadStatus {
    /// Reading or fetching.
    Busy(String),
    /// Loaded: a headline (`Added x.csv (Kinetics-600): 30,000 clips, 0 rows skipped.`), the first
    /// skipped rows' errors, and the file's dataset version.
    Loaded {
        /// One sentence saying what happened.
        headline: String,
        /// Errors of skipped rows, if any.
        details: Vec<String>,
        /// Version of the file, to offer switching to it.
        version: Option<Version>,
    },
    /// Not loaded; the data is unchanged.
    Failed {
        /// The file or URL.
        name: String,
        /// The parser's (line-precise) error, or the network error.
        error: String,
    },
}

/// The explorer's state, shared through context ([`use_data`]); cheap to copy.
#[derive(Clone, Copy)]
pub struct Data {
    /// Every loaded clip.
    pub index: RwSignal<Index>,
    /// The bundled assets' manifest; `Err` when the site has none.
    pub manifest: LocalResource<Result<Manifest, String>>,
    /// State of each bundled asset by file name; absent: not requested yet.
    pub bundles: RwSignal<HashMap<String, Bundle>>,
    /// The last user load.
    pub status: RwSignal<Option<LoadStatus>>,
    /// Whether pages fetch the bundled assets of their version by themselves; off once the user replaced
    /// the data with a file of their own.
    pub auto_bundles: RwSignal<bool>,
}

/// The shared [`Data`] (provided by [`crate::App`]).
pub fn use_data() -> Data {
    use_context::<Data>().unwrap_or_else(|| {
        // Only reachable if a page is mounted outside the App; give it its own empty data.
        let data = Data::new();
        provide_context(data);
        data
    })
}

impl Data {
    /// Empty data; starts fetching the manifest (not the assets).
    pub fn new() -> Data {
        Data {
            index: RwSignal::new(Index::new()),
            manifest: LocalResource::new(fetch_manifest),
            bundles: RwSignal::new(HashMap::new()),
            status: RwSignal::new(None),
            auto_bundles: RwSignal::new(true),
        }
    }

    /// Fetches the bundled assets of `view` that were not requested yet (call it when a page shows `view`).
    pub fn want(self, view: View) {
        if !self.auto_bundles.get_untracked() {
            return;
        }
        let Some(Ok(manifest)) = self.manifest.get_untracked() else {
            return;
        };
        for source in manifest.sources {
            let fresh = self
                .bundles
                .with_untracked(|bundles| !bundles.contains_key(&source.file));
            if fresh && view.includes_dataset(&source.dataset) {
                self.load_bundle(source);
            }
        }
    }

    /// Fetches one bundled asset into the index (again, if it was dropped).
    pub fn load_bundle(self, source: BundledAsset) {
        let file = source.file.clone();
        self.bundles.update(|bundles| {
            bundles.insert(file.clone(), Bundle::Loading);
        });
        leptos::task::spawn_local(async move {
            let fetched = fetch_asset(&source.file).await;
            let still_wanted = self
                .bundles
                .with_untracked(|bundles| bundles.get(&file) == Some(&Bundle::Loading));
            if !still_wanted {
                return;
            }
            let state = match fetched {
                Ok(annotations) => {
                    let inserted = self.index.try_update(|index| {
                        index.insert(annotations, source.version(), Merge::Extend)
                    });
                    match inserted {
                        Some(Ok(id)) => Bundle::Loaded(id),
                        Some(Err(error)) => Bundle::Failed(error.to_string()),
                        None => return,
                    }
                }
                Err(error) => Bundle::Failed(error),
            };
            self.bundles.update(|bundles| {
                bundles.insert(file, state);
            });
        });
    }

    /// Whether a bundled asset of `view` is still being fetched.
    pub fn loading(self, view: View) -> bool {
        let manifest = self.manifest.get();
        let pending_manifest = manifest.is_none();
        let files: Vec<String> = match manifest {
            Some(Ok(manifest)) => manifest
                .sources
                .into_iter()
                .filter(|s| view.includes_dataset(&s.dataset))
                .map(|s| s.file)
                .collect(),
            _ => Vec::new(),
        };
        pending_manifest
            || self.bundles.with(|bundles| {
                files
                    .iter()
                    .any(|file| bundles.get(file) == Some(&Bundle::Loading))
            })
    }

    /// Removes a loaded source (a bundled asset becomes [`Bundle::Dropped`]).
    pub fn remove(self, id: SourceId) {
        self.index.update(|index| {
            index.remove(id);
        });
        self.bundles.update(|bundles| {
            for state in bundles.values_mut() {
                if *state == Bundle::Loaded(id) {
                    *state = Bundle::Dropped;
                }
            }
        });
    }

    /// Parses a file the user gave and adds it to, or puts it in place of, the loaded data. A bad file
    /// leaves the data untouched and reports the parser's line-precise error in [`Data::status`].
    pub fn load_file(self, name: &str, bytes: &[u8], mode: Mode, skip_bad_rows: bool) {
        let options = if skip_bad_rows {
            ReadOptions::skipping()
        } else {
            ReadOptions::default()
        };
        let status = match kinetics::parse(name, bytes, &options) {
            Ok(annotations) => self.insert_file(annotations, mode),
            Err(error) => LoadStatus::Failed {
                name: name.to_owned(),
                error: error.to_string(),
            },
        };
        self.status.set(Some(status));
    }

    fn insert_file(self, annotations: Annotations, mode: Mode) -> LoadStatus {
        let name = annotations.source.clone();
        // A file without a single clip adds nothing and must not replace what is loaded.
        if let Some(error) = nothing_to_load(&annotations) {
            return LoadStatus::Failed { name, error };
        }
        let details: Vec<String> = annotations
            .skipped
            .first_errors
            .iter()
            .map(ToString::to_string)
            .collect();
        let inserted = match mode {
            Mode::Extend => self
                .index
                .try_update(|index| index.insert(annotations, None, Merge::Extend)),
            Mode::Replace => {
                let mut fresh = Index::new();
                let inserted = fresh.insert(annotations, None, Merge::Extend);
                if inserted.is_ok() {
                    self.index.set(fresh);
                    self.auto_bundles.set(false);
                    self.bundles.update(|bundles| {
                        for state in bundles.values_mut() {
                            *state = Bundle::Dropped;
                        }
                    });
                }
                Some(inserted)
            }
        };
        let id = match inserted {
            Some(Ok(id)) => id,
            Some(Err(error)) => {
                return LoadStatus::Failed {
                    name,
                    error: error.to_string(),
                }
            }
            None => {
                return LoadStatus::Failed {
                    name,
                    error: "the explorer is gone".into(),
                }
            }
        };
        self.index.with_untracked(|index| {
            let Some(info) = index.source(id) else {
                return LoadStatus::Failed {
                    name: name.clone(),
                    error: "the file vanished from the index".into(),
                };
            };
            let version = info
                .version
                .map_or_else(|| "dataset version unknown".to_owned(), |v| v.to_string());
            let what = format!(
                "{} ({version}): {} clips ({} labelled), {} rows skipped.",
                info.name,
                thousands(info.clips as u64),
                thousands(info.labelled as u64),
                thousands(info.skipped as u64),
            );
            let headline = match mode {
                Mode::Extend => format!(
                    "Added {what} Now {} clips from {} files.",
                    thousands(index.len() as u64),
                    index.sources().count()
                ),
                Mode::Replace => format!("Replaced the loaded data with {what}"),
            };
            LoadStatus::Loaded {
                headline,
                details: details.clone(),
                version: info.version,
            }
        })
    }
}

impl Default for Data {
    fn default() -> Self {
        Self::new()
    }
}

/// `12,345`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

async fn fetch_manifest() -> Result<Manifest, String> {
    let response = gloo_net::http::Request::get(MANIFEST_URL)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.ok() {
        return Err(format!("HTTP {}", response.status()));
    }
    let text = response.text().await.map_err(|e| e.to_string())?;
    // A server without the file may answer with the app's index.html: that is "no manifest".
    let manifest: Manifest =
        serde_json::from_str(&text).map_err(|_| "the site has no annotation assets".to_owned())?;
    if !manifest.is_current() {
        return Err(format!(
            "the site's annotation assets are of another build (manifest {}, assets {}); reload the page",
            manifest.version, manifest.asset_version
        ));
    }
    Ok(manifest)
}

async fn fetch_asset(file: &str) -> Result<Annotations, String> {
    let bytes = fetch_bytes(&format!("/data/{file}")).await?;
    asset::decode(&bytes).map_err(|e| format!("{file}: {e}"))
}

/// The largest annotation file the explorer reads, bytes: far above the official validation and test CSVs (under
/// 2 MB each, `../shared/data/kinetics`) and above a whole training split, and small enough that reading one
/// (held twice while it is parsed) cannot take the tab, and everything loaded in it, down.
pub const MAX_FILE_BYTES: f64 = 256e6;

/// Refuses a file (or download) of `bytes` bytes over [`MAX_FILE_BYTES`], saying the cap.
pub fn check_file_size(name: &str, bytes: f64) -> Result<(), String> {
    if bytes > MAX_FILE_BYTES {
        return Err(format!(
            "{name} is {:.0} MB; files over {:.0} MB are refused (an official Kinetics annotation file is smaller). Load one split at a time.",
            bytes / 1e6,
            MAX_FILE_BYTES / 1e6
        ));
    }
    Ok(())
}

/// GETs a URL's body (at most [`MAX_FILE_BYTES`]: a larger stated length is refused before reading).
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let response = gloo_net::http::Request::get(url)
        .send()
        .await
        .map_err(|e| {
            let offline = web_sys::window().is_some_and(|w| !w.navigator().on_line());
            if offline {
                format!("cannot fetch {url}: you are offline. Try again when you are back online.")
            } else {
                // The browser hides why (no network, no such host, or CORS): say what to check.
                format!(
                    "cannot fetch {url} ({e}). Either the server cannot be reached, or it does not allow other \
                     sites to read the file (CORS). Download the file and open it with \"Choose a CSV or JSON file\" instead."
                )
            }
        })?;
    if !response.ok() {
        return Err(format!(
            "cannot fetch {url}: HTTP {} {}",
            response.status(),
            response.status_text()
        ));
    }
    if let Some(length) = response
        .headers()
        .get("content-length")
        .and_then(|l| l.parse::<f64>().ok())
    {
        check_file_size(url, length)?;
    }
    let bytes = response
        .binary()
        .await
        .map_err(|e| format!("cannot read {url}: {e}"))?;
    check_file_size(url, bytes.len() as f64)?;
    Ok(bytes)
}

/// The file name at the end of a URL's path (`…/kinetics-600_val.csv?x=1` → `kinetics-600_val.csv`).
pub fn name_from_url(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let last = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let name = percent_encoding::percent_decode_str(last)
        .decode_utf8_lossy()
        .into_owned();
    if name.is_empty() || name.contains(':') {
        "download".to_owned()
    } else {
        name
    }
}

/// Why a parsed file cannot be loaded although it parsed: it holds no clip (a header-only CSV, `{}`, or
/// every row skipped as malformed). `None` when it holds at least one.
fn nothing_to_load(annotations: &Annotations) -> Option<String> {
    if !annotations.clips.is_empty() {
        return None;
    }
    let name = &annotations.source;
    Some(
        match (
            annotations.skipped.rows,
            annotations.skipped.first_errors.first(),
        ) {
            (0, _) => format!("{name} holds no clips"),
            (n, Some(first)) => format!("all {n} rows of {name} are malformed (first: {first})"),
            (n, None) => format!("all {n} rows of {name} are malformed"),
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn files_over_the_cap_are_refused_with_the_cap() {
        assert!(check_file_size("k700_train.json", 90e6).is_ok());
        let err = check_file_size("huge.csv", 300e6).unwrap_err();
        assert!(
            err.starts_with("huge.csv is 300 MB; files over 256 MB are refused"),
            "{err}"
        );
    }

    #[test]
    fn a_file_without_clips_is_refused_and_says_why() {
        let parse = |name: &str, text: &str, skip: bool| {
            let options = if skip {
                ReadOptions::skipping()
            } else {
                ReadOptions::default()
            };
            kinetics::parse(name, text.as_bytes(), &options).unwrap()
        };
        let header = "label,youtube_id,time_start,time_end,split\n";
        let empty = nothing_to_load(&parse("header.csv", header, false)).unwrap();
        assert_eq!(empty, "header.csv holds no clips");
        assert!(nothing_to_load(&parse("empty.json", "{}", false)).is_some());
        let bad_rows = format!("{header}abseiling,not-an-id,x,y,train\n");
        let skipped = nothing_to_load(&parse("bad.csv", &bad_rows, true)).unwrap();
        assert!(
            skipped.starts_with("all 1 rows of bad.csv are malformed (first: "),
            "{skipped}"
        );
        assert!(skipped.contains("line 2"), "{skipped}");
        let good = format!("{header}abseiling,0347ZoDXyP0,14,24,train\n");
        assert_eq!(nothing_to_load(&parse("good.csv", &good, false)), None);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(545_317), "545,317");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn names_from_urls() {
        assert_eq!(
            name_from_url("https://s3.amazonaws.com/kinetics/600/annotations/val.csv?x=1#y"),
            "val.csv"
        );
        assert_eq!(name_from_url("/files/my%20file.json"), "my file.json");
        assert_eq!(name_from_url("https://example.org"), "example.org");
        assert_eq!(name_from_url("https://"), "download");
    }
}
