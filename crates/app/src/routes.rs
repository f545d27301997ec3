//! The app's pages, one module per page: the landing page, the dataset explorer ([`classes`], [`class`],
//! [`group`], [`stats`], [`compare`]); the classifier is in [`crate::classifier`].

pub mod class;
pub mod classes;
pub mod compare;
pub mod group;
pub mod home;
pub mod stats;

use leptos::prelude::*;

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
