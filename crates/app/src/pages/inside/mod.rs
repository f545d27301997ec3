//! `/inside`: what I3D computes on the last window the classifier saw, layer by layer.
//!
//! - The architecture, drawn from the layer table (`i3d_core::anatomy`): kernel, stride, output
//!   shape, parameters, GFLOP and receptive field of every layer; Inception blocks open into their
//!   four branches. The totals are `kinetiscope bench`'s.
//! - Activations: a layer's strongest channels on the last window, over time, beside the frames the
//!   network saw; computed in the worker on the backend in use (`ToWorker::Inspect`), only when asked.
//! - The first layer's 64 filters of 7×7×7, animated over their 7 frames.
//! - The measured time of each layer on the last window next to its FLOPs.
//!
//! The worker keeps the last window by moving its buffer, so classification costs nothing more
//! whether this page is open or not; everything here runs only when the visitor asks.

mod export;
mod views;

use std::rc::Rc;
use std::sync::Arc;

use i3d_core::anatomy::Anatomy;
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{FilterTiles, FromWorker, Inspection, ToWorker};

use crate::classifier::client::ModelStatus;
use crate::classifier::Model;
use export::{download_grid_png, export};
use views::{Activations, ArchitectureTable, FilterGrid, TimingSummary};

/// Channels shown for a layer.
const CHANNELS: usize = 16;

/// Clip lengths the architecture table can be shown for, frames.
const TABLE_FRAMES: [usize; 3] = [16, 32, 64];

/// Milliseconds between animation frames (filters, activations when playing).
const ANIMATION_MS: u32 = 250;

/// Measured per-layer times of the last window.
#[derive(Debug, Clone, PartialEq)]
struct Timings {
    backend: protocol::Backend,
    frames: usize,
    times: Option<Vec<(String, f64)>>,
}

