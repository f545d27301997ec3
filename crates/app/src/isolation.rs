//! Cross-origin isolation, page by page, and whether WebAssembly threads can really run.
//!
//! The host serves each route with its own `Cross-Origin-Embedder-Policy` ([`protocol::site::ROUTES`]): the pages
//! that run the classifier with `require-corp`, which every engine knows (Safari included), the explorer's with
//! `credentialless`, which lets them show YouTube's images but which WebKit ignores. A client-side navigation keeps
//! the document, and so the policy of the route it was loaded at: [`FollowRouteIsolation`] loads a classifier page
//! again from the host when the document it arrives in is not isolated.
//!
//! Isolation alone does not prove that threads can start: [`memory_shareable`] posts a shared memory to a worker,
//! as the threaded build must (WebKitGTK isolates a page yet refuses that post).

use js_sys::{Array, Object, Reflect, WebAssembly};
use leptos::prelude::*;
use protocol::site::{embedder_policy, runs_the_classifier, COEP_REQUIRE_CORP};
use wasm_bindgen::JsValue;

use crate::capabilities::cross_origin_isolated;
use crate::js::js_text;

/// The path the document was loaded at (so the policy it was served with), read once.
fn document_path() -> String {
    thread_local! {
        static LOADED_AT: String = web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .unwrap_or_default();
    }
    LOADED_AT.with(String::clone)
}

/// Whether arriving at `path` by a client-side navigation needs the page loaded again: it runs the classifier,
/// the document is not isolated, and the host would serve `path` with another policy than the document's (so a
/// load could isolate it; a host that sends no headers at all stays as it is, and nothing loops).
pub fn needs_reload(path: &str, document_path: &str, isolated: bool) -> bool {
    runs_the_classifier(path)
        && !isolated
        && embedder_policy(path) != embedder_policy(document_path)
}

/// Where this tab remembers (`sessionStorage`) that it loaded a classifier page again for isolation.
const RELOADED_KEY: &str = "kinetiscope.isolation-reload";

/// Whether a load for isolation was tried in this tab and left the page unisolated (no headers from the host
/// and no service worker to add them): then no navigation loads a page again for it.
fn reload_was_useless() -> bool {
    thread_local! {
        static USELESS: bool = {
            let storage = web_sys::window().and_then(|w| w.session_storage().ok().flatten());
            let tried = storage
                .as_ref()
                .and_then(|s| s.get_item(RELOADED_KEY).ok().flatten())
                .is_some();
            if let Some(storage) = storage.filter(|_| cross_origin_isolated()) {
                let _ = storage.remove_item(RELOADED_KEY);
            }
            tried && !cross_origin_isolated()
        };
    }
    USELESS.with(|useless| *useless)
}

/// Whether a classifier page shown now is about to be loaded again by [`FollowRouteIsolation`] (its document is
/// not isolated and was served as the explorer's): its model must not start in this document, whose unloading
/// would cut the worker's download ("NetworkError: Load failed", seen in WebKit).
pub fn reload_pending() -> bool {
    !reload_was_useless()
        && !cross_origin_isolated()
        && embedder_policy(&document_path()) != COEP_REQUIRE_CORP
}

/// Watches the route; loads a classifier page again from the host when [`needs_reload`] says so (in WebKit,
/// which ignores `credentialless`: the explorer's pages are not isolated, the classifier's are), unless that was
/// tried in this tab and did not isolate the page.
#[component]
pub fn FollowRouteIsolation() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let useless = reload_was_useless();
    Effect::new(move |_| {
        let path = location.pathname.get();
        if !useless && needs_reload(&path, &document_path(), cross_origin_isolated()) {
            let (search, hash) = (
                location.search.get_untracked(),
                location.hash.get_untracked(),
            );
            let mut target = path;
            if !search.is_empty() {
                target = format!("{target}?{search}");
            }
            if !hash.is_empty() {
                target = format!("{target}#{}", hash.trim_start_matches('#'));
            }
            // After the router has written the new address into the history (later in this task), so that the
            // load replaces that entry rather than the page the visitor came from.
            gloo_timers::callback::Timeout::new(0, move || {
                if let Some(window) = web_sys::window() {
                    if let Ok(Some(storage)) = window.session_storage() {
                        let _ = storage.set_item(RELOADED_KEY, "1");
                    }
                    let _ = window.location().replace(&target);
                }
            })
            .forget();
        }
    });
}

/// Loads the page again from the host when the document was served with `require-corp` but the route it shows now
/// is served otherwise (`credentialless`): for YouTube's images, which `require-corp` blocks. Once per document.
pub fn reload_for_embeds() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static ASKED: AtomicBool = AtomicBool::new(false);
    if embedder_policy(&document_path()) != COEP_REQUIRE_CORP || ASKED.swap(true, Ordering::Relaxed)
    {
        return;
    }
    // After the router has written the new address (later in this task): the address to load.
    gloo_timers::callback::Timeout::new(0, || {
        let Some(window) = web_sys::window() else {
            return;
        };
        let here = window.location().pathname().unwrap_or_default();
        if embedder_policy(&here) != COEP_REQUIRE_CORP {
            let _ = window.location().reload();
        } else {
            ASKED.store(false, Ordering::Relaxed);
        }
    })
    .forget();
}

/// Whether this browser lets this page post shared WebAssembly memory to a worker, which the threaded build
/// needs: a shared memory is made and posted to a worker (the post is checked here, on the page's side; a
/// failure later, in the threaded build's own workers, is caught by its start-up fallback). `Err` says why not,
/// in words for the model panel (WebKitGTK isolates a page but refuses the post: "DataCloneError").
pub fn memory_shareable() -> Result<(), String> {
    let descriptor = Object::new();
    for (key, value) in [
        ("initial", JsValue::from(1)),
        ("maximum", JsValue::from(1)),
        ("shared", JsValue::TRUE),
    ] {
        // Setting a property of a fresh plain object cannot fail.
        let _ = Reflect::set(&descriptor, &key.into(), &value);
    }
    let memory = WebAssembly::Memory::new(&descriptor).map_err(|e| {
        format!(
            "this browser cannot make shared WebAssembly memory ({})",
            js_text(&e)
        )
    })?;
    let cannot_share =
        |what: String| format!("memory cannot be shared with workers in this browser ({what})");
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/javascript");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&Array::of1(&"".into()), &options)
        .map_err(|e| cannot_share(js_text(&e)))?;
    let url =
        web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| cannot_share(js_text(&e)))?;
    let worker = web_sys::Worker::new(&url);
    let _ = web_sys::Url::revoke_object_url(&url);
    let worker = worker.map_err(|e| cannot_share(format!("no worker: {}", js_text(&e))))?;
    let posted = worker.post_message(&memory);
    worker.terminate();
    posted.map_err(|e| {
        cannot_share(format!(
            "posting shared WebAssembly memory to a worker failed: {}",
            js_text(&e)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_classifier_page_is_loaded_again_only_where_that_isolates_it() {
        // WebKit: the explorer's document is not isolated; the classifier's page would be.
        assert!(needs_reload("/classify", "/classes", false));
        assert!(needs_reload("/train", "/", false));
        // Isolated already (Chromium, Firefox), or an explorer page: nothing to do.
        assert!(!needs_reload("/classify", "/classes", true));
        assert!(!needs_reload("/classes", "/classify", false));
        // Loaded at a classifier page and still not isolated (a host without headers): a load would not help.
        assert!(!needs_reload("/inside", "/classify", false));
    }
}
