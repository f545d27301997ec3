//! The weights: read from the Cache API under [`protocol::MODEL_CACHE`], or downloaded with byte
//! progress, checked against the manifest's size and SHA-256, then cached for the next visit.

use i3d_core::manifest::{FileEntry, Manifest, VerifiedWeights, WeightsError};
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, CacheStorage, ReadableStreamDefaultReader, Response, WorkerGlobalScope};

/// Weights bytes, checked against the manifest, and where they came from.
pub struct Weights {
    /// The safetensors file.
    pub verified: VerifiedWeights,
    /// Read from the Cache API rather than the network.
    pub from_cache: bool,
    /// What the visitor should know about the cache, in words (a bad cached copy replaced, a copy
    /// that could not be kept); empty when all went as usual.
    pub notes: Vec<String>,
}

/// Said when the network fails while the browser reports being offline.
pub const OFFLINE: &str =
    "You are offline, and the model has not been downloaded to this device yet. \
     It loads by itself as soon as you are back online (a one-time download).";

/// A JS error as text.
pub fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}

fn scope() -> WorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// How a request may use the browser's HTTP cache.
#[derive(Clone, Copy)]
enum HttpCache {
    /// As the server's headers allow (the manifest: small, and it must be current anyway).
    Default,
    /// Neither read nor written: the weights, of which this worker keeps its own checked copy in the Cache API.
    /// An HTTP-cache copy would take the disk twice and could hand back the very bytes that just failed their
    /// hash check when they are downloaded again.
    NoStore,
}

async fn get(url: &str, http_cache: HttpCache) -> Result<Response, String> {
    let init = web_sys::RequestInit::new();
    if let HttpCache::NoStore = http_cache {
        init.set_cache(web_sys::RequestCache::NoStore);
    }
    let response = JsFuture::from(scope().fetch_with_str_and_init(url, &init))
        .await
        .map_err(|e| {
            if scope().navigator().on_line() {
                format!(
                    "could not fetch {url}: {} (the network or the server is unreachable; try again)",
                    describe(&e)
                )
            } else {
                OFFLINE.to_owned()
            }
        })?;
    let response: Response = response.unchecked_into();
    if !response.ok() {
        return Err(format!(
            "{url}: the server answered HTTP {}",
            response.status()
        ));
    }
    Ok(response)
}

/// The manifest at `url`.
pub async fn manifest(url: &str) -> Result<Manifest, String> {
    let response = get(url, HttpCache::Default).await?;
    let text = JsFuture::from(response.text().map_err(|e| describe(&e))?)
        .await
        .map_err(|e| describe(&e))?
        .as_string()
        .unwrap_or_default();
    Manifest::parse(text.as_bytes(), url).map_err(|e| match e {
        WeightsError::Json { source, .. } => format!("{url} is not a weights manifest: {source}"),
        WeightsError::Invalid { message, .. } => format!("{url}: {message}"),
        e => e.to_string(),
    })
}

async fn model_cache() -> Option<Cache> {
    let caches = Reflect::get(&js_sys::global(), &JsValue::from_str("caches")).ok()?;
    if caches.is_undefined() {
        return None;
    }
    let caches: CacheStorage = caches.unchecked_into();
    JsFuture::from(caches.open(protocol::MODEL_CACHE))
        .await
        .ok()?
        .dyn_into()
        .ok()
}

/// The most bytes reserved up front for a download, whatever the manifest says (the f32 weights are 51 MB).
const MAX_RESERVE: usize = 64 << 20;

