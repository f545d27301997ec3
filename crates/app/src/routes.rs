//! The app's pages, one module per page: the landing page, the dataset explorer ([`classes`], [`class`],
//! [`group`], [`stats`]) and the classifier.

pub mod class;
pub mod classes;
pub mod group;
pub mod home;
pub mod stats;

use leptos::prelude::*;

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
