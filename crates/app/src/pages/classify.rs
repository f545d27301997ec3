//! `/classify`: the I3D action classifier on the webcam or a video file, built from the pieces of
//! [`crate::classifier`]: the model panel, the camera's live top five, a file's analysis and the activation map.

use leptos::prelude::*;

use crate::classifier::analysis::{
    analyse, open_file, Input, VideoResults, SAMPLE_NAME, SAMPLE_URL,
};
use crate::classifier::live::{start_camera, LivePrediction, SMOOTHING_WINDOWS};
use crate::classifier::output::follow_the_map;
use crate::classifier::panel::ModelPanel;
use crate::classifier::session::Source;
use crate::classifier::{follow_the_address, video, Model, Session};

/// The page.
#[component]
pub fn ClassifierPage() -> impl IntoView {
    let model = use_context::<Model>().unwrap_or_default();
    let session = use_context::<Session>().unwrap_or_default();
    // The model follows the address (a link such as "Run on the CPU instead" changes only the query).
    follow_the_address(model, session, || true);

    let Session {
        window_len,
        smoothing,
        show_cam,
        mirror,
        source,
        camera_error,
        cameras,
        chosen_camera,
        notice,
        video_ref,
        overlay_ref,
        ..
    } = session;

    follow_the_map(session);
    // Leaving the page cancels the running task and closes the camera.
    on_cleanup(move || session.cancel());

    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            open_file(session, model, file);
        }
        input.set_value("");
    };
    let dragging = RwSignal::new(false);
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(file) = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|f| f.get(0))
        {
            open_file(session, model, file);
        }
    };
    let sample = move |_| {
        let input = Input::Url {
            src: SAMPLE_URL.into(),
            revoke: false,
        };
        analyse(session, model, input, SAMPLE_NAME.into());
    };
    let start = move |_| {
        let chosen = chosen_camera.get_untracked();
        start_camera(session, model, (!chosen.is_empty()).then_some(chosen));
    };

    view! {
        <section class="page classifier">
            <h1>"Action classifier"</h1>
            <p class="lede">
                "I3D (Kinetics-400) runs in your browser, on WebGPU or the CPU: nothing leaves your device. \
                 Point your camera at an action, or open a video. Actions of your own? "
                <a href="/train" data-testid="to-train">"Teach them"</a>"."
            </p>
            <ModelPanel model=model/>
            <div class="inputs">
                <fieldset class="input-camera">
                    <legend>"Camera"</legend>
                    <button type="button" data-testid="start-camera" on:click=start>"Start camera"</button>
                    <button type="button" on:click=move |_| session.stop()
                        disabled=move || source.get() != Source::Camera>"Stop"</button>
                    <Show when=move || { cameras.with(|c| c.len() > 1) }>
                        <label>"Camera "
                            <select data-testid="camera-picker" on:change=move |ev| {
                                let id = event_target_value(&ev);
                                chosen_camera.set(id.clone());
                                start_camera(session, model, Some(id));
                            }>
                                {move || cameras.get().into_iter().map(|(id, label)| view! {
                                    <option value=id.clone() selected=move || chosen_camera.get() == id>{label}</option>
                                }).collect_view()}
                            </select>
                        </label>
                    </Show>
                    <label><input type="checkbox" prop:checked=mirror
                        on:change=move |ev| mirror.set(event_target_checked(&ev))/>" Mirror"</label>
                </fieldset>
                <fieldset class="input-file"
                    class:dragging=move || dragging.get()
                    on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
                    on:dragleave=move |_| dragging.set(false)
                    on:drop=on_drop>
                    <legend>"Video file"</legend>
                    <label class="file-button">"Open a video… "
                        <input type="file" accept="video/*,image/gif" data-testid="video-input" on:change=on_pick/>
                    </label>
                    <span class="muted">" or drop one here, or "</span>
                    <button type="button" data-testid="sample" on:click=sample>"try the sample clip"</button>
                </fieldset>
                <fieldset class="settings">
                    <legend>"Settings"</legend>
                    <label>"Window "
                        <select data-testid="window-length" on:change=move |ev| {
                            if let Ok(n) = event_target_value(&ev).parse() { window_len.set(n) }
                        }>
                            {protocol::WINDOW_LENGTHS.iter().map(|&n| view! {
                                <option value=n.to_string() selected=move || window_len.get() == n>
                                    {format!("{n} frames ({:.2} s)", n as f64 / video::FPS)}
                                </option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label><input type="checkbox" prop:checked=smoothing
                        on:change=move |ev| smoothing.set(event_target_checked(&ev))/>
                        {format!(" Smooth over {SMOOTHING_WINDOWS} windows")}</label>
                    <label><input type="checkbox" data-testid="cam-toggle" prop:checked=show_cam
                        on:change=move |ev| show_cam.set(event_target_checked(&ev))/>" Activation map"</label>
                </fieldset>
            </div>
            {move || camera_error.get().map(|(code, message)| view! {
                <p class="error" role="alert" data-testid="camera-error" data-code=code>{message}</p>
            })}
            {move || notice.get().map(|message| view! { <p class="notice" role="status">{message}</p> })}
            <div class="stage" class:mirrored=move || mirror.get() && source.get() == Source::Camera
                class:empty=move || source.get() == Source::None>
                <video node_ref=video_ref playsinline=true muted=true data-testid="video"></video>
                <canvas node_ref=overlay_ref class="cam-overlay" aria-hidden="true"></canvas>
            </div>
            <Show when=move || source.get() == Source::Camera>
                <LivePrediction session=session/>
            </Show>
            <VideoResults session=session/>
        </section>
    }
}
