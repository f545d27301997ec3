//! `/`: the landing page with the capabilities panel.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::capabilities::{self, Capabilities, WebGpu};

/// The landing page: what Kinetiscope is, where to go, and what this browser can do.
#[component]
pub fn Home() -> impl IntoView {
    view! {
        <section class="page home">
            <h1>"Kinetiscope"</h1>
            <p class="lede">
                "Explore DeepMind's Kinetics human action datasets and recognise actions with the I3D network, \
                 entirely in your browser: nothing is uploaded."
            </p>
            <div class="cards">
                <A href="/classes" attr:class="card">
                    <h2>"Dataset explorer"</h2>
                    <p>"Kinetics-400/600/700 classes, splits, category groups and YouTube clips."</p>
                </A>
                <A href="/classify" attr:class="card">
                    <h2>"Action classifier"</h2>
                    <p>"I3D on your webcam or a video file, on WebGPU or the CPU."</p>
                </A>
                <A href="/train" attr:class="card">
                    <h2>"Your own actions"</h2>
                    <p>"Record a few clips of each, and a classifier on I3D's features learns them in a second."</p>
                </A>
                <A href="/teach" attr:class="card">
                    <h2>"For educators"</h2>
                    <p>"The annotators' task as a scored exercise, a quiz for the room, the papers' findings."</p>
                </A>
            </div>
            <crate::classroom::TeachPath/>
            <CapabilitiesPanel/>
        </section>
    }
}

/// The capabilities panel: WebGPU adapter, `shader-f16`, cross-origin isolation, build version.
#[component]
pub fn CapabilitiesPanel() -> impl IntoView {
    let detected = LocalResource::new(capabilities::detect);
    view! {
        <section class="capabilities" data-testid="capabilities" aria-labelledby="caps-title">
            <h2 id="caps-title">"This browser"</h2>
            <Suspense fallback=|| view! { <p data-testid="caps-pending">"Checking WebGPU…"</p> }>
                {move || detected.get().map(|caps| view! { <CapabilitiesTable caps/> })}
            </Suspense>
        </section>
    }
}

#[component]
fn CapabilitiesTable(caps: Capabilities) -> impl IntoView {
    // Plain words first; what the browser said, behind a disclosure.
    let mut detail = None;
    let (webgpu, adapter, f16) = match &caps.webgpu {
        WebGpu::Missing => (
            "this browser has no WebGPU".to_string(),
            "—".to_string(),
            "—".to_string(),
        ),
        WebGpu::NoAdapter(reason) => {
            detail = Some(reason.clone());
            (
                "WebGPU is available but found no adapter".to_string(),
                "—".into(),
                "—".into(),
            )
        }
        WebGpu::Available(a) => {
            let mut name = [
                a.vendor.as_str(),
                a.architecture.as_str(),
                a.description.as_str(),
            ]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" / ");
            if name.is_empty() {
                name = "unnamed adapter".into();
            }
            let f16 = if a.shader_f16 { "yes" } else { "no" };
            ("available".to_string(), name, f16.to_string())
        }
    };
    let isolated = if caps.cross_origin_isolated {
        "yes"
    } else {
        "no"
    };
    view! {
        <dl class="caps-table">
            <dt>"WebGPU"</dt>
            <dd>
                <span data-testid="cap-webgpu">{webgpu}</span>
                {detail.map(|detail| view! {
                    <details class="muted" data-testid="cap-webgpu-detail">
                        <summary>"Details"</summary><code>{detail}</code>
                    </details>
                })}
            </dd>
            <dt>"Adapter"</dt><dd data-testid="cap-adapter">{adapter}</dd>
            <dt>"shader-f16"</dt><dd data-testid="cap-f16">{f16}</dd>
            <dt>"Cross-origin isolated"</dt><dd data-testid="cap-isolated">{isolated}</dd>
            <dt>"Logical cores"</dt><dd data-testid="cap-cores">{caps.hardware_concurrency}</dd>
            <dt>"Build"</dt><dd data-testid="cap-build">{caps.build}</dd>
        </dl>
    }
}
