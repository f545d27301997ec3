//! `/train`: teach the network your own actions. A few clips per action (the camera, video files, the sample
//! clip) become I3D clip features; a softmax head trained on them in the worker (`heads`) then classifies the
//! camera or a video live, beside I3D's own Kinetics top five: the papers' point that what a network learns on
//! Kinetics transfers to new actions. The head is kept on the device, and exported and imported as one file.

mod examples;
mod report;
mod state;
mod store;

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{FromWorker, ToWorker};

use crate::classifier::analysis::{analyse, Input, SAMPLE_NAME, SAMPLE_URL};
use crate::classifier::client::ModelStatus;
use crate::classifier::live::{start_camera, LivePrediction};
use crate::classifier::output::{follow_the_map, RankedList};
use crate::classifier::panel::ModelPanel;
use crate::classifier::session::Source as StageSource;
use crate::classifier::{follow_the_address, Model, Session};
use examples::Source;
use report::Report;
pub use state::Trainer;
use state::RECORDING_SECONDS;

/// The nearest Kinetics classes listed for each custom class.
const NEAREST: usize = 3;
/// What the page says while the worker trains.
const TRAINING: &str = "Training…";

/// The page.
#[component]
pub fn TrainPage() -> impl IntoView {
    let model = use_context::<Model>().unwrap_or_default();
    let session = use_context::<Session>().unwrap_or_default();
    let trainer = use_context::<Trainer>().unwrap_or_default();
    follow_the_address(model, session, || true);
    // Tried on windows like the ones it learned from (16 frames), whatever length the classifier's settings hold;
    // those come back when the visitor leaves.
    let window_len = session.window_len.get_untracked();
    session.window_len.set(heads::WINDOW_FRAMES);
    restore(trainer, model, session);
    // The head goes to the worker whenever it or the worker changes (a restarted worker has none).
    Effect::new(move || {
        let head = trainer.head.get();
        if let ModelStatus::Ready(_) = model.status.get() {
            if let Some(client) = model.ready_now() {
                let head = head.map(|h| h.linear.clone());
                if let Err(e) = client.tell(&ToWorker::UseHead { head }) {
                    trainer.error.set(Some(e));
                }
            }
        }
    });
    on_cleanup(move || {
        session.cancel();
        session.window_len.set(window_len);
        // Other pages classify with Kinetics' classes only.
        if let Some(client) = model.ready_now() {
            let _ = client.tell(&ToWorker::UseHead { head: None });
        }
        session.custom.set(None);
    });
    let Session {
        video_ref,
        overlay_ref,
        source,
        camera_error,
        notice,
        ..
    } = session;
    follow_the_map(session);

    let busy = move || trainer.busy.get().is_some();
    let cannot_train = move || trainer.cannot_train();
    let train = move |_| train(trainer, model, session);
    let live_camera = move |_| {
        trainer.error.set(None);
        start_camera(session, model, None);
    };
    let live_sample = move |_| {
        trainer.error.set(None);
        let input = Input::Url {
            src: SAMPLE_URL.into(),
            revoke: false,
        };
        analyse(session, model, input, SAMPLE_NAME.into());
    };
    let live_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            crate::classifier::analysis::open_file(session, model, file);
        }
        input.set_value("");
    };

    view! {
        <section class="page train">
            <h1>"Teach it your own actions"</h1>
            <p class="lede">
                "Record a few seconds of each action, or add videos. I3D, which learned Kinetics' 400 actions, \
                 turns each clip into 1024 numbers; a small classifier learns your actions from them in a second, \
                 here on your device. Nothing is uploaded: the clips are read and forgotten, only their numbers are kept."
            </p>
            <ModelPanel model=model/>
            <div class="stage" class:empty=move || source.get() == StageSource::None>
                <video node_ref=video_ref playsinline=true muted=true data-testid="video"></video>
                <canvas node_ref=overlay_ref class="cam-overlay" aria-hidden="true"></canvas>
            </div>
            {move || trainer.busy.get().map(|what| {
                // Training cannot be stopped part way (it takes about a second); a recording or a file can.
                let stoppable = what != TRAINING;
                view! {
                    <p class="notice" role="status" data-testid="train-busy">{what}" "
                        {stoppable.then(|| view! {
                            <button type="button" on:click=move |_| { session.stop(); trainer.busy.set(None); }>"Stop"</button>
                        })}</p>
                }
            })}
            {move || trainer.error.get().map(|message| view! {
                <p class="error" role="alert" data-testid="train-error">{message}</p>
            })}
            {move || camera_error.get().map(|(code, message)| view! {
                <p class="error" role="alert" data-testid="camera-error" data-code=code>{message}</p>
            })}
            {move || notice.get().map(|message| view! { <p class="notice" role="status">{message}</p> })}

            <h2>"1. Your actions"</h2>
            <p class="muted">{format!(
                "{} to {} actions, each with at least one example. A recording of N seconds gives several \
                 overlapping {}-frame windows, each one example for the classifier (at most {} an action).",
                heads::MIN_CLASSES, heads::MAX_CLASSES, heads::WINDOW_FRAMES, heads::MAX_EXAMPLES_PER_CLASS)}</p>
            <label>"Recording length "
                <select data-testid="record-seconds" on:change=move |ev| {
                    if let Ok(n) = event_target_value(&ev).parse() { trainer.seconds.set(n) }
                }>
                    {RECORDING_SECONDS.iter().map(|&n| view! {
                        <option value=n.to_string() selected=move || trainer.seconds.get() == n>{format!("{n} s")}</option>
                    }).collect_view()}
                </select>
            </label>
            <ol class="train-classes">
                <For each=move || trainer.classes.get() key=|c| (c.id, c.name.clone(), c.examples.iter().map(|e| e.id).collect::<Vec<_>>()) let:class>
                    <ClassEditor trainer=trainer session=session model=model id=class.id name=class.name.clone()
                        examples=class.examples.clone()/>
                </For>
            </ol>
            <button type="button" data-testid="add-class" on:click=move |_| { trainer.edited.set(true); trainer.add_class() }
                disabled=move || trainer.classes.with(|c| c.len() >= heads::MAX_CLASSES)>"Add an action"</button>

            <h2>"2. Train"</h2>
            <button type="button" data-testid="train" on:click=train
                disabled=move || cannot_train().is_some() || busy()>"Train"</button>
            {move || cannot_train().map(|why| view! { <p class="muted" data-testid="train-disabled-reason">{why}</p> })}
            <Report trainer=trainer/>

            <h2>"3. Try it"</h2>
            <p class="muted">"Your actions, ranked for each window, beside I3D's Kinetics top five; the map shows where \
                the evidence for your top action lies."</p>
            <div class="inputs">
                <button type="button" data-testid="live-camera" on:click=live_camera
                    disabled=move || trainer.head.with(Option::is_none) || busy()>"Camera"</button>
                <button type="button" data-testid="live-sample" on:click=live_sample
                    disabled=move || trainer.head.with(Option::is_none) || busy()>"The sample clip"</button>
                <label class="file-button">"A video… "
                    <input type="file" accept="video/*,image/gif" data-testid="live-file" on:change=live_file
                        disabled=move || trainer.head.with(Option::is_none) || busy()/>
                </label>
                <button type="button" on:click=move |_| session.stop()
                    disabled=move || source.get() == StageSource::None>"Stop"</button>
            </div>
            <TryStatus session=session/>
            <CustomPredictions trainer=trainer session=session/>
            <Show when=move || source.get() == StageSource::Camera && trainer.busy.get().is_none()>
                <LivePrediction session=session/>
            </Show>
            // A video's latest window, as I3D ranks it among Kinetics' classes.
            {move || (source.get() == StageSource::File).then(|| session.rows.with(|rows| rows.last().map(|row| view! {
                <h3>"Kinetics top five"</h3>
                <RankedList items=row.top.clone() testid="window-predictions"/>
            })))}

            <h2>"4. Keep and share"</h2>
            <KeepAndShare trainer=trainer model=model session=session/>
        </section>
    }
}

