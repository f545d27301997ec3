//! `/teach`: for educators, the lesson path ([`TeachPath`]) on its own page.

use leptos::prelude::*;

use crate::classroom::TeachPath;

/// `/teach`: the path on its own page.
#[component]
pub fn TeachPage() -> impl IntoView {
    view! {
        <section class="page teach">
            <h1>"For educators"</h1>
            <p class="lede">
                "Kinetics was built by people: names of actions, YouTube searches, and thousands of annotators \
                 answering one question per clip. These pages put that, and what the papers found, in front of a class."
            </p>
            <TeachPath/>
        </section>
    }
}
