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

use std::rc::Rc;
use std::sync::Arc;

use i3d_core::anatomy::{Anatomy, Kind, LayerSummary};
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{FilterTiles, FromWorker, Inspection, ToWorker};
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use super::client::{js_text, ModelStatus};
use super::model::Model;
use super::output;

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
        if let Err(e) =
            json.and_then(|text| output::download("i3d-inside.json", "application/json", &text))
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
                "I3D is Inception-v1, a 2D network trained on ImageNet, “inflated” into 3D: every N×N filter became "
                "N×N×N (its weights copied along time and divided by N), then the whole network was trained on Kinetics "
                "videos. Below: its layers, what they compute on the last window the classifier saw, and what each costs."
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

/// `12.69 M` / `55.6`: the totals as the page and `kinetiscope bench` print them.
fn millions(n: usize) -> String {
    format!("{:.2} M", n as f64 / 1e6)
}

fn dims(d: [usize; 3]) -> String {
    format!("{}×{}×{}", d[0], d[1], d[2])
}

/// The layer table, with the measured times when there are some.
#[component]
fn ArchitectureTable(anatomy: Anatomy, timings: RwSignal<Option<Timings>>) -> impl IntoView {
    let frames = anatomy.frames;
    let total_gflop = anatomy.gflop();
    let rows = anatomy
        .layers
        .into_iter()
        .map(|layer| view! { <LayerRow layer=layer frames=frames timings=timings/> })
        .collect_view();
    view! {
        <div class="table-scroll">
        <table class="architecture" data-testid="architecture">
            <thead><tr>
                <th scope="col">"Layer"</th><th scope="col">"What"</th><th scope="col">"Kernel t×h×w"</th>
                <th scope="col">"Stride"</th><th scope="col">"Output T×H×W×C"</th>
                <th scope="col" class="num">"Parameters"</th><th scope="col" class="num">"GFLOP"</th>
                <th scope="col">"Sees (frames × pixels)"</th><th scope="col" class="num">"Measured"</th>
            </tr></thead>
            <tbody>{rows}</tbody>
            <tfoot><tr data-testid="totals" data-parameters=anatomy.parameters.to_string() data-gflop=format!("{total_gflop:.1}")>
                <th scope="row" colspan="5">{format!("Total for a {frames}-frame clip")}</th>
                <td class="num">{millions(anatomy.parameters)}</td>
                <td class="num">{format!("{total_gflop:.1}")}</td>
                <td colspan="2"></td>
            </tr></tfoot>
        </table>
        </div>
    }
}

#[component]
fn LayerRow(
    layer: LayerSummary,
    frames: usize,
    timings: RwSignal<Option<Timings>>,
) -> impl IntoView {
    let name = layer.name;
    let gflop = layer.gflop();
    let measured = move || {
        timings.get().and_then(|t| {
            if t.frames != frames {
                return None;
            }
            let ms = t.times?.into_iter().find(|(n, _)| n == name)?.1;
            Some(if gflop > 0.0 && ms > 0.0 {
                format!("{ms:.1} ms, {:.1} GFLOP/s", gflop / (ms / 1e3))
            } else {
                format!("{ms:.1} ms")
            })
        })
    };
    let [t, h, w, c] = [
        layer.output.t,
        layer.output.h,
        layer.output.w,
        layer.output.c,
    ];
    let rf = layer.receptive_field;
    let what = if layer.kind == Kind::Inception && !layer.branches.is_empty() {
        let branches = layer
            .branches
            .iter()
            .map(|b| {
                let steps = b
                    .steps
                    .iter()
                    .map(|s| format!("{} → {}", dims(s.kernel), s.channels))
                    .collect::<Vec<_>>()
                    .join(", then ");
                view! { <li>{format!("{}: {steps} ({} channels, {} parameters)", b.name, b.channels, b.parameters)}</li> }
            })
            .collect_view();
        view! {
            <details data-testid="branches">
                <summary>{layer.kind.label()}</summary>
                <ul class="branches">{branches}</ul>
            </details>
        }
        .into_any()
    } else {
        layer.kind.label().into_any()
    };
    view! {
        <tr data-testid="layer-row" data-layer=name>
            <th scope="row">{name}</th>
            <td>{what}</td>
            <td>{dims(layer.kernel)}</td>
            <td>{dims(layer.stride)}</td>
            <td>{format!("{t}×{h}×{w}×{c}")}</td>
            <td class="num">{layer.parameters.to_string()}</td>
            <td class="num">{format!("{gflop:.2}")}</td>
            <td>{format!("{} × {}×{}", rf[0], rf[1], rf[2])}</td>
            <td class="num" data-testid="layer-time">{measured}</td>
        </tr>
    }
}

