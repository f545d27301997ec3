//! The data panel: which annotation files are loaded (bundled assets and the user's files), and
//! "Load annotations" from a file picker, drag and drop or a URL.

use kinetics::{SourceId, Version};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::data::{
    fetch_bytes, name_from_url, thousands, use_data, Bundle, Data, LoadStatus, Mode,
};
use super::query::View;
use super::use_explorer_query;

/// The data panel, open while nothing of the version in view is loaded.
#[component]
pub fn DataPanel() -> impl IntoView {
    let data = use_data();
    let query = use_explorer_query();
    let empty = move || {
        let view = query.with(|q| q.view);
        !data.loading(view)
            && data
                .index
                .with(|index| index.stats(&super::filter(view, None)).clips == 0)
    };
    // Opens by itself when there is nothing to show, never closes by itself (the user may be loading a file).
    let panel = NodeRef::<leptos::html::Details>::new();
    Effect::new(move || {
        if empty() {
            if let Some(details) = panel.get() {
                details.set_open(true);
            }
        }
    });
    view! {
        <details class="data-panel" node_ref=panel data-testid="data-panel">
            <summary>"Data: loaded files and “Load annotations”"</summary>
            <Show when=empty>
                <p class="prompt" data-testid="empty-prompt">
                    "No clips of this dataset version are loaded: the classes and groups below come from the "
                    "papers. Load an official annotation file (CSV or JSON) to see clips and counts."
                </p>
            </Show>
            <div class="data-columns">
                <Sources/>
                <LoadAnnotations/>
            </div>
        </details>
    }
}

/// The loaded sources and the bundled assets not loaded.
#[component]
fn Sources() -> impl IntoView {
    let data = use_data();
    let loaded = move || {
        data.index.with(|index| {
            index
                .sources()
                .map(|(id, info)| {
                    let version = info
                        .version
                        .map_or_else(|| "unknown version".to_owned(), |v| v.to_string());
                    (id, info.name.clone(), version, info.clips, info.skipped)
                })
                .collect::<Vec<_>>()
        })
    };
    let row = move |(id, name, version, clips, skipped): (
        SourceId,
        String,
        String,
        usize,
        usize,
    )| {
        let skipped =
            (skipped > 0).then(|| format!(", {} rows skipped", thousands(skipped as u64)));
        view! {
            <li>
                <span class="source-name">{name}</span>
                " "
                <span class="muted">{format!("{version}, {} clips", thousands(clips as u64))}{skipped}</span>
                " "
                <button type="button" class="link" on:click=move |_| data.remove(id)>"remove"</button>
            </li>
        }
    };
    let bundled = move || match data.manifest.get() {
        None => {
            view! { <p class="muted">"Looking for the site's annotation files…"</p> }.into_any()
        }
        Some(Err(reason)) => {
            view! { <p class="muted">{format!("Bundled files: none ({reason}).")}</p> }.into_any()
        }
        Some(Ok(manifest)) => {
            let states = data.bundles.get();
            let available = manifest
                .sources
                .into_iter()
                .filter(|s| !matches!(states.get(&s.file), Some(Bundle::Loaded(_))))
                .map(|source| {
                    let state = states.get(&source.file).cloned();
                    let label = format!(
                        "{} ({} clips, {} kB)",
                        source.title(),
                        thousands(source.clips as u64),
                        thousands(source.bytes.div_ceil(1000))
                    );
                    let action = match state {
                        Some(Bundle::Loading) => view! { <span class="muted">"loading…"</span> }.into_any(),
                        Some(Bundle::Failed(error)) => {
                            let retry = source.clone();
                            view! {
                                <span class="error">{error}</span>
                                " "
                                <button type="button" class="link" on:click=move |_| data.load_bundle(retry.clone())>"retry"</button>
                            }
                            .into_any()
                        }
                        _ => {
                            let source = source.clone();
                            view! {
                                <button type="button" class="link" on:click=move |_| data.load_bundle(source.clone())>"load"</button>
                            }
                            .into_any()
                        }
                    };
                    view! { <li>{label}" "{action}</li> }
                })
                .collect_view();
            let missing = manifest
                .missing
                .iter()
                .map(|m| m.title())
                .collect::<Vec<_>>()
                .join(", ");
            view! {
                <ul class="sources">{available}</ul>
                <Show when={let empty = missing.is_empty(); move || !empty}>
                    <p class="muted small">{format!("Not bundled with this site: {missing}. Load them from a file or URL.")}</p>
                </Show>
            }
            .into_any()
        }
    };
    view! {
        <section class="sources-panel">
            <h2>"Loaded"</h2>
            <ul class="sources" data-testid="sources">
                {move || {
                    let rows = loaded();
                    if rows.is_empty() {
                        view! { <li class="muted">"nothing yet"</li> }.into_any()
                    } else {
                        rows.into_iter().map(row).collect_view().into_any()
                    }
                }}
            </ul>
            <h2>"Bundled with the site"</h2>
            {bundled}
        </section>
    }
}

/// Loads the bytes of the file `name` as read (from the device or an address), with the `mode` and `skip_bad`
/// chosen by then; or says why they could not be read, naming the file `failed` (its name, or its address).
async fn load_read(
    data: Data,
    read: Result<Vec<u8>, String>,
    name: String,
    failed: String,
    mode: ReadSignal<Mode>,
    skip_bad: ReadSignal<bool>,
) {
    match read {
        Ok(bytes) => {
            // Let the browser paint "Reading…" before a long parse.
            gloo_timers::future::TimeoutFuture::new(16).await;
            data.load_file(
                &name,
                &bytes,
                mode.get_untracked(),
                skip_bad.get_untracked(),
            );
        }
        Err(error) => data.status.set(Some(LoadStatus::Failed {
            name: failed,
            error,
        })),
    }
}