/// One class: its name, its examples, and the ways to add one.
#[component]
fn ClassEditor(
    trainer: Trainer,
    session: Session,
    model: Model,
    id: u32,
    name: String,
    examples: Vec<state::Example>,
) -> impl IntoView {
    let busy = move || trainer.busy.get().is_some();
    let rename = move |ev: leptos::ev::Event| {
        let name = event_target_value(&ev);
        trainer.edited.set(true);
        trainer.classes.update(|classes| {
            if let Some(c) = classes.iter_mut().find(|c| c.id == id) {
                c.name = name;
            }
        });
    };
    let delete = move |_| {
        trainer
            .classes
            .update(|classes| classes.retain(|c| c.id != id))
    };
    let add = move |sources: Vec<Source>| examples::add(trainer, session, model, id, sources);
    let pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let files = files_of(input.files());
        input.set_value("");
        if !files.is_empty() {
            add(files);
        }
    };
    let dragging = RwSignal::new(false);
    let drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        let files = files_of(ev.data_transfer().and_then(|d| d.files()));
        if !files.is_empty() && !busy() {
            add(files);
        }
    };
    let windows: usize = examples.iter().map(|e| e.features.len()).sum();
    let shown = examples
        .into_iter()
        .map(|example| {
            let example_id = example.id;
            let remove = move |_| {
                trainer.edited.set(true);
                trainer.classes.update(|classes| {
                    if let Some(c) = classes.iter_mut().find(|c| c.id == id) {
                        c.examples.retain(|e| e.id != example_id);
                    }
                })
            };
            let length = if example.seconds > 0.0 {
                format!("{:.1} s · ", example.seconds)
            } else {
                String::new()
            };
            let caption = format!("{} · {length}{} windows", example.source, example.features.len());
            view! {
                <li class="example" data-testid="example">
                    {example.thumbnail.map(|src| view! { <img src=src alt="" width="96"/> })}
                    <span>{caption}</span>
                    <button type="button" class="link" on:click=remove aria-label="Delete this example">"Delete"</button>
                </li>
            }
        })
        .collect_view();
    view! {
        <li class="train-class" data-testid="train-class" class:dragging=move || dragging.get()
            on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
            on:dragleave=move |_| dragging.set(false)
            on:drop=drop>
            <div class="class-head">
                <input type="text" data-testid="class-name" aria-label="Action name" maxlength=heads::MAX_NAME_CHARS.to_string()
                    prop:value=name on:change=rename/>
                <span class="muted">{format!("{windows} windows")}</span>
                <button type="button" class="link" data-testid="delete-class" on:click=delete
                    disabled=busy>"Delete action"</button>
            </div>
            <ul class="examples">{shown}</ul>
            <div class="add-example">
                <button type="button" data-testid="record" on:click=move |_| add(vec![Source::Camera]) disabled=busy>
                    {move || format!("Record {} s", trainer.seconds.get())}</button>
                <label class="file-button">"Add videos… "
                    <input type="file" multiple=true accept="video/*,image/gif" data-testid="example-files"
                        on:change=pick disabled=busy/>
                </label>
                <button type="button" data-testid="add-sample" on:click=move |_| add(vec![Source::Sample])
                    disabled=busy>"Add the sample clip"</button>
                <span class="muted">" or drop videos here"</span>
            </div>
        </li>
    }
}