/// Reads the body of `entry`'s file chunk by chunk, calling `progress` with the bytes so far. A body longer
/// than the manifest's size is cut off as soon as it passes it: a server that sends another file, or one
/// without end, costs no more memory than the right one.
async fn read_body(
    response: &Response,
    entry: &FileEntry,
    progress: &mut dyn FnMut(u64),
) -> Result<Vec<u8>, String> {
    let body = response.body().ok_or("the response has no body")?;
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let limit = usize::try_from(entry.bytes).unwrap_or(usize::MAX);
    // The manifest comes from the server too: reserve at most what the real weights take.
    let mut bytes = Vec::with_capacity(limit.min(MAX_RESERVE));
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| format!("the download broke off: {}", describe(&e)))?;
        let done = Reflect::get(&chunk, &JsValue::from_str("done"))
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            return Ok(bytes);
        }
        let value: Uint8Array = Reflect::get(&chunk, &JsValue::from_str("value"))
            .map_err(|e| describe(&e))?
            .unchecked_into();
        let start = bytes.len();
        let end = start.saturating_add(value.length() as usize);
        if end > limit {
            let _ = reader.cancel();
            return Err(format!(
                "{} is larger than the manifest says: more than its {} bytes arrived (the server sends another file)",
                entry.name, entry.bytes
            ));
        }
        bytes.resize(end, 0);
        value.copy_to(&mut bytes[start..]);
        progress(bytes.len() as u64);
    }
}

/// Checks size and SHA-256 against the manifest entry, in words for a visitor.
fn check(bytes: Vec<u8>, entry: &FileEntry) -> Result<VerifiedWeights, String> {
    VerifiedWeights::check(entry, bytes).map_err(|e| match e {
        WeightsError::Truncated {
            actual, expected, ..
        }
        | WeightsError::Oversized {
            actual, expected, ..
        } => format!(
            "{} is truncated or wrong: {actual} bytes, the manifest says {expected}",
            entry.name
        ),
        WeightsError::Sha256Mismatch {
            actual, expected, ..
        } => format!(
            "{} is corrupt: SHA-256 {actual}, the manifest says {expected}",
            entry.name
        ),
        e => e.to_string(),
    })
}

/// The weights file `entry` at `url`: from the cache when it holds an intact copy, else downloaded,
/// checked and cached. `progress(bytes so far, from cache)`.
pub async fn weights(
    url: &str,
    entry: &FileEntry,
    progress: &mut dyn FnMut(u64, bool),
) -> Result<Weights, String> {
    let cache = model_cache().await;
    let mut notes = Vec::new();
    if let Some(cache) = &cache {
        let hit = JsFuture::from(cache.match_with_str(url)).await;
        if let Ok(hit) = hit.and_then(|h| h.dyn_into::<Response>()) {
            let read = read_body(&hit, entry, &mut |n| progress(n, true)).await;
            match read.and_then(|bytes| check(bytes, entry)) {
                Ok(verified) => {
                    return Ok(Weights {
                        verified,
                        from_cache: true,
                        notes,
                    })
                }
                Err(e) => {
                    web_sys::console::warn_1(&format!("cached weights dropped: {e}").into());
                    let _ = JsFuture::from(cache.delete_with_str(url)).await;
                    notes.push(format!(
                        "The copy of the model cached on this device was unusable ({e}): it was deleted and downloaded again."
                    ));
                }
            }
        }
    }
    let response = get(url, HttpCache::NoStore).await?;
    let bytes = read_body(&response, entry, &mut |n| progress(n, false)).await?;
    let verified =
        check(bytes, entry).map_err(|e| format!("{e}. Reload the page to download it again."))?;
    if let Some(cache) = &cache {
        let copy = Uint8Array::from(verified.bytes());
        let stored = Response::new_with_opt_buffer_source(Some(&copy))
            .map_err(|e| describe(&e))
            .map(|copy| cache.put_with_str(url, &copy));
        let stored = match stored {
            Ok(promise) => JsFuture::from(promise).await.map_err(|e| describe(&e)),
            Err(e) => Err(e),
        };
        if let Err(e) = stored {
            // Not fatal: the model runs, the next visit downloads it again.
            web_sys::console::warn_1(&format!("could not cache the weights: {e}").into());
            notes.push(format!(
                "The model could not be kept on this device ({}; is the storage full?): it runs now, and the next visit downloads it again.",
                e.trim_end_matches('.')
            ));
        }
    } else {
        notes.push(
            "This browser offers no cache here, so the model is downloaded again on every visit."
                .into(),
        );
    }
    Ok(Weights {
        verified,
        from_cache: false,
        notes,
    })
}
