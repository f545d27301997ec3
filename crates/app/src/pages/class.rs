//! `/classes/:label?v=&split=&page=`: one class, its place in the taxonomy and its clips (paged), each with
//! a YouTube link and an on-demand player limited to the clip's segment.

use kinetics::{Clip, Split, Version};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::explorer::clips::{segment_text, use_thumbnails, ClipThumb, Player, ThumbnailToggle};
use crate::explorer::{
    change_note, filter, group_chips, page_count, thousands, use_data, use_explorer_query,
    DataPanel, ExplorerNav, Pager, View,
};
use crate::links::class_path;

/// Clips shown per page: a class with 30,000 clips renders 50 rows at a time.
const PER_PAGE: usize = 50;

/// The class page.
#[component]
pub fn ClassPage() -> impl IntoView {
    let data = use_data();
    let query = use_explorer_query();
    let params = use_params_map();
    let label = Memo::new(move |_| params.with(|p| p.get("label").unwrap_or_default()));
    let class = Memo::new(move |_| data.index.with(|index| index.classes().id(&label.get())));

    view! {
        <section class="page explorer class-page">
            <p class="crumbs"><a href=move || query.with(|q| q.carried().href("/classes"))>"← All classes"</a></p>
            <h1>{label}</h1>
            <ExplorerNav/>
            {move || match class.get() {
                None => view! {
                    <p class="prompt" data-testid="unknown-class">
                        "No Kinetics class has this name. Search the "
                        <a href="/classes">"class list"</a>
                        ", or load an annotation file that has it."
                    </p>
                    <DataPanel/>
                }
                .into_any(),
                Some(id) => view! { <ClassDetails id name=label.get_untracked()/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ClassDetails(id: kinetics::ClassId, name: String) -> impl IntoView {
    let data = use_data();
    let base = class_path(&name);
    let name_for_export = name.clone();
    let query = use_explorer_query();
    let (playing, set_playing) = signal(None::<Clip>);

    let info = {
        let base = base.clone();
        move || {
            let q = query.get();
            data.index.with(|index| {
            let table = index.classes();
            let label = |version: Version| match table.label_index(id, version) {
                Some(i) => format!("label {i} of {}", version.num_classes()),
                None => "not a class of this version".to_owned(),
            };
            let paper = table
                .paper_clips(id)
                .map_or_else(|| "—".to_owned(), |p| format!("{} clips (all splits)", thousands(u64::from(p))));
            let note = change_note(table, id, View::All);
            let chips = group_chips(index, id, &q);
            let wrong_version = q
                .view
                .version()
                .filter(|&v| !table.in_version(id, v))
                .map(|v| {
                    let other = if v == Version::K400 { View::K600 } else { View::K400 };
                    let mut next = q.carried();
                    next.view = other;
                    let href = next.href(&base);
                    view! {
                        <p class="prompt">
                            {format!("This is not a {v} class. ")}
                            <a href=href>{format!("Show it in {}", other.label())}</a>
                        </p>
                    }
                });
            view! {
                {wrong_version}
                <dl class="class-info">
                    <dt>"Kinetics-400"</dt><dd data-testid="k400-label">{label(Version::K400)}</dd>
                    <dt>"Kinetics-600"</dt><dd data-testid="k600-label">{label(Version::K600)}</dd>
                    <dt>"Paper (Kinetics-400)"</dt><dd>{paper}</dd>
                    <dt>"Groups"</dt><dd class="groups">{chips}</dd>
                    {note.map(|n| view! { <dt>"400 → 600"</dt><dd>{n}</dd> })}
                </dl>
            }
        })
        }
    };

    // Counts of this class per split, for the tabs.
    let counts = Memo::new(move |_| {
        let view = query.with(|q| q.view);
        data.index
            .with(|index| index.counts(&filter(view, None)).class(id))
    });
    let split_tabs = {
        let base = base.clone();
        move || {
            let q = query.get();
            let counts = counts.get();
            let total: u32 = counts.iter().sum();
            let tab = |split: Option<Split>, label: String| {
                let mut next = q.carried();
                next.split = split;
                let href = next.href(&base);
                let current = (q.split == split).then_some("page");
                view! { <a href=href aria-current=current>{label}</a> }
            };
            let mut tabs = vec![tab(None, format!("all {}", thousands(u64::from(total))))];
            for split in Split::ALL {
                let n = counts[split.index()];
                if n > 0 || q.split == Some(split) {
                    tabs.push(tab(
                        Some(split),
                        format!("{split} {}", thousands(u64::from(n))),
                    ));
                }
            }
            view! { <nav class="split-tabs" aria-label="Split" data-testid="split-tabs">{tabs}</nav> }
        }
    };

    // The page of clips: a class with 30,000 clips only materialises 50 of them.
    let clips = Memo::new(move |_| {
        let q = query.get();
        data.index.with(|index| {
            let filter = filter(q.view, q.split);
            let total = index.clips(Some(id), &filter).count();
            let page = q.page.min(page_count(total, PER_PAGE) - 1);
            let clips: Vec<Clip> = index
                .clips(Some(id), &filter)
                .skip(page * PER_PAGE)
                .take(PER_PAGE)
                .collect();
            (total, page, clips)
        })
    });
    let total = Signal::derive(move || clips.with(|(total, _, _)| *total));
    let path = Signal::derive(move || base.clone());
    let thumbnails = use_thumbnails();
    let (export_error, set_export_error) = signal(None::<String>);
    // The whole filtered list (every page), in the official CSV layout, for the downloaders.
    let export = move |_| {
        let q = query.get_untracked();
        let result = data.index.with_untracked(|index| {
            let file = export_name(&name_for_export, q.view, q.split);
            let shown = filter(q.view, q.split);
            kinetics::export::to_csv(&file, index.clips(Some(id), &shown), index.classes())
                .map_err(|e| e.to_string())
                .and_then(|text| crate::download::text(&file, "text/csv", &text))
        });
        set_export_error.set(result.err());
    };

    view! {
        {info}
        {split_tabs}
        <p class="muted count-line" data-testid="clip-count">
            {move || clips.with(|(total, page, shown)| {
                if *total == 0 {
                    let loading = data.loading(query.with(|q| q.view));
                    if loading { "Loading clips…".to_owned() } else { "No clips of this class are loaded.".to_owned() }
                } else {
                    let first = page * PER_PAGE + 1;
                    format!("Clips {first}–{} of {}.", first + shown.len() - 1, thousands(*total as u64))
                }
            })}
        </p>
        <div class="clip-tools">
            <ThumbnailToggle/>
            <button type="button" data-testid="export-csv" on:click=export disabled=move || total.get() == 0>
                {move || format!("Export these {} clips as CSV", thousands(total.get() as u64))}
            </button>
            {move || export_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </div>
        <Pager total per_page=PER_PAGE path/>
        <Show when=move || thumbnails.0.get()>
            {move || playing.get().map(|clip| view! { <Player clip autoplay=true/> })}
            <ul class="thumb-grid" data-testid="thumb-grid">
                {move || clips.get().2.into_iter().map(|clip| {
                    let is_playing = move || playing.get() == Some(clip);
                    view! {
                        <li class="thumb-card" data-youtube-id=clip.youtube_id.as_str().to_owned()>
                            <button type="button" class="thumb-play" aria-pressed=move || is_playing().to_string()
                                title="Play the segment above the grid"
                                on:click=move |_| set_playing.set(if is_playing() { None } else { Some(clip) })>
                                <ClipThumb clip/>
                            </button>
                            <span>{segment_text(&clip)}" · "{clip.split.as_str()}</span>
                            <a href=clip.watch_url() target="_blank" rel="noopener noreferrer external">"YouTube ↗"</a>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </Show>
        <table class="clips" data-testid="clips" hidden=move || thumbnails.0.get()>
            <thead>
                <tr>
                    <th scope="col">"YouTube id"</th>
                    <th scope="col">"Segment"</th>
                    <th scope="col">"Split"</th>
                    <th scope="col">"File"</th>
                    <th scope="col">"Watch"</th>
                    <th scope="col">"Play"</th>
                </tr>
            </thead>
            <tbody>
                {move || {
                    let (_, _, shown) = clips.get();
                    data.index.with_untracked(|index| {
                        shown
                            .into_iter()
                            .map(|clip| {
                                let source = index
                                    .source(clip.source)
                                    .map(|s| s.name.clone())
                                    .unwrap_or_default();
                                view! { <ClipRow clip source playing set_playing/> }
                            })
                            .collect_view()
                    })
                }}
            </tbody>
        </table>
        <Pager total per_page=PER_PAGE path/>
    }
}

/// One clip, and the player below it when it is the one playing.
#[component]
fn ClipRow(
    clip: Clip,
    source: String,
    playing: ReadSignal<Option<Clip>>,
    set_playing: WriteSignal<Option<Clip>>,
) -> impl IntoView {
    let is_playing = move || playing.get() == Some(clip);
    let segment = segment_text(&clip);
    let toggle = move |_| set_playing.set(if is_playing() { None } else { Some(clip) });
    let pwa = use_context::<crate::pwa::Pwa>();
    let offline = move || pwa.is_some_and(|p| !p.online.get());
    view! {
        <tr data-testid="clip-row" data-youtube-id=clip.youtube_id.as_str().to_owned()>
            <td><code>{clip.youtube_id.as_str().to_owned()}</code></td>
            <td>{segment}</td>
            <td>{clip.split.as_str()}</td>
            <td class="muted">{source}</td>
            <td>
                <a href=clip.watch_url() target="_blank" rel="noopener noreferrer external" data-testid="watch-link">
                    "YouTube ↗"
                </a>
                <Show when=offline>
                    <span class="muted" data-testid="needs-network">" (needs the network)"</span>
                </Show>
            </td>
            <td>
                <button type="button" class="play" data-testid="play" aria-expanded=move || is_playing().to_string()
                    disabled=offline title=move || if offline() { "Playing needs the network" } else { "" } on:click=toggle>
                    {move || if is_playing() { "Close player" } else { "Play segment" }}
                </button>
            </td>
        </tr>
        <Show when=is_playing>
            <tr class="player-row">
                <td colspan="6"><Player clip/></td>
            </tr>
        </Show>
    }
}

/// `kinetics-400_playing-drums_val.csv`: the view, the class and the split, in characters any file
/// system takes.
fn export_name(class: &str, view: View, split: Option<Split>) -> String {
    let slug: String = class
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let version = match view.version() {
        Some(v) => format!("kinetics-{}", v.number()),
        None => "kinetics".to_owned(),
    };
    let split = split.map_or("all", Split::as_str);
    format!("{version}_{slug}_{split}.csv")
}