/// The files of a file list, as example sources.
fn files_of(list: Option<web_sys::FileList>) -> Vec<Source> {
    let Some(list) = list else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.get(i))
        .map(Source::File)
        .collect()
}

/// How far a video tried on the head has got.
#[component]
fn TryStatus(session: Session) -> impl IntoView {
    use crate::classifier::analysis::Analysis;
    move || {
        match session.analysis.get() {
        Analysis::Running { name, done, total } => Some(view! {
            <p class="muted" data-testid="try-status">{if total == 0 {
                format!("Opening {name}…")
            } else {
                format!("{name}: window {} of {total}…", done + 1)
            }}</p>
        }.into_any()),
        Analysis::Done { name, .. } => Some(view! {
            <p class="muted" data-testid="try-done">{format!("{name}: every window classified; the last one is shown.")}</p>
        }.into_any()),
        Analysis::Failed(message) => Some(view! {
            <p class="error" role="alert" data-testid="video-error">{message}</p>
        }.into_any()),
        Analysis::Idle | Analysis::Stopped { .. } => None,
    }
    }
}

/// The custom classes of the latest window, most probable first.
#[component]
fn CustomPredictions(trainer: Trainer, session: Session) -> impl IntoView {
    move || {
        let head = trainer.head.get()?;
        // A window classified with another head (one in flight when this head came) has other classes.
        let custom = session
            .custom
            .get()
            .filter(|c| c.probs.len() == head.classes.len())?;
        let items = i3d_core::postprocess::top_indices(&custom.probs, custom.probs.len())
            .into_iter()
            .filter_map(|i| {
                let name = head.classes.get(i)?.clone();
                let prob = custom.probs.get(i).copied().unwrap_or(0.0);
                let width = format!("width: {:.1}%", (prob * 100.0).clamp(0.0, 100.0));
                Some(view! {
                    <li>{name}" "<span class="bar"><span class="fill" style=width></span></span>
                        <span class="prob">{format!("{:.1}%", prob * 100.0)}</span></li>
                })
            })
            .collect_view();
        Some(view! {
            <h3>"Your actions"</h3>
            <ol class="ranked" data-testid="custom-predictions" aria-live="polite">{items}</ol>
        })
    }
}

