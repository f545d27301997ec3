//! Keeping a head on the device (the Cache API: no size limit worth speaking of, and offline like the rest),
//! and its file: exported for download, imported from one. Nothing leaves the device.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, Response};

use crate::js::js_text;

/// The cache holding the visitor's head. Not an app cache (those go with each new version of the app, see
/// `protocol::site::APP_CACHE_PREFIX`): a head outlives updates.
pub const HEADS_CACHE: &str = "kinetiscope-heads-v1";
/// The key the head is stored under (an address of this site that serves nothing).
const HEAD_KEY: &str = "/heads/current.kinetiscope-head.json";

async fn cache() -> Result<Cache, String> {
    let caches = web_sys::window()
        .ok_or("no window")?
        .caches()
        .map_err(|_| "this browser keeps no storage for this page (private mode?)".to_owned())?;
    let cache = JsFuture::from(caches.open(HEADS_CACHE))
        .await
        .map_err(|e| js_text(&e))?;
    Ok(cache.unchecked_into())
}

/// Saves `text` (a head file) as the head of this device; returns its size, bytes.
pub async fn save(text: &str) -> Result<usize, String> {
    let response = Response::new_with_opt_str(Some(text)).map_err(|e| js_text(&e))?;
    JsFuture::from(cache().await?.put_with_str(HEAD_KEY, &response))
        .await
        .map_err(|e| {
            format!(
                "the head could not be saved on this device: {}",
                js_text(&e)
            )
        })?;
    Ok(text.len())
}

/// The head file saved on this device, if any.
pub async fn load() -> Result<Option<String>, String> {
    let found = JsFuture::from(cache().await?.match_with_str(HEAD_KEY))
        .await
        .map_err(|e| js_text(&e))?;
    let Ok(response) = found.dyn_into::<Response>() else {
        return Ok(None);
    };
    let text = JsFuture::from(response.text().map_err(|e| js_text(&e))?)
        .await
        .map_err(|e| js_text(&e))?;
    Ok(text.as_string())
}

/// Deletes the saved head.
pub async fn delete() -> Result<(), String> {
    JsFuture::from(cache().await?.delete_with_str(HEAD_KEY))
        .await
        .map_err(|e| js_text(&e))?;
    Ok(())
}

/// The text of a file the visitor picked.
pub async fn read(file: &web_sys::File) -> Result<String, String> {
    let text = JsFuture::from(file.text())
        .await
        .map_err(|e| format!("{} could not be read: {}", file.name(), js_text(&e)))?;
    text.as_string()
        .ok_or_else(|| format!("{} is not a text file", file.name()))
}

/// The file name an export is offered under: the classes' names, made safe for a file name.
pub fn file_name(head: &heads::Head) -> String {
    let stem: String = head
        .classes
        .iter()
        .take(3)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("-")
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect();
    let stem = if stem.is_empty() { "head".into() } else { stem };
    format!("{stem}{}", heads::FILE_SUFFIX)
}
