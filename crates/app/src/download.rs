//! Files offered to the visitor as downloads: text made on the page ([`text`]: the class page's CSV, a run's
//! CSV and JSON, /inside's JSON) or an address already holding the file ([`url`]: /inside's PNG).

use wasm_bindgen::JsCast;

use crate::js::js_text;

/// Offers `text` as a download named `name`, of type `mime`.
pub fn text(name: &str, mime: &str, text: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&text.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|e| js_text(&e))?;
    let address = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| js_text(&e))?;
    url(name, &address)?;
    // Revoked once the download has started (revoking at once cancels it in some browsers).
    gloo_timers::callback::Timeout::new(10_000, move || {
        let _ = web_sys::Url::revoke_object_url(&address);
    })
    .forget();
    Ok(())
}

/// Offers the file at `address` (an object or data URL) as a download named `name`.
pub fn url(name: &str, address: &str) -> Result<(), String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let anchor: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|e| js_text(&e))?
        .unchecked_into();
    anchor.set_href(address);
    anchor.set_download(name);
    anchor.click();
    Ok(())
}
