//! The app's pages, one module per page (or per route group), each used only by the router in `lib.rs`:
//! - [`home`]: `/`, the landing page;
//! - the dataset explorer: [`classes`] (`/classes`), [`class`] (`/classes/:label`), [`group`] (`/groups`,
//!   `/groups/:name`), [`stats`] (`/stats`), [`compare`] (`/compare`);
//! - the classroom: [`teach`] (`/teach`), [`verify`] (`/verify`), [`quiz`] (`/quiz`), [`findings`]
//!   (`/findings`, `/findings/:topic`);
//! - the classifier: [`classify`] (`/classify`), [`inside`] (`/inside`), [`train`] (`/train`, your own actions);
//! - [`NotFound`]: any other path.
//!
//! No page imports another: what several pages share is a module of its own ([`crate::classifier`],
//! [`crate::explorer`], [`crate::classroom`], [`crate::links`], [`crate::download`]).

pub mod class;
pub mod classes;
pub mod classify;
pub mod compare;
pub mod findings;
pub mod group;
pub mod home;
pub mod inside;
pub mod quiz;
pub mod stats;
pub mod teach;
pub mod train;
pub mod verify;

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
