//! The model panel: loading progress, the backend and precision that run and why, the load and
//! warm-up times, and the weights cache (storage used, persistence, removal).

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::client::ModelStatus;
use super::model::Model;
use crate::js::js_text;
use protocol::Progress;

/// `bytes` as megabytes (10^6 bytes) with one decimal, e.g. `25.3 MB`.
fn megabytes(bytes: f64) -> String {
    format!("{:.1} MB", bytes / 1e6)
}

/// Progress, backend and precision, and the weights cache.
#[component]
pub fn ModelPanel(model: Model) -> impl IntoView {
    let storage = RwSignal::new(None::<String>);
    let refresh_storage = move || {
        spawn_local(async move {
            storage.set(storage_summary().await);
        });
    };
    // Ask once for persistent storage, so the browser does not evict the model under pressure.
    spawn_local(async move {
        request_persistence().await;
        storage.set(storage_summary().await);
    });
    Effect::new(move || {
        if let ModelStatus::Ready(_) = model.status.get() {
            refresh_storage();
        }
    });
    // Back online after a failure (a download cut off, an offline first visit): try again by itself.
    if let Some(pwa) = use_context::<crate::pwa::Pwa>() {
        Effect::new(move |was_online: Option<bool>| {
            let online = pwa.online.get();
            let failed = matches!(model.status.get_untracked(), ModelStatus::Failed(_));
            if was_online == Some(false) && online && failed {
                model.retry();
            }
            online
        });
    }
    let remove = move |_| {
        spawn_local(async move {
            let removed = remove_cached_model().await;
            storage.set(Some(match removed {
                Ok(true) => "Cached model removed: the next visit downloads it again.".to_owned(),
                Ok(false) => "No cached model to remove.".to_owned(),
                Err(e) => format!("Could not remove the cached model: {e}"),
            }));
        });
    };
    let status = move || {
        match model.status.get() {
        ModelStatus::Idle | ModelStatus::Starting => {
            view! { <p data-testid="model-status">"Starting the classifier…"</p> }.into_any()
        }
        ModelStatus::Loading(Progress {
            loaded,
            total,
            from_cache,
        }) => view! {
            <p data-testid="model-status">
                {if from_cache { "Reading the model from this device's cache: " } else { "Downloading the model: " }}
                {format!("{} of {}", megabytes(loaded as f64), megabytes(total as f64))}
            </p>
            <progress data-testid="model-progress" max=total.to_string() value=loaded.to_string()></progress>
        }
        .into_any(),
        ModelStatus::WarmingUp { backend } => view! {
            <p data-testid="model-status">{format!("Warming up on {}…", backend.label())}</p>
        }
        .into_any(),
        ModelStatus::Ready(r) => view! {
            <p data-testid="model-status" data-backend=r.backend.as_str() data-precision=r.precision.as_str()>
                "Ready on " <strong data-testid="backend">{r.backend.label()}</strong>
                {format!(" ({} weights), because {}.", r.precision, r.reason)}
            </p>
            {r.reason_detail.clone().map(|detail| view! {
                <details class="muted" data-testid="reason-detail">
                    <summary>"Details"</summary>
                    <code>{detail}</code>
                </details>
            })}
            <p class="muted">{format!("Loaded in {:.1} s{}, warm-up pass (16 frames) {:.0} ms.",
                r.load_ms / 1000.0, if r.from_cache { " from the cache" } else { "" }, r.warmup_ms)}</p>
            <p class="muted" data-testid="threads" data-threads=r.threads.count.to_string()>
                {format!("CPU: {}.", r.threads.note)}
            </p>
            {(!r.notes.is_empty()).then(|| view! {
                <ul class="notes" data-testid="model-notes">
                    {r.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
                </ul>
            })}
            {(!r.measured.is_empty()).then(|| view! {
                <p class="muted" data-testid="measured">{format!("Warm-up measured on each backend: {}; the faster one is kept.",
                    r.measured.iter().map(|(b, ms)| format!("{} {:.0} ms", b.label(), ms)).collect::<Vec<_>>().join(", "))}</p>
            })}
        }
        .into_any(),
        ModelStatus::Failed(message) => view! {
            <p class="error" role="alert" data-testid="model-error">{message}</p>
            <p>
                {model.can_retry().then(|| view! {
                    <button type="button" data-testid="model-retry" on:click=move |_| { model.retry(); }>"Try again"</button>
                })}
                {model.asked_for_webgpu().then(|| view! {
                    " "
                    <a href="/classify?backend=cpu" data-testid="use-cpu">"Run on the CPU instead"</a>
                })}
            </p>
        }
        .into_any(),
    }
    };
    view! {
        <section class="model-panel" aria-label="Model">
            {status}
            <p class="muted storage">
                <span data-testid="storage">{move || storage.get().unwrap_or_default()}</span>
                " "
                <button type="button" class="link" data-testid="remove-model" on:click=remove>"Remove cached model"</button>
            </p>
        </section>
    }
}

/// Asks the browser to keep this site's storage (the weights) under storage pressure.
async fn request_persistence() {
    let Some(storage) = web_sys::window().map(|w| w.navigator().storage()) else {
        return;
    };
    if let Ok(promise) = storage.persist() {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
}

/// "Storage used by this site: X MB of Y MB[, persistent].", or `None` where the browser cannot say.
async fn storage_summary() -> Option<String> {
    let storage = web_sys::window()?.navigator().storage();
    let estimate = wasm_bindgen_futures::JsFuture::from(storage.estimate().ok()?)
        .await
        .ok()?;
    let get = |key: &str| {
        js_sys::Reflect::get(&estimate, &key.into())
            .ok()
            .and_then(|v| v.as_f64())
    };
    let persisted = match storage.persisted() {
        Ok(p) => wasm_bindgen_futures::JsFuture::from(p)
            .await
            .ok()
            .and_then(|v| v.as_bool()),
        Err(_) => None,
    };
    Some(format!(
        "Storage used by this site: {} of {}{}.",
        megabytes(get("usage")?),
        megabytes(get("quota")?),
        if persisted == Some(true) {
            ", persistent"
        } else {
            ""
        }
    ))
}

/// Deletes the weights' cache: `Ok(true)` when there was one.
async fn remove_cached_model() -> Result<bool, String> {
    let caches = web_sys::window()
        .ok_or("no window")?
        .caches()
        .map_err(|e| js_text(&e))?;
    let deleted = wasm_bindgen_futures::JsFuture::from(caches.delete(protocol::MODEL_CACHE))
        .await
        .map_err(|e| js_text(&e))?;
    Ok(deleted.as_bool().unwrap_or(false))
}
