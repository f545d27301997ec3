//! The parts of `/inside`: the architecture table, the activations, the filters and the timings.

use std::sync::Arc;

use i3d_core::anatomy::{Anatomy, Kind, LayerSummary};
use leptos::prelude::*;
use protocol::{FilterTiles, Inspection};
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use super::Timings;

/// `12.69 M` / `55.6`: the totals as the page and `kinetiscope bench` print them.
fn millions(n: usize) -> String {
    format!("{:.2} M", n as f64 / 1e6)
}

fn dims(d: [usize; 3]) -> String {
    format!("{}×{}×{}", d[0], d[1], d[2])
}

/// The layer table, with the measured times when there are some.
#[component]
pub(super) fn ArchitectureTable(
    anatomy: Anatomy,
    timings: RwSignal<Option<Timings>>,
) -> impl IntoView {
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
pub(super) fn LayerRow(
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
pub(super) fn Activations(inspection: Arc<Inspection>, time: RwSignal<usize>) -> impl IntoView {
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
pub(super) fn FilterGrid(tiles: Arc<FilterTiles>, tick: RwSignal<usize>) -> impl IntoView {
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
pub(super) fn TimingSummary(timings: Timings) -> impl IntoView {
    match timings.times {
        Some(times) => {
            let total: f64 = times.iter().map(|t| t.1).sum();
            view! {
                <p data-testid="timing-summary" data-total-ms=format!("{total:.0}")>
                    {format!("{:.0} ms in all on {} for a {}-frame window; each layer's time and effective GFLOP/s (its direct convolution's FLOPs ÷ time: Winograd layers do fewer multiplications) are in the table above.",
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
