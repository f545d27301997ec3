//! `/compare?a=&b=&v=`: two classes side by side (a confusion pair of the paper, say): their labels,
//! groups and counts, and their validation clips to play (as thumbnails once the visitor opts in), with
//! a link that verifies both in one session.
//!
//! `a` and `b` come from the address: a name that is not a class is shown cut to
//! [`kinetics::teach::MAX_SHOWN_NAME_CHARS`] characters, never whole, and always as text.

use kinetics::teach::{shown_name, verify_pair};
use kinetics::{Clip, Split, Version};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::explorer::clips::{segment_text, use_thumbnails, ClipThumb, Player, ThumbnailToggle};
use crate::explorer::{filter, group_chips, thousands, use_data, DataPanel, Query, View};
use crate::links::{class_path, compare_href};

/// Clips shown per class.
const CLIPS_SHOWN: usize = 12;

/// The comparison page.
#[component]
pub fn Compare() -> impl IntoView {
    let params = use_query_map();
    let a = Memo::new(move |_| params.with(|p| p.get("a").unwrap_or_default()));
    let b = Memo::new(move |_| params.with(|p| p.get("b").unwrap_or_default()));
    let view = Memo::new(move |_| params.with(|p| View::parse(p.get_str("v"))));
    crate::explorer::want_bundles(move || view.get());
    let navigate = use_navigate();
    let go = move |which: &'static str, value: String| {
        let (mut a, mut b) = (a.get_untracked(), b.get_untracked());
        if which == "a" {
            a = value;
        } else {
            b = value;
        }
        let href = compare_href(&a, &b, view.get_untracked());
        navigate(&href, Default::default());
    };
    let go_b = go.clone();
    let names = move || {
        let version = view.get().version().unwrap_or(kinetics::Version::K600);
        version
            .classes()
            .iter()
            .map(|c| view! { <option value=*c></option> })
            .collect_view()
    };
    // A link only for two different classes: `yoga|yoga` would be a session without negatives.
    let verify = move || match verify_href(&a.get(), &b.get(), view.get()) {
        Ok(href) => view! {
            <p>
                <a href=href data-testid="verify-both">
                    "Verify both classes in the annotators' task →"
                </a>
            </p>
        }
        .into_any(),
        Err(why) => view! {
            <p class="muted" data-testid="verify-both-unavailable">{why}</p>
        }
        .into_any(),
    };
    let (playing, set_playing) = signal(None::<Clip>);
    view! {
        <section class="page explorer compare-page">
            <p class="crumbs"><a href="/classes">"← All classes"</a></p>
            <h1>"Compare two classes"</h1>
            <p class="lede">
                "Two classes side by side, on their validation clips: could you tell them apart? The Kinetics-400 \
                 paper names pairs its baseline confused, such as long jump and triple jump."
            </p>
            <form class="compare-pickers" on:submit=|ev| ev.prevent_default()>
                <label>"First class "
                    <input type="text" list="compare-classes" data-testid="compare-a" prop:value=move || shown_name(&a.get())
                        on:change=move |ev| go("a", event_target_value(&ev))/>
                </label>
                <label>"Second class "
                    <input type="text" list="compare-classes" data-testid="compare-b" prop:value=move || shown_name(&b.get())
                        on:change=move |ev| go_b("b", event_target_value(&ev))/>
                </label>
                <datalist id="compare-classes">{names}</datalist>
                <ThumbnailToggle/>
            </form>
            {verify}
            <div class="compare-columns">
                <ClassColumn name=a view playing set_playing/>
                <ClassColumn name=b view playing set_playing/>
            </div>
            <DataPanel/>
        </section>
    }
}

/// `/verify?classes=A|B&v=…` for the pair, or why there is none (a side empty or not a class, or
/// both the same class). `/verify` reads `v` as its dataset, Kinetics-400 unless `600`, so the
/// names are checked in that version.
fn verify_href(a: &str, b: &str, view: View) -> Result<String, String> {
    let version = view.version().unwrap_or(Version::K400);
    let (a, b) = verify_pair(a, b, version).map_err(|why| why.to_string())?;
    Ok(crate::links::verify_href(a, b, view))
}

/// One side: the class's facts and its first validation clips.
#[component]
fn ClassColumn(
    name: Memo<String>,
    view: Memo<View>,
    playing: ReadSignal<Option<Clip>>,
    set_playing: WriteSignal<Option<Clip>>,
) -> impl IntoView {
    let data = use_data();
    let thumbnails = use_thumbnails();
    move || {
        let name = name.get();
        let view = view.get();
        if name.is_empty() {
            return view! { <div class="compare-column"><p class="muted">"Pick a class above."</p></div> }.into_any();
        }
        data.index.with(|index| {
            let Some(id) = index.classes().id(&name) else {
                return view! {
                    <div class="compare-column" data-testid="compare-column">
                        <h2>{shown_name(&name)}</h2>
                        <p class="error" data-testid="unknown-class">"No Kinetics class has this name."</p>
                    </div>
                }
                .into_any();
            };
            let query = Query { view, ..Query::default() };
            let counts = index.counts(&filter(view, None)).class(id);
            let val = filter(view, Some(Split::Val));
            let mut clips: Vec<Clip> = index.clips(Some(id), &val).take(CLIPS_SHOWN).collect();
            if clips.is_empty() {
                clips = index.clips(Some(id), &filter(view, None)).take(CLIPS_SHOWN).collect();
            }
            let counts_text = Split::ALL
                .iter()
                .map(|s| format!("{s} {}", thousands(u64::from(counts[s.index()]))))
                .collect::<Vec<_>>()
                .join(" · ");
            let href = query.href(&class_path(&name));
            let shown = clips.len();
            let items = clips
                .into_iter()
                .map(|clip| {
                    let is_playing = move || playing.get() == Some(clip);
                    view! {
                        <li class="compare-clip" data-youtube-id=clip.youtube_id.as_str().to_owned()>
                            <Show when=move || thumbnails.0.get()><ClipThumb clip/></Show>
                            <span>{segment_text(&clip)}" · "{clip.split.as_str()}</span>
                            <button type="button" class="play" aria-expanded=move || is_playing().to_string()
                                on:click=move |_| set_playing.set(if is_playing() { None } else { Some(clip) })>
                                {move || if is_playing() { "Close" } else { "Play" }}
                            </button>
                            <Show when=is_playing><Player clip autoplay=true/></Show>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <div class="compare-column" data-testid="compare-column" data-class=name.clone()>
                    <h2><a href=href>{name.clone()}</a></h2>
                    <p class="groups">{group_chips(index, id, &query)}</p>
                    <p class="muted">{counts_text}</p>
                    <p class="muted">{format!("{shown} clips shown")}</p>
                    <ul class="compare-clips">{items}</ul>
                </div>
            }
            .into_any()
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn verify_both_needs_two_different_classes_of_the_version() {
        assert_eq!(
            verify_href("long jump", "triple jump", View::K400).unwrap(),
            "/verify?classes=long%20jump%7Ctriple%20jump&v=400"
        );
        let same = verify_href("yoga", "yoga", View::K400).unwrap_err();
        assert!(same.contains("the same class"), "{same}");
        let long = "x".repeat(2_000_000);
        let unknown = verify_href("yoga", &long, View::K600).unwrap_err();
        assert!(unknown.len() < 200, "the unknown name is cut");
        assert!(unknown.contains("not a Kinetics-600 class"), "{unknown}");
    }
}