/// Trains a head on the classes in the worker, keeps it, applies it, and asks for the nearest Kinetics classes.
fn train(trainer: Trainer, model: Model, session: Session) {
    trainer.error.set(None);
    if let Some(why) = trainer.cannot_train() {
        trainer.error.set(Some(why));
        return;
    }
    let classes = trainer.dataset();
    let task = trainer.begin(TRAINING);
    spawn_local(async move {
        let result = async {
            let client = model.ready().await?;
            let answer = client
                .ask(|id| ToWorker::Train {
                    id,
                    classes,
                    settings: heads::Settings::default(),
                    keep_examples: true,
                })
                .await?;
            match answer {
                FromWorker::Trained { head, ms, .. } => {
                    let sha = client_sha(model);
                    read_head(&head, sha.as_deref())
                        .map(|head| (head, ms))
                        .map_err(|e| format!("the trained head could not be read: {e}"))
                }
                _ => Err("the classifier answered something else than a head".to_owned()),
            }
        }
        .await;
        trainer.end(task);
        match result {
            Ok((head, ms)) => {
                trainer.train_ms.set(Some(ms));
                adopt(trainer, model, session, head, true).await;
            }
            Err(e) => trainer.error.set(Some(e)),
        }
    });
}

/// A head file read for this model (`model_sha256`, when known): refused when it is damaged, of another
/// format version, made for other weights, or reads another number of feature values than I3D gives.
fn read_head(text: &str, model_sha256: Option<&str>) -> Result<heads::Head, String> {
    let head = heads::Head::from_json(text, model_sha256).map_err(|e| e.to_string())?;
    let channels = i3d_core::arch::FEATURE_CHANNELS;
    if head.linear.dim != channels {
        return Err(format!(
            "this head reads {} values per clip, I3D gives {channels}: it was made for another network",
            head.linear.dim
        ));
    }
    Ok(head)
}

/// The SHA-256 of the model's checkpoint, once it is ready.
fn client_sha(model: Model) -> Option<String> {
    match model.status.get_untracked() {
        ModelStatus::Ready(ready) => Some(ready.model_sha256),
        _ => None,
    }
}

/// Makes `head` the one in use: shown, applied (by the page's effect), its nearest Kinetics classes asked for,
/// and (when `keep`) saved on the device.
async fn adopt(trainer: Trainer, model: Model, session: Session, head: heads::Head, keep: bool) {
    let head = Arc::new(head);
    trainer.nearest.set(Vec::new());
    // What the previous head said is not this one's.
    session.custom.set(None);
    session.cam_map.set(None);
    trainer.head.set(Some(head.clone()));
    if keep {
        match store::save(&head.to_json()).await {
            Ok(bytes) => trainer.stored.set(Some(bytes)),
            Err(e) => trainer.error.set(Some(e)),
        }
    }
    // A class's mean feature when the head has its examples, else its weights.
    let vectors = state::class_means(&head).unwrap_or_else(|| {
        (0..head.classes.len())
            .filter_map(|c| head.linear.row(c).map(<[f32]>::to_vec))
            .collect()
    });
    let Ok(client) = model.ready().await else {
        return;
    };
    if let Ok(FromWorker::Nearest { classes, .. }) = client
        .ask(|id| ToWorker::Nearest {
            id,
            vectors,
            k: NEAREST,
        })
        .await
    {
        trainer.nearest.set(classes);
    }
}

