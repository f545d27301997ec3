//! The installable, offline app: service worker registration (release builds only, so development
//! reloads are never stale), the "new version available" prompt, and the online/offline state.
//!
//! The service worker itself is `www/sw.js`; `cargo xtask` writes its version and precache list.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{ServiceWorker, ServiceWorkerRegistration, ServiceWorkerState};

/// Whether the browser is online, and whether a new version waits; provided as context by the app.
#[derive(Clone, Copy)]
pub struct Pwa {
    /// `navigator.onLine`, kept up to date by the `online`/`offline` events.
    pub online: RwSignal<bool>,
    /// A new version is installed and waiting for the visitor's "reload".
    pub update_waiting: RwSignal<bool>,
    /// Why the app could not be saved for offline use (the service worker's precache failed, e.g.
    /// the storage quota is exhausted); `None` while nothing failed.
    pub offline_unavailable: RwSignal<Option<String>>,
    registration: StoredValue<Option<ServiceWorkerRegistration>, LocalStorage>,
    /// The visitor pressed "Reload" in this tab: reload when the new version takes over.
    reload_requested: StoredValue<bool>,
}

impl Pwa {
    /// Starts watching the connection and, in release builds, registers the service worker.
    pub fn start() -> Self {
        let window = web_sys::window();
        let online = window.as_ref().is_none_or(|w| w.navigator().on_line());
        let pwa = Self {
            online: RwSignal::new(online),
            update_waiting: RwSignal::new(false),
            offline_unavailable: RwSignal::new(None),
            registration: StoredValue::new_local(None),
            reload_requested: StoredValue::new(false),
        };
        if let Some(window) = window {
            for (event, value) in [("online", true), ("offline", false)] {
                let signal = pwa.online;
                let handler = Closure::<dyn FnMut()>::new(move || signal.set(value));
                let _ = window
                    .add_event_listener_with_callback(event, handler.as_ref().unchecked_ref());
                // Listens for the page's lifetime.
                handler.forget();
            }
        }
        if !cfg!(debug_assertions) {
            pwa.register();
        }
        pwa
    }

    fn register(self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let navigator = window.navigator();
        if js_sys::Reflect::get(&navigator, &"serviceWorker".into())
            .map_or(true, |s| s.is_undefined())
        {
            return;
        }
        let container = navigator.service_worker();
        let had_controller = container.controller().is_some();
        // A new version took over. After "Reload" in this tab, load it. After "Reload" in another tab, this
        // one keeps what the visitor loaded and asks instead: a forced reload would lose loaded files and
        // results. A first install taking control of the page is not a new version.
        let reload = Closure::<dyn FnMut()>::new(move || {
            if self.reload_requested.get_value() {
                if let Some(w) = web_sys::window() {
                    let _ = w.location().reload();
                }
            } else if had_controller {
                self.update_waiting.set(true);
            }
        });
        container.set_oncontrollerchange(Some(reload.as_ref().unchecked_ref()));
        reload.forget();
        // The service worker says when its precache failed (`{ [SW_PRECACHE_FAILED]: reason }`, sw.js).
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                let reason =
                    js_sys::Reflect::get(&event.data(), &protocol::site::SW_PRECACHE_FAILED.into())
                        .ok()
                        .and_then(|r| r.as_string());
                if let Some(reason) = reason {
                    self.offline_unavailable.set(Some(reason));
                }
            },
        );
        container.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        leptos::task::spawn_local(async move {
            let promise = container.register(protocol::site::SERVICE_WORKER);
            // Some browsers (or policies) disable service workers: then the app just works online.
            let registration = match wasm_bindgen_futures::JsFuture::from(promise).await {
                Ok(r) => match r.dyn_into::<ServiceWorkerRegistration>() {
                    Ok(registration) => registration,
                    Err(other) => {
                        web_sys::console::warn_2(
                            &"service workers are disabled here:".into(),
                            &other,
                        );
                        return;
                    }
                },
                Err(e) => {
                    web_sys::console::warn_2(&"service worker not registered:".into(), &e);
                    return;
                }
            };
            self.registration.set_value(Some(registration.clone()));
            // A first install is not an update: only prompt when a version already controls the page.
            if had_controller && registration.waiting().is_some() {
                self.update_waiting.set(true);
            }
            let on_update = {
                let registration = registration.clone();
                Closure::<dyn FnMut()>::new(move || {
                    if let Some(installing) = registration.installing() {
                        watch_install(&installing, self.update_waiting, had_controller);
                    }
                })
            };
            registration.set_onupdatefound(Some(on_update.as_ref().unchecked_ref()));
            on_update.forget();
            // An update found before this handler existed is already installing.
            if let Some(installing) = registration.installing() {
                watch_install(&installing, self.update_waiting, had_controller);
            }
        });
    }

    /// Activates the waiting version; this page reloads when it takes over (other tabs are asked).
    pub fn apply_update(&self) {
        self.reload_requested.set_value(true);
        let waiting = self
            .registration
            .with_value(|r| r.as_ref().and_then(ServiceWorkerRegistration::waiting));
        match waiting {
            Some(worker) => {
                let _ = worker.post_message(&JsValue::from_str(protocol::site::SW_SKIP_WAITING));
            }
            None => {
                if let Some(w) = web_sys::window() {
                    let _ = w.location().reload();
                }
            }
        }
    }
}

/// Flags `update_waiting` once `worker` is installed, if an older version controls the page.
fn watch_install(worker: &ServiceWorker, update_waiting: RwSignal<bool>, had_controller: bool) {
    let watched = worker.clone();
    let on_state = Closure::<dyn FnMut()>::new(move || {
        if watched.state() == ServiceWorkerState::Installed && had_controller {
            update_waiting.set(true);
        }
    });
    worker.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
    on_state.forget();
}

/// The offline indicator and the update prompt, under the top bar.
#[component]
pub fn PwaBanner() -> impl IntoView {
    let pwa = expect_context::<Pwa>();
    view! {
        <Show when=move || !pwa.online.get()>
            <p class="banner offline" role="status" data-testid="offline">
                "You are offline. The explorer and the classifier keep working; YouTube links and players need the network."
            </p>
        </Show>
        {move || pwa.offline_unavailable.get().map(|reason| {
            // A failed update leaves the installed version in place, offline included.
            let installed = web_sys::window()
                .and_then(|w| w.navigator().service_worker().controller())
                .is_some();
            let text = if installed {
                format!("A new version could not be saved for offline use ({reason}); the browser's storage may be full. \
                    The version you have keeps working offline; free some space and reload to try again.")
            } else {
                format!("This app could not be saved for offline use ({reason}); the browser's storage may be full. \
                    It works while you are online; free some space and reload to try again.")
            };
            view! { <p class="banner offline" role="status" data-testid="offline-unavailable">{text}</p> }
        })}
        <Show when=move || pwa.update_waiting.get()>
            <p class="banner update" role="status" data-testid="update-prompt">
                "A new version of Kinetiscope is available. "
                <button type="button" data-testid="update-reload" on:click=move |_| pwa.apply_update()>"Reload"</button>
                " "
                <button type="button" class="link" on:click=move |_| pwa.update_waiting.set(false)>"Later"</button>
            </p>
        </Show>
    }
}
