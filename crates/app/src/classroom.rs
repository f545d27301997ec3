//! What the classroom pages share: [`TeachPath`], the way through them (on `/` and `/teach`), and
//! [`validation_clips`], the clips the verification task (`/verify`) and the quiz (`/quiz`) draw from.
//! The pages themselves are [`crate::pages::teach`], [`crate::pages::verify`], [`crate::pages::quiz`] and
//! [`crate::pages::findings`].

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

/// A lesson plan in five steps.
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
                <li>
                    <a href="/train" data-testid="teach-train">"Teach it your own actions"</a>
                    ": record three clips of waving and three of clapping; what I3D learned on Kinetics tells them apart, \
                     live, a minute later."
                </li>
            </ol>
        </section>
    }
}