/// Once per visit of the app: the head saved on this device, checked against the model once it is ready.
fn restore(trainer: Trainer, model: Model, session: Session) {
    if trainer.restored.get_untracked() {
        return;
    }
    trainer.restored.set(true);
    spawn_local(async move {
        let text = match store::load().await {
            Ok(Some(text)) => text,
            Ok(None) => return,
            Err(e) => {
                trainer.error.set(Some(e));
                return;
            }
        };
        let Ok(ready) = model.status.settled().await else {
            return;
        };
        trainer.stored.set(Some(text.len()));
        // The visitor's work since the page opened (or a head they imported meanwhile) comes first.
        if trainer.edited.get_untracked() || trainer.head.get_untracked().is_some() {
            return;
        }
        match read_head(&text, Some(&ready.model_sha256)) {
            Ok(head) => {
                trainer.restore_classes(&head);
                adopt(trainer, model, session, head, false).await;
            }
            Err(e) => trainer.error.set(Some(format!(
                "The head saved on this device cannot be used ({e}); delete it below, or import another."
            ))),
        }
    });
}

/// Export, import, and what is kept on the device.
#[component]
fn KeepAndShare(trainer: Trainer, model: Model, session: Session) -> impl IntoView {
    let export = move |_| {
        let Some(head) = trainer.head.get_untracked() else {
            return;
        };
        let mut shared = (*head).clone();
        if !trainer.export_examples.get_untracked() {
            shared.examples = None;
        }
        if let Err(e) = crate::download::text(
            &store::file_name(&shared),
            "application/json",
            &shared.to_json(),
        ) {
            trainer.error.set(Some(e));
        }
    };
    let import = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let file = input.files().and_then(|f| f.get(0));
        input.set_value("");
        let Some(file) = file else {
            return;
        };
        trainer.error.set(None);
        if file.size() > heads::MAX_FILE_BYTES as f64 {
            trainer.error.set(Some(format!(
                "{} is {:.0} MB; a head file is at most {} MB. Is it a head file?",
                file.name(),
                file.size() / 1e6,
                heads::MAX_FILE_BYTES >> 20
            )));
            return;
        }
        spawn_local(async move {
            let result = async {
                let text = store::read(&file).await?;
                let ready = model.status.settled().await?;
                read_head(&text, Some(&ready.model_sha256))
                    .map_err(|e| format!("{}: {e}", file.name()))
            }
            .await;
            match result {
                // The head in use stays until the new one is read whole.
                Ok(head) => {
                    trainer.train_ms.set(None);
                    trainer.edited.set(true);
                    if head.examples.is_some() {
                        trainer.restore_classes(&head);
                    }
                    adopt(trainer, model, session, head, true).await;
                }
                Err(e) => trainer.error.set(Some(e)),
            }
        });
    };
    let delete = move |_| {
        spawn_local(async move {
            match store::delete().await {
                Ok(()) => trainer.stored.set(None),
                Err(e) => trainer.error.set(Some(e)),
            }
        });
    };
    view! {
        <p data-testid="head-storage">{move || match trainer.stored.get() {
            Some(bytes) => format!("Your head is kept on this device ({:.1} kB) and comes back on your next visit, offline too.", bytes as f64 / 1000.0),
            None => "Nothing is kept on this device yet: train or import a head.".to_owned(),
        }}</p>
        <div class="inputs">
            <button type="button" data-testid="export-head" on:click=export
                disabled=move || trainer.head.with(Option::is_none)>"Export the head"</button>
            <label><input type="checkbox" prop:checked=trainer.export_examples
                on:change=move |ev| trainer.export_examples.set(event_target_checked(&ev))/>
                " with the examples' features (never the video)"</label>
            <label class="file-button">"Import a head… "
                <input type="file" accept=format!("{},application/json", heads::FILE_SUFFIX) data-testid="head-file" on:change=import/>
            </label>
            <button type="button" data-testid="delete-head" on:click=delete
                disabled=move || trainer.stored.get().is_none()>"Delete it from this device"</button>
        </div>
    }
}
