//! `/inside`'s downloads: the shown tiles as one PNG, and the architecture, channels and timings as JSON.

use i3d_core::anatomy::Anatomy;
use protocol::Inspection;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use super::Timings;
use crate::js::js_text;

/// The input and channel tiles as they are now, side by side in one PNG.
pub(super) fn download_grid_png() -> Result<(), String> {
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
    crate::download::url("i3d-activations.png", &url)
}

/// The architecture, the shown channels (without their pixels) and the timings as JSON.
pub(super) fn export(
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
