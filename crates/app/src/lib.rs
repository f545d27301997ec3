//! Kinetiscope web app: Leptos client-side rendering, built by trunk.
//!
//! `main.rs` only mounts [`App`]; each page lives in [`routes`]; browser feature detection in
//! [`capabilities`].

pub mod capabilities;
pub mod routes;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

/// The whole app: navigation bar and the routed pages.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <header class="topbar">
                <A href="/" attr:class="brand">"Kinetiscope"</A>
                <nav>
                    <A href="/classes">"Explorer"</A>
                    <A href="/classify">"Classifier"</A>
                </nav>
            </header>
            <main>
                <Routes fallback=routes::NotFound>
                    <Route path=path!("/") view=routes::home::Home/>
                    <Route path=path!("/classes") view=routes::Explorer/>
                    <Route path=path!("/classify") view=routes::Classifier/>
                </Routes>
            </main>
        </Router>
    }
}
