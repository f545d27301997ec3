//! The app's pages, one module per page.

pub mod home;

use leptos::prelude::*;

/// `/classes`: the Kinetics dataset explorer.
#[component]
pub fn Explorer() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Kinetics explorer"</h1>
            <p class="coming">"Coming: browse the Kinetics-400/600/700 classes and their YouTube clips."</p>
        </section>
    }
}

/// `/classify`: the I3D action classifier.
#[component]
pub fn Classifier() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Action classifier"</h1>
            <p class="coming">"Coming: classify your webcam or a video file with I3D, on WebGPU or the CPU."</p>
        </section>
    }
}

/// Any unknown path.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Page not found"</h1>
            <p><a href="/">"Back to the start page"</a></p>
        </section>
    }
}