/// File picker, drop zone and URL field, with the extend/replace choice and the outcome.
#[component]
fn LoadAnnotations() -> impl IntoView {
    let data = use_data();
    let (mode, set_mode) = signal(Mode::Extend);
    let (skip_bad, set_skip_bad) = signal(false);
    let (dragging, set_dragging) = signal(false);
    let (url, set_url) = signal(String::new());

    let load_file = move |file: web_sys::File| {
        let name = file.name();
        data.status
            .set(Some(LoadStatus::Busy(format!("Reading {name}…"))));
        leptos::task::spawn_local(async move {
            let read = read_file(&file).await;
            load_read(data, read, name.clone(), name, mode, skip_bad).await;
        });
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let input = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
        if let Some(input) = input {
            if let Some(file) = input.files().and_then(|files| files.get(0)) {
                load_file(file);
            }
            // Picking the same file again must fire `change` again.
            input.set_value("");
        }
    };
    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        set_dragging.set(false);
        if let Some(file) = ev
            .data_transfer()
            .and_then(|dt| dt.files())
            .and_then(|files| files.get(0))
        {
            load_file(file);
        }
    };
    let on_fetch = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let url = url.get_untracked().trim().to_owned();
        if url.is_empty() {
            return;
        }
        let name = name_from_url(&url);
        data.status
            .set(Some(LoadStatus::Busy(format!("Fetching {url}…"))));
        leptos::task::spawn_local(async move {
            let read = fetch_bytes(&url).await;
            load_read(data, read, name, url, mode, skip_bad).await;
        });
    };

    view! {
        <section class="load-panel" aria-labelledby="load-title">
            <h2 id="load-title">"Load annotations"</h2>
            <div
                class="drop-zone"
                class:dragging=dragging
                data-testid="drop-zone"
                on:dragover=move |ev: web_sys::DragEvent| {
                    ev.prevent_default();
                    set_dragging.set(true);
                }
                on:dragleave=move |_| set_dragging.set(false)
                on:drop=on_drop
            >
                <label class="file-label" for="annotations-file">"Choose a CSV or JSON file"</label>
                <input id="annotations-file" type="file" accept=".csv,.json,text/csv,application/json" data-testid="file-input" on:change=on_pick/>
                <span class="muted">"or drop it here"</span>
            </div>
            <form class="url-form" on:submit=on_fetch>
                <label for="annotations-url">"or from a URL"</label>
                <input
                    id="annotations-url"
                    type="url"
                    placeholder="https://…/kinetics-600_val.csv"
                    prop:value=url
                    on:input=move |ev| set_url.set(event_target_value(&ev))
                />
                <button type="submit">"Fetch"</button>
            </form>
            <fieldset class="mode">
                <legend>"The file"</legend>
                <label>
                    <input type="radio" name="load-mode" value="extend" data-testid="mode-extend"
                        prop:checked=move || mode.get() == Mode::Extend
                        on:change=move |_| set_mode.set(Mode::Extend)/>
                    " is added to the loaded data"
                </label>
                <label>
                    <input type="radio" name="load-mode" value="replace" data-testid="mode-replace"
                        prop:checked=move || mode.get() == Mode::Replace
                        on:change=move |_| set_mode.set(Mode::Replace)/>
                    " replaces the loaded data"
                </label>
                <label>
                    <input type="checkbox" prop:checked=skip_bad on:change=move |ev| set_skip_bad.set(event_target_checked(&ev))/>
                    " skip malformed rows (and count them) instead of rejecting the file"
                </label>
            </fieldset>
            <LoadOutcome/>
        </section>
    }
}

/// What happened to the last loaded file.
#[component]
fn LoadOutcome() -> impl IntoView {
    let data = use_data();
    let query = use_explorer_query();
    move || {
        data.status.get().map(|status| match status {
            LoadStatus::Busy(text) => view! {
                <p class="load-status busy" role="status" data-testid="load-status">{text}</p>
            }
            .into_any(),
            LoadStatus::Failed { name, error } => view! {
                <div class="load-status error" role="alert" data-testid="load-status">
                    <p>{format!("Could not load {name}. The loaded data is unchanged.")}</p>
                    <p class="detail" data-testid="load-error">{error}</p>
                </div>
            }
            .into_any(),
            LoadStatus::Loaded {
                headline,
                details,
                version,
            } => {
                let in_view = query.with(|q| q.view);
                let switch = version_hint(version, in_view, query.get());
                view! {
                    <div class="load-status ok" role="status" data-testid="load-status">
                        <p>{headline}</p>
                        {switch}
                        <ul class="detail">
                            {details.into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}
                        </ul>
                    </div>
                }
                .into_any()
            }
        })
    }
}

/// "Its clips are shown under Kinetics-600: switch" when the file is not of the version in view.
fn version_hint(
    version: Option<Version>,
    in_view: View,
    query: super::Query,
) -> Option<impl IntoView> {
    let target = match version {
        Some(Version::K400) => View::K400,
        Some(Version::K600) => View::K600,
        None => View::All,
    };
    (target != in_view && in_view != View::All).then(|| {
        let mut next = query;
        next.view = target;
        next.page = 0;
        let href = next.href("/classes");
        view! {
            <p>
                {format!("Its clips show under “{}”: ", target.label())}
                <a href=href>"switch"</a>
            </p>
        }
    })
}

/// The bytes of a file the user picked or dropped (refused unread over [`MAX_FILE_BYTES`](super::data::MAX_FILE_BYTES)).
async fn read_file(file: &web_sys::File) -> Result<Vec<u8>, String> {
    super::data::check_file_size(&file.name(), file.size())?;
    let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("cannot read the file: {e:?}"))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}