/// The strongest channels over time, with the input frame at the same moment.
#[component]
fn Activations(inspection: Arc<Inspection>, time: RwSignal<usize>) -> impl IntoView {
    let [vt, vh, vw] = inspection.volume;
    let [lt, lh, lw, lc] = inspection.shape;
    let side = inspection.input_side;
    let frames = inspection.frames;
    let input = inspection.clone();
    // The input frame shown with layer time step `t`: the first frame that step covers.
    let input_frame = move || (time.get() * frames / vt.max(1)).min(frames.saturating_sub(1));
    let input_canvas = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move || {
        let f = input_frame();
        if let Some(canvas) = input_canvas.get() {
            let len = side * side * 3;
            if let Some(rgb) = input.input.get(f * len..(f + 1) * len) {
                draw(&canvas, side, side, &rgb_to_rgba(rgb));
            }
        }
    });
    let tiles = inspection
        .channels
        .iter()
        .map(|c| {
            let channel = c.clone();
            let canvas = NodeRef::<leptos::html::Canvas>::new();
            Effect::new(move || {
                let t = time.get().min(vt.saturating_sub(1));
                let len = vh * vw;
                if let (Some(canvas), Some(frame)) =
                    (canvas.get(), channel.pixels.get(t * len..(t + 1) * len))
                {
                    draw(&canvas, vw, vh, &gray_to_rgba(frame));
                }
            });
            view! {
                <figure class="channel" data-testid="channel" data-channel=c.index.to_string()>
                    <canvas node_ref=canvas width=vw.to_string() height=vh.to_string()></canvas>
                    <figcaption>{format!("#{} mean {:.2}", c.index, c.mean)}</figcaption>
                </figure>
            }
        })
        .collect_view();
    view! {
        <div class="activations" data-testid="activations" data-layer=inspection.layer.clone()
            data-backend=inspection.backend.as_str()>
            <p class="muted">{format!(
                "{}: output {lt}×{lh}×{lw}×{lc} (time × height × width × channels) on a {frames}-frame window, computed on {} in {:.0} ms. \
                 The {} channels with the highest mean activation, strongest first; white is the channel's highest value.",
                inspection.layer, inspection.backend.label(), inspection.ms, inspection.channels.len())}</p>
            <label>"Time step "
                <input type="range" min="0" max=vt.saturating_sub(1).to_string() data-testid="time-step"
                    prop:value=move || time.get().to_string()
                    on:input=move |ev| if let Ok(t) = event_target_value(&ev).parse() { time.set(t) }/>
                {move || format!(" {} of {vt} (input frame {})", time.get() + 1, input_frame() + 1)}
            </label>
            <div class="activation-grid" data-testid="activation-grid">
                <figure class="channel input">
                    <canvas node_ref=input_canvas width=side.to_string() height=side.to_string()></canvas>
                    <figcaption>"input"</figcaption>
                </figure>
                {tiles}
            </div>
        </div>
    }
}

/// The 64 first-layer filters, animated over their 7 frames.
#[component]
fn FilterGrid(tiles: Arc<FilterTiles>, tick: RwSignal<usize>) -> impl IntoView {
    let [kt, kh, kw, _, cout] = tiles.shape;
    let frame_len = kh * kw * 3;
    let per_filter = kt * frame_len;
    let cells = (0..cout)
        .map(|o| {
            let share = tiles.temporal.get(o).copied().unwrap_or(0.0);
            let tiles = tiles.clone();
            let canvas = NodeRef::<leptos::html::Canvas>::new();
            Effect::new(move || {
                let t = tick.get() % kt.max(1);
                let start = o * per_filter + t * frame_len;
                if let (Some(canvas), Some(rgb)) =
                    (canvas.get(), tiles.rgb.get(start..start + frame_len))
                {
                    draw(&canvas, kw, kh, &rgb_to_rgba(rgb));
                }
            });
            view! {
                <figure class="filter" data-testid="filter" title=format!("filter {o}: {:.0}% of it changes over time", share * 100.0)>
                    <canvas node_ref=canvas width=kw.to_string() height=kh.to_string()></canvas>
                    <figcaption>{format!("{:.0}%", share * 100.0)}</figcaption>
                </figure>
            }
        })
        .collect_view();
    view! { <div class="filter-grid" data-testid="filters">{cells}</div> }
}

