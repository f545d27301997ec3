//! The classifier's shared pieces, used by the pages that run the model (`/classify`, `/quiz`, `/inside`).
//!
//! The model runs in a Web Worker ([`client`]), shared by visits to the pages ([`model`]); around it:
//! - [`panel`]: the model panel (progress, backend and precision and why, cache);
//! - [`session`]: a page's state and the one cancellation token of the running task;
//! - [`live`]: the camera's capture loop and live top five ([`camera`] opens the camera);
//! - [`analysis`]: a video file, a GIF or the sample clip, window by window ([`video`], [`gif`], [`frames`]),
//!   and its timeline and export;
//! - [`output`]: ranked lists, the timeline, the CSV and JSON of a run, and the activation map;
//! - [`follow_the_address`]: the model the page's address asks for.
//!
//! No page lives here: the pages are in [`crate::pages`].

pub mod analysis;
pub mod camera;
pub mod client;
pub mod frames;
pub mod gif;
pub mod live;
pub mod model;
pub mod output;
pub mod panel;
pub mod session;
pub mod video;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

pub use model::Model;
pub use session::Session;

use client::ModelStatus;

/// Loads the model the address asks for (`?backend=cpu|webgpu&precision=&threads=`, see
/// [`client::requested_model`]) while `wanted()` holds, again whenever the address changes; and sets the
/// window length from the backend's measured speed until the visitor picks one. For the pages that run the
/// model: `/classify` and the quiz.
pub fn follow_the_address(model: Model, session: Session, wanted: impl Fn() -> bool + 'static) {
    let query = use_query_map();
    Effect::new(move || {
        // The page is about to be loaded again for its isolation: the model starts in that document.
        if !wanted() || crate::isolation::reload_pending() {
            return;
        }
        let requested = query.with(|q| {
            client::requested_model(
                q.get("backend").as_deref(),
                q.get("precision").as_deref(),
                q.get("threads").as_deref(),
            )
        });
        match requested {
            Ok(request) => model.ensure(request),
            Err(message) => model.fail(message),
        }
    });
    Effect::new(move || {
        if let ModelStatus::Ready(ready) = model.status.get() {
            if session.window_len.get_untracked() == 0 {
                session.window_len.set(ready.default_window());
            }
        }
    });
}