/// The page.
#[component]
pub fn InsidePage() -> impl IntoView {
    let model = use_context::<Model>().unwrap_or_default();
    let table_frames = RwSignal::new(16usize);
    let anatomy = Memo::new(move |_| Anatomy::of(table_frames.get()).ok());
    let layer = RwSignal::new("Mixed_3b".to_owned());
    let inspection = RwSignal::new(None::<Arc<Inspection>>);
    let filters = RwSignal::new(None::<Arc<FilterTiles>>);
    let timings = RwSignal::new(None::<Timings>);
    let busy = RwSignal::new(None::<&'static str>);
    let error = RwSignal::new(None::<String>);
    let time = RwSignal::new(0usize);
    let playing = RwSignal::new(false);
    let tick = RwSignal::new(0usize);
    // One clock for the animations (filters always, activations while playing), stopped on leaving.
    let interval = gloo_timers::callback::Interval::new(ANIMATION_MS, move || {
        tick.update(|t| *t = t.wrapping_add(1));
        if playing.get_untracked() {
            let steps = inspection.with_untracked(|i| i.as_ref().map_or(1, |i| i.volume[0].max(1)));
            time.update(|t| *t = (*t + 1) % steps);
        }
    });
    let interval = StoredValue::new_local(Some(interval));
    on_cleanup(move || {
        if let Some(i) = interval.try_update_value(Option::take).flatten() {
            i.cancel();
        }
    });

    let ready = move || matches!(model.status.get(), ModelStatus::Ready(_));
    let ask = move |what: &'static str, make: Rc<dyn Fn(u32) -> ToWorker>| {
        let Some(client) = model.ready_now() else {
            error.set(Some(
                "The classifier is not ready: open it, and classify a clip first.".into(),
            ));
            return;
        };
        busy.set(Some(what));
        error.set(None);
        spawn_local(async move {
            let answer = client.ask(|id| make(id)).await;
            busy.set(None);
            match answer {
                Ok(FromWorker::Inspected { inspection: i, .. }) => {
                    time.set(0);
                    inspection.set(Some(Arc::new(i)));
                }
                Ok(FromWorker::Filters { tiles, .. }) => filters.set(Some(Arc::new(tiles))),
                Ok(FromWorker::LayerTimes {
                    backend,
                    frames,
                    times,
                    ..
                }) => {
                    table_frames.set(frames);
                    timings.set(Some(Timings {
                        backend,
                        frames,
                        times,
                    }));
                }
                Ok(_) => error.set(Some("the classifier answered something else".into())),
                Err(e) => error.set(Some(format!("Could not {what}: {e}"))),
            }
        });
    };
    let show_layer = move |_| {
        let name = layer.get_untracked();
        ask(
            "show the activations",
            Rc::new(move |id| ToWorker::Inspect {
                id,
                layer: name.clone(),
                channels: CHANNELS,
            }),
        );
    };
    let show_filters = move |_| ask("show the filters", Rc::new(|id| ToWorker::Filters { id }));
    let time_layers = move |_| ask("time the layers", Rc::new(|id| ToWorker::TimeLayers { id }));
    let export_json = move |_| {
        let json = export(
            anatomy.get_untracked().as_ref(),
            inspection.get_untracked().as_deref(),
            timings.get_untracked().as_ref(),
        );
        if let Err(e) = json
            .and_then(|text| crate::download::text("i3d-inside.json", "application/json", &text))
        {
            error.set(Some(format!("Could not export: {e}")));
        }
    };
    let export_png = move |_| {
        if let Err(e) = download_grid_png() {
            error.set(Some(format!("Could not export: {e}")));
        }
    };

    view! {
        <section class="page inside">
            <h1>"Inside I3D"</h1>
            <p class="lede">
                "I3D is Inception-v1, a 2D network trained on ImageNet, “inflated” into 3D: every N×N filter became \
                 N×N×N (its weights copied along time and divided by N), then the whole network was trained on Kinetics \
                 videos. Below: its layers, what they compute on the last window the classifier saw, and what each costs."
            </p>
            <p class="muted" data-testid="inside-status">
                {move || match model.status.get() {
                    ModelStatus::Ready(r) => format!("The model runs on {} ({} weights). Activations, filters and times come from it.", r.backend.label(), r.precision),
                    ModelStatus::Failed(e) => format!("The model did not load: {e}"),
                    _ => "The model is not loaded yet: open the classifier and classify a clip (the sample clip will do).".to_owned(),
                }}
                " " <a href="/classify">"Open the classifier"</a>
            </p>
            {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="inside-error">{e}</p> })}

            <h2>"The architecture"</h2>
            <label>"Clip length "
                <select data-testid="table-frames" prop:value=move || table_frames.get().to_string()
                    on:change=move |ev| {
                        if let Ok(n) = event_target_value(&ev).parse() { table_frames.set(n) }
                    }>
                    // The usual lengths, and the last window's when it is another.
                    {move || {
                        let now = table_frames.get();
                        let mut lengths = TABLE_FRAMES.to_vec();
                        if !lengths.contains(&now) {
                            lengths.push(now);
                            lengths.sort_unstable();
                        }
                        lengths.into_iter().map(|n| view! {
                            <option value=n.to_string() selected={n == now}>{format!("{n} frames")}</option>
                        }).collect_view()
                    }}
                </select>
            </label>
            {move || anatomy.get().map(|a| view! { <ArchitectureTable anatomy=a timings=timings/> })}

            <h2>"Activations on the last window"</h2>
            <p class="controls">
                <label>"Layer "
                    <select data-testid="layer-picker" prop:value=move || layer.get()
                        on:change=move |ev| layer.set(event_target_value(&ev))>
                        {i3d_core::anatomy::inspectable().map(|name| view! {
                            <option value=name selected=move || layer.get() == name>{name}</option>
                        }).collect_view()}
                    </select>
                </label>
                " "
                <button type="button" data-testid="show-activations" on:click=show_layer
                    disabled=move || !ready() || busy.get().is_some()>"Show its strongest channels"</button>
                " "
                <button type="button" data-testid="play" on:click=move |_| playing.update(|p| *p = !*p)>
                    {move || if playing.get() { "Pause" } else { "Play" }}
                </button>
                " "
                <button type="button" data-testid="export-png" on:click=export_png
                    disabled=move || inspection.with(Option::is_none)>"Download PNG"</button>
                " "
                <button type="button" data-testid="export-json" on:click=export_json>"Download JSON"</button>
            </p>
            {move || busy.get().map(|what| view! { <p class="muted" role="status">{format!("Working: {what}…")}</p> })}
            {move || inspection.get().map(|i| view! { <Activations inspection=i time=time/> })}

            <h2>"The first layer's filters"</h2>
            <p class="muted">
                "The 64 filters of Conv3d_1a, 7 frames of 7×7 RGB each, played in a loop. An inflated ImageNet filter "
                "starts the same in all 7 frames; the share under each tile is how much of it now changes over time, "
                "which is what training on video added."
            </p>
            <button type="button" data-testid="show-filters" on:click=show_filters
                disabled=move || !ready() || busy.get().is_some()>"Show the filters"</button>
            {move || filters.get().map(|f| view! { <FilterGrid tiles=f tick=tick/> })}

            <h2>"Where the time goes"</h2>
            <p class="muted">"One pass over the last window, each layer timed on the backend in use, next to its FLOPs."</p>
            <button type="button" data-testid="time-layers" on:click=time_layers
                disabled=move || !ready() || busy.get().is_some()>"Time each layer"</button>
            {move || timings.get().map(|t| view! { <TimingSummary timings=t/> })}
        </section>
    }
}
