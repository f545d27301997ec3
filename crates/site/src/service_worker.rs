//! The service worker's version and precache list, written into `dist/sw.js` once every other file is final.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::{files_under, read, write, Error};

/// The placeholders of `www/sw.js` (besides the contract's).
const VERSION: &str = "'__KINETISCOPE_VERSION__'";
const PRECACHE: &str = "__KINETISCOPE_PRECACHE__";

/// Whether the service worker precaches a file of the build (a path relative to `dist/`): all but itself and the
/// weights (the classifier's worker keeps those in their own cache, which app updates keep).
pub fn precached(relative: &str) -> bool {
    relative != "sw.js" && !relative.ends_with(".safetensors")
}

/// Writes the version (16 hex digits of a SHA-256 of the name and contents of every precached file) and the
/// precache list (absolute URLs, sorted) into `dist/sw.js`, so that any change to the build changes the service
/// worker. Returns the version and the number of files.
pub fn finish(dist: &Path) -> Result<(String, usize), Error> {
    let sw = dist.join("sw.js");
    let template = read(&sw)?;
    if !template.contains(VERSION) || !template.contains(PRECACHE) {
        return Err(Error::build(
            &sw,
            format!("no {VERSION} or {PRECACHE} to fill (finished already?)"),
        ));
    }
    let files: Vec<String> = files_under(dist)?
        .into_iter()
        .filter(|f| precached(f))
        .collect();
    let mut hash = Sha256::new();
    for file in &files {
        let path = dist.join(file);
        hash.update(file.as_bytes());
        hash.update(std::fs::read(&path).map_err(|source| Error::Io { path, source })?);
    }
    let version: String = hash
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let urls: Vec<String> = files.iter().map(|f| format!("/{f}")).collect();
    let list = serde_json::to_string(&urls).map_err(|e| Error::build(&sw, e.to_string()))?;
    write(
        &sw,
        template
            .replace(VERSION, &format!("'{version}'"))
            .replace(PRECACHE, &list),
    )?;
    Ok((version, urls.len()))
}
