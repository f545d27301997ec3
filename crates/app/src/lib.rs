//! Kinetiscope web app: Leptos client-side rendering, built by trunk.
//!
//! `main.rs` only mounts [`App`]; each page lives in [`routes`]; the explorer's shared data and widgets in
//! [`explorer`]; browser feature detection in [`capabilities`].

pub mod capabilities;
pub mod classifier;
pub mod explorer;
pub mod pwa;
pub mod routes;
pub mod teach;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

/// The whole app: navigation bar and the routed pages.
#[component]
pub fn App() -> impl IntoView {
    // The explorer's clips, shared by its pages; the bundled annotation assets are fetched lazily.
    provide_context(explorer::Data::new());
    // Whether YouTube still images are shown (opt-in, remembered).
    provide_context(explorer::clips::Thumbnails::load());
    // The classifier's model, kept loaded across page changes.
    provide_context(classifier::Model::new());
    provide_context(classifier::Session::new());
    // Service worker (release builds), update prompt, online state.
    provide_context(pwa::Pwa::start());
    view! {
        <Router>
            <header class="topbar">
                <A href="/" attr:class="brand">"Kinetiscope"</A>
                <nav>
                    <A href="/classes">"Explorer"</A>
                    <A href="/classify">"Classifier"</A>
                    <A href="/teach">"Teach"</A>
                </nav>
            </header>
            <pwa::PwaBanner/>
            <main>
                <Routes fallback=routes::NotFound>
                    <Route path=path!("/") view=routes::home::Home/>
                    <Route path=path!("/classes") view=routes::classes::Classes/>
                    <Route path=path!("/classes/:label") view=routes::class::ClassPage/>
                    <Route path=path!("/groups") view=routes::group::Groups/>
                    <Route path=path!("/groups/:name") view=routes::group::GroupPage/>
                    <Route path=path!("/stats") view=routes::stats::Stats/>
                    <Route path=path!("/compare") view=routes::compare::Compare/>
                    <Route path=path!("/teach") view=teach::TeachPage/>
                    <Route path=path!("/verify") view=teach::verify::VerifyPage/>
                    <Route path=path!("/quiz") view=teach::quiz::QuizPage/>
                    <Route path=path!("/findings") view=teach::findings::FindingsIndex/>
                    <Route path=path!("/findings/:topic") view=teach::findings::FindingPage/>
                    <Route path=path!("/classify") view=classifier::ClassifierPage/>
                    <Route path=path!("/inside") view=classifier::inside::InsidePage/>
                </Routes>
            </main>
        </Router>
    }
}
