//! Small helpers over JavaScript values.

use wasm_bindgen::{JsCast, JsValue};

/// `JsValue` to text for messages.
pub fn js_text(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}
