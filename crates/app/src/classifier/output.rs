//! What the classifier shows: ranked classes linked to the explorer, the per-window timeline of a
//! video, its CSV/JSON export, and the class activation map drawn over the frame.

use i3d_core::postprocess::top_indices;
use leptos::prelude::*;
use protocol::ActivationMap;
use serde::Serialize;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use kinetics::Version;

use crate::links::class_page;

/// A ranked class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    /// Model output index.
    pub index: usize,
    /// Kinetics-400 name.
    pub label: String,
    /// Probability, 0..1.
    pub prob: f32,
}

/// The `k` most probable classes of `probs` (400 probabilities in 0..1, model label order), most
/// probable first, named from the K400 taxonomy. The order is the project's one top-k,
/// [`top_indices`] (ties: lower index first), for a single window as for smoothed or whole-video means.
pub fn rank(probs: &[f32], k: usize) -> Vec<Ranked> {
    let classes = kinetics::Version::K400.classes();
    top_indices(probs, k)
        .into_iter()
        .map(|index| Ranked {
            index,
            label: classes
                .get(index)
                .map_or_else(|| format!("class {index}"), |c| (*c).to_owned()),
            prob: probs.get(index).copied().unwrap_or(0.0),
        })
        .collect()
}

/// The element-wise mean of several probability vectors (all 400 long, model label order); empty
/// when `all` is.
pub fn mean(all: &[Vec<f32>]) -> Vec<f32> {
    let mut out = vec![0.0f32; all.first().map_or(0, Vec::len)];
    for probs in all {
        for (o, p) in out.iter_mut().zip(probs) {
            *o += p / all.len() as f32;
        }
    }
    out
}

/// An ordered list of classes with bars; each name links to its explorer page.
#[component]
pub fn RankedList(
    /// The classes, most probable first.
    items: Vec<Ranked>,
    /// `data-testid` of the list.
    testid: &'static str,
) -> impl IntoView {
    let rows = items
        .into_iter()
        .map(|r| {
            let percent = format!("{:.1}%", r.prob * 100.0);
            let width = format!("width: {:.1}%", (r.prob * 100.0).clamp(0.0, 100.0));
            view! {
                <li>
                    <a href=class_page(&r.label, Version::K400) title="Real Kinetics clips of this class">{r.label.clone()}</a>
                    <span class="bar"><span class="fill" style=width></span></span>
                    <span class="prob">{percent}</span>
                </li>
            }
        })
        .collect_view();
    view! { <ol class="ranked" data-testid=testid>{rows}</ol> }
}

/// The result of one window of a video.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowRow {
    /// 0-based.
    pub window: usize,
    /// First frame's time, s.
    pub start_s: f64,
    /// End of the last frame, s.
    pub end_s: f64,
    /// Frames in the window.
    pub frames: usize,
    /// Top five, most probable first.
    pub top: Vec<Ranked>,
    /// Preprocessing and inference, ms.
    pub latency_ms: f64,
    /// The network alone, ms.
    pub model_ms: f64,
    /// All 400 probabilities in 0..1, model label order (exported in neither CSV nor JSON).
    #[serde(skip)]
    pub probs: Vec<f32>,
}

/// CSV, one row per window: times, frames, the top five (label, probability), latency.
pub fn to_csv(rows: &[WindowRow]) -> Result<String, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "window".to_owned(),
        "start_s".into(),
        "end_s".into(),
        "frames".into(),
    ];
    for k in 1..=5 {
        header.push(format!("top{k}_label"));
        header.push(format!("top{k}_prob"));
    }
    header.push("latency_ms".into());
    writer.write_record(&header).map_err(|e| e.to_string())?;
    for row in rows {
        let mut record = vec![
            row.window.to_string(),
            format!("{:.2}", row.start_s),
            format!("{:.2}", row.end_s),
            row.frames.to_string(),
        ];
        for k in 0..5 {
            match row.top.get(k) {
                Some(r) => {
                    record.push(r.label.clone());
                    record.push(format!("{:.5}", r.prob));
                }
                None => record.extend([String::new(), String::new()]),
            }
        }
        record.push(format!("{:.0}", row.latency_ms));
        writer.write_record(&record).map_err(|e| e.to_string())?;
    }
    let bytes = writer.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// JSON: the file name, the window length and the windows.
