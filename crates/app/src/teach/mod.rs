//! For educators: the papers' material made teachable.
//! - [`verify`]: `/verify`, the annotators' verification task on real validation clips, scored;
//! - [`quiz`]: `/quiz`, "which action is this?" for a room, you against I3D on local videos;
//! - [`findings`]: `/findings`, the papers' tables and claims with their sources;
//! - and [`TeachPath`], the way through them (on `/` and `/teach`). The class comparison
//!   (`/compare`) and the explorer's thumbnails and CSV export live with the explorer.

pub mod findings;
pub mod quiz;
pub mod verify;

use kinetics::{Clip, Index, Split};
use leptos::prelude::*;

use crate::explorer::{filter, View};

/// The validation clips of the classes `names` in `view`, each with its class name: what the verification
/// task and the quiz draw from.
pub fn validation_clips(
    index: &Index,
    view: View,
    names: impl IntoIterator<Item = String>,
) -> Vec<(Clip, String)> {
    let val = filter(view, Some(Split::Val));
    names
        .into_iter()
        .filter_map(|name| index.classes().id(&name).map(|id| (id, name)))
        .flat_map(|(id, name)| {
            index
                .clips(Some(id), &val)
                .map(|clip| (clip, name.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A lesson plan in four steps.
#[component]
pub fn TeachPath() -> impl IntoView {
    view! {
        <section class="teach-path" data-testid="teach-path" aria-labelledby="teach-title">
            <h2 id="teach-title">"Teach with Kinetiscope"</h2>
            <ol class="steps">
                <li>
                    <a href="/findings" data-testid="teach-findings">"What the papers found"</a>
                    ": how Kinetics compares with older datasets, which classes are hard, the bias study, I3D's results."
                </li>
                <li>
                    <a href="/verify" data-testid="teach-verify">"Verify like an annotator"</a>
                    ": the Mechanical Turk task that made the labels, on real clips, scored."
                </li>
                <li>
                    <a href="/compare?a=long%20jump&b=triple%20jump&v=400" data-testid="teach-compare">"Compare two classes"</a>
                    ": a confusion pair side by side, with thumbnails if you want them."
                </li>
                <li>
                    <a href="/quiz" data-testid="teach-quiz">"Quiz the room"</a>
                    ": which action is this? Then see what I3D says, and where it looked."
                </li>
            </ol>
        </section>
    }
}

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
