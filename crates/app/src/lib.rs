//! Kinetiscope web app: Leptos client-side rendering, built by trunk.
//!
//! `main.rs` only mounts [`App`]; each page is a module of [`pages`], and what pages share is a module of
//! its own:
//! - [`classifier`]: the model client (the worker, the model's status, the thread plan, the address's
//!   request), the analysis of a file or the camera, and their outputs;
//! - [`explorer`]: the explorer's data, loading, URL state and widgets;
//! - [`classroom`]: the lesson path and the clips the exercises draw from;
//! - [`links`]: the internal addresses (a class page, a group, a comparison, a verification);
//! - [`download`]: files offered as downloads; [`js`]: JavaScript values as text;
//! - [`capabilities`]: browser feature detection; [`isolation`]: each page's cross-origin isolation, and whether
//!   threads can run; [`pwa`]: the service worker and the update prompt.

pub mod capabilities;
pub mod classifier;
pub mod classroom;
pub mod download;
pub mod explorer;
pub mod isolation;
pub mod js;
pub mod links;
pub mod pages;
pub mod pwa;

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
    provide_context(pages::train::Trainer::new());
    // Service worker (release builds), update prompt, online state.
    provide_context(pwa::Pwa::start());
    view! {
        <Router>
            <isolation::FollowRouteIsolation/>
            <header class="topbar">
                <A href="/" attr:class="brand">"Kinetiscope"</A>
                <nav>
                    <A href="/classes">"Explorer"</A>
                    <A href="/classify">"Classifier"</A>
                    <A href="/train">"Train"</A>
                    <A href="/teach">"Teach"</A>
                </nav>
            </header>
            <pwa::PwaBanner/>
            <main>
                <Routes fallback=pages::NotFound>
                    <Route path=path!("/") view=pages::home::Home/>
                    <Route path=path!("/classes") view=pages::classes::Classes/>
                    <Route path=path!("/classes/:label") view=pages::class::ClassPage/>
                    <Route path=path!("/groups") view=pages::group::Groups/>
                    <Route path=path!("/groups/:name") view=pages::group::GroupPage/>
                    <Route path=path!("/stats") view=pages::stats::Stats/>
                    <Route path=path!("/compare") view=pages::compare::Compare/>
                    <Route path=path!("/teach") view=pages::teach::TeachPage/>
                    <Route path=path!("/verify") view=pages::verify::VerifyPage/>
                    <Route path=path!("/quiz") view=pages::quiz::QuizPage/>
                    <Route path=path!("/findings") view=pages::findings::FindingsIndex/>
                    <Route path=path!("/findings/:topic") view=pages::findings::FindingPage/>
                    <Route path=path!("/classify") view=pages::classify::ClassifierPage/>
                    <Route path=path!("/inside") view=pages::inside::InsidePage/>
                    <Route path=path!("/train") view=pages::train::TrainPage/>
                </Routes>
            </main>
        </Router>
    }
}