pub fn to_json(source: &str, window: usize, rows: &[WindowRow]) -> Result<String, String> {
    serde_json::to_string_pretty(&serde_json::json!({
        "source": source,
        "window_frames": window,
        "fps": super::video::FPS,
        "windows": rows,
    }))
    .map_err(|e| e.to_string())
}

/// A colour per class, stable across renders.
fn colour(index: usize) -> String {
    format!("hsl({}, 65%, 50%)", (index * 137) % 360)
}

/// The timeline: one row per class of the overall top five, one cell per window, shaded by the
/// class's probability in that window; the top class of each window is named on hover.
#[component]
pub fn Timeline(rows: Vec<WindowRow>, classes: Vec<Ranked>, duration: f64) -> impl IntoView {
    const LABEL_W: f64 = 230.0;
    const W: f64 = 900.0;
    const ROW_H: f64 = 26.0;
    let height = ROW_H * classes.len() as f64 + 24.0;
    let scale = (W - LABEL_W) / duration.max(1e-3);
    let lanes = classes
        .iter()
        .enumerate()
        .map(|(lane, class)| {
            let y = lane as f64 * ROW_H;
            let cells = rows
                .iter()
                .map(|row| {
                    let p = row.probs.get(class.index).copied().unwrap_or(0.0);
                    let best = row.top.first().map_or(String::new(), |t| t.label.clone());
                    let title = format!(
                        "{:.2}–{:.2} s: {} {:.1}% (top: {best})",
                        row.start_s,
                        row.end_s,
                        class.label,
                        p * 100.0
                    );
                    view! {
                        <rect x=LABEL_W + row.start_s * scale y=y + 3.0
                            width=((row.end_s - row.start_s) * scale - 1.0).max(1.0) height=ROW_H - 6.0
                            fill=colour(class.index) fill-opacity=format!("{:.3}", 0.08 + 0.92 * p)>
                            <title>{title}</title>
                        </rect>
                    }
                })
                .collect_view();
            view! {
                <g class="lane">
                    <text x=0 y=y + ROW_H * 0.65 class="lane-label">{class.label.clone()}</text>
                    {cells}
                </g>
            }
        })
        .collect_view();
    let axis_y = ROW_H * classes.len() as f64 + 16.0;
    let ticks = (0..=(duration.floor() as usize))
        .map(|s| {
            view! { <text x=LABEL_W + s as f64 * scale y=axis_y class="tick">{format!("{s} s")}</text> }
        })
        .collect_view();
    view! {
        <svg class="timeline" data-testid="timeline" role="img"
            aria-label="Probability of the top classes in each window of the video"
            viewBox=format!("0 0 {W} {height}") preserveAspectRatio="xMinYMin meet">
            {lanes}
            {ticks}
        </svg>
    }
}

/// Redraws `session`'s activation map over its video whenever the map, the toggle or the picture changes: an
/// effect of the page that calls it (`/classify`, `/train`).
pub fn follow_the_map(session: super::Session) {
    let super::Session {
        cam_map,
        show_cam,
        picture,
        video_ref,
        overlay_ref,
        ..
    } = session;
    Effect::new(move || {
        let map = cam_map.get();
        let show = show_cam.get();
        if let (Some(canvas), Some(video)) = (overlay_ref.get(), video_ref.get()) {
            let size = match (video.video_width(), video.video_height()) {
                (0, _) | (_, 0) => picture.get(),
                size => size,
            };
            let shown = if show { map.as_ref() } else { None };
            if let Err(e) = draw_cam(&canvas, size, shown) {
                web_sys::console::warn_1(&e.into());
            }
        }
    });
}