#[component]
fn TimingSummary(timings: Timings) -> impl IntoView {
    match timings.times {
        Some(times) => {
            let total: f64 = times.iter().map(|t| t.1).sum();
            view! {
                <p data-testid="timing-summary" data-total-ms=format!("{total:.0}")>
                    {format!("{:.0} ms in all on {} for a {}-frame window; each layer's time and GFLOP/s are in the table above.",
                        total, timings.backend.label(), timings.frames)}
                </p>
            }
            .into_any()
        }
        None => view! {
            <p data-testid="timing-summary">{format!(
                "{} cannot time single layers here (the GPU offers no timestamp queries). Open the classifier with ?backend=cpu to time the CPU path.",
                timings.backend.label())}</p>
        }
        .into_any(),
    }
}

fn gray_to_rgba(gray: &[u8]) -> Vec<u8> {
    gray.iter().flat_map(|&v| [v, v, v, 255]).collect()
}

fn rgb_to_rgba(rgb: &[u8]) -> Vec<u8> {
    rgb.chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect()
}

/// Puts `rgba` (`width`×`height`) on `canvas`.
fn draw(canvas: &HtmlCanvasElement, width: usize, height: usize, rgba: &[u8]) {
    let context = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok());
    let image =
        ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), width as u32, height as u32);
    if let (Some(context), Ok(image)) = (context, image) {
        let _ = context.put_image_data(&image, 0.0, 0.0);
    }
}

/// The input and channel tiles as they are now, side by side in one PNG.
fn download_grid_png() -> Result<(), String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let sources = document
        .query_selector_all("[data-testid=activation-grid] canvas")
        .map_err(|e| js_text(&e))?;
    let count = sources.length() as usize;
    if count == 0 {
        return Err("no activations shown".into());
    }
    const CELL: usize = 112;
    let columns = 6;
    let rows = count.div_ceil(columns);
    let sheet: HtmlCanvasElement = document
        .create_element("canvas")
        .map_err(|e| js_text(&e))?
        .unchecked_into();
    sheet.set_width((columns * CELL) as u32);
    sheet.set_height((rows * CELL) as u32);
    let context: CanvasRenderingContext2d = sheet
        .get_context("2d")
        .map_err(|e| js_text(&e))?
        .ok_or("no 2D canvas")?
        .unchecked_into();
    context.set_image_smoothing_enabled(false);
    for i in 0..count {
        if let Some(canvas) = sources
            .get(i as u32)
            .and_then(|n| n.dyn_into::<HtmlCanvasElement>().ok())
        {
            let (x, y) = ((i % columns) * CELL, (i / columns) * CELL);
            context
                .draw_image_with_html_canvas_element_and_dw_and_dh(
                    &canvas,
                    x as f64,
                    y as f64,
                    CELL as f64,
                    CELL as f64,
                )
                .map_err(|e| js_text(&e))?;
        }
    }
    let url = sheet
        .to_data_url_with_type("image/png")
        .map_err(|e| js_text(&e))?;
    let anchor: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|e| js_text(&e))?
        .unchecked_into();
    anchor.set_href(&url);
    anchor.set_download("i3d-activations.png");
    anchor.click();
    Ok(())
}

/// The architecture, the shown channels (without their pixels) and the timings as JSON.
fn export(
    anatomy: Option<&Anatomy>,
    inspection: Option<&Inspection>,
    timings: Option<&Timings>,
) -> Result<String, String> {
    let channels = inspection.map(|i| {
        serde_json::json!({
            "layer": i.layer,
            "backend": i.backend.as_str(),
            "frames": i.frames,
            "shape": i.shape,
            "ms": i.ms,
            "channels": i.channels.iter().map(|c| serde_json::json!({
                "index": c.index, "mean": c.mean, "min": c.min, "max": c.max,
            })).collect::<Vec<_>>(),
            "means": i.means,
        })
    });
    let times = timings.map(|t| {
        serde_json::json!({ "backend": t.backend.as_str(), "frames": t.frames, "layers_ms": t.times })
    });
    serde_json::to_string_pretty(&serde_json::json!({
        "architecture": anatomy,
        "activations": channels,
        "layer_times": times,
    }))
    .map_err(|e| e.to_string())
}