/// Draws `map` over the centre crop of the video shown in `canvas` (the canvas covers the video
/// element; the picture is letterboxed inside it as by `object-fit: contain`).
pub fn draw_cam(
    canvas: &HtmlCanvasElement,
    video: (u32, u32),
    map: Option<&ActivationMap>,
) -> Result<(), String> {
    let (cw, ch) = (
        canvas.client_width().max(1) as u32,
        canvas.client_height().max(1) as u32,
    );
    if canvas.width() != cw || canvas.height() != ch {
        canvas.set_width(cw);
        canvas.set_height(ch);
    }
    let context: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(|e| crate::js::js_text(&e))?
        .ok_or("no 2D canvas")?
        .unchecked_into();
    context.clear_rect(0.0, 0.0, f64::from(cw), f64::from(ch));
    let Some(map) = map else { return Ok(()) };
    if video.0 == 0 || video.1 == 0 || map.values.len() != map.width * map.height {
        return Ok(());
    }
    // The picture's box inside the element.
    let scale = (f64::from(cw) / f64::from(video.0)).min(f64::from(ch) / f64::from(video.1));
    let (pw, ph) = (f64::from(video.0) * scale, f64::from(video.1) * scale);
    let (px, py) = ((f64::from(cw) - pw) / 2.0, (f64::from(ch) - ph) / 2.0);
    // The model's centre crop: 224 of the 256-pixel shorter side, centred.
    let side = pw.min(ph) * 224.0 / 256.0;
    let (x, y) = (px + (pw - side) / 2.0, py + (ph - side) / 2.0);
    let mut rgba = Vec::with_capacity(map.values.len() * 4);
    for &v in &map.values {
        let v = v.clamp(0.0, 1.0);
        // Transparent blue for no evidence through yellow to opaque red.
        let r = (255.0 * (v * 2.0).min(1.0)) as u8;
        let g = (255.0 * (1.0 - (v - 0.5).abs() * 2.0).max(0.0)) as u8;
        let b = (255.0 * (1.0 - v * 2.0).max(0.0)) as u8;
        rgba.extend([r, g, b, (200.0 * v) as u8]);
    }
    let image = ImageData::new_with_u8_clamped_array_and_sh(
        Clamped(&rgba),
        map.width as u32,
        map.height as u32,
    )
    .map_err(|e| crate::js::js_text(&e))?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let small: HtmlCanvasElement = document
        .create_element("canvas")
        .map_err(|e| crate::js::js_text(&e))?
        .unchecked_into();
    small.set_width(map.width as u32);
    small.set_height(map.height as u32);
    let small_context: CanvasRenderingContext2d = small
        .get_context("2d")
        .map_err(|e| crate::js::js_text(&e))?
        .ok_or("no 2D canvas")?
        .unchecked_into();
    small_context
        .put_image_data(&image, 0.0, 0.0)
        .map_err(|e| crate::js::js_text(&e))?;
    context.set_image_smoothing_enabled(true);
    context
        .draw_image_with_html_canvas_element_and_dw_and_dh(&small, x, y, side, side)
        .map_err(|e| crate::js::js_text(&e))?;
    context.set_stroke_style_str("rgba(255,255,255,0.6)");
    context.stroke_rect(x, y, side, side);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn csv_has_a_header_and_one_row_per_window() {
        let row = |window: usize| WindowRow {
            window,
            start_s: window as f64 * 1.28,
            end_s: (window + 1) as f64 * 1.28,
            frames: 32,
            top: rank(
                &{
                    let mut p = vec![0.0; 400];
                    p[227] = 0.9;
                    p[5] = 0.1;
                    p
                },
                5,
            ),
            latency_ms: 1234.0,
            model_ms: 1100.0,
            probs: Vec::new(),
        };
        let csv = to_csv(&[row(0), row(1)]).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("window,start_s,end_s,frames,top1_label,top1_prob"));
        assert!(
            lines[1].starts_with("0,0.00,1.28,32,playing cricket,0.90000,archery,0.10000"),
            "{}",
            lines[1]
        );
    }
}
