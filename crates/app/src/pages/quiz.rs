//! `/quiz`: "which action is this?" for a room, on a projector. Each round shows a clip and four
//! choices from the same parent group or a confusion the paper names ([`kinetics::teach::choices`]);
//! the presenter clicks what the room answers. Rounds play YouTube validation clips (online), or videos
//! on this device, the sample clip and the visitor's own, where I3D watches the clip while the room
//! thinks and its top five and activation map are revealed with the answer: you against the model.

use kinetics::teach::choices;
use kinetics::{Clip, Version};
use leptos::ev;
use leptos::prelude::*;

use crate::classifier::analysis::{
    analyse, Analysis, Input, SAMPLE_LABEL, SAMPLE_NAME, SAMPLE_URL,
};
use crate::classifier::output::{draw_cam, mean, rank, RankedList};
use crate::classifier::panel::ModelPanel;
use crate::classifier::{Model, Session};
use crate::explorer::clips::Player;
use crate::explorer::{use_data, View};
use crate::links::class_page;

/// Rounds of a YouTube quiz unless changed.
const DEFAULT_ROUNDS: usize = 5;

/// Where a round's clip comes from.
#[derive(Debug, Clone, PartialEq)]
enum Media {
    /// A validation clip, played from YouTube.
    YouTube(Clip),
    /// A video on this device (the sample, or an object URL of the visitor's file), which I3D watches too.
    Local {
        /// What the `<video>` plays.
        src: String,
        /// The file's name.
        name: String,
    },
}

/// One round.
#[derive(Debug, Clone, PartialEq)]
struct Round {
    media: Media,
    /// The true class (the clip's label, or what the presenter said their video shows).
    answer: String,
    /// Four classes, the answer among them.
    choices: Vec<String>,
}

/// What happened in a round.
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    room_right: bool,
    /// Whether I3D's top class was the answer; `None` for a YouTube round (the model cannot read
    /// cross-origin frames) or when it had not finished.
    model_right: Option<bool>,
}

/// A video the visitor added, with the class it shows.
#[derive(Debug, Clone, PartialEq)]
struct OwnVideo {
    src: String,
    name: String,
    label: String,
}

/// Which clips the quiz uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    YouTube,
    Device,
}

/// The page.
#[component]
pub fn QuizPage() -> impl IntoView {
    let data = use_data();
    let model = use_context::<Model>().unwrap_or_default();
    let session = use_context::<Session>().unwrap_or_default();
    crate::explorer::want_bundles(|| View::K400);
    let kind = RwSignal::new(Kind::YouTube);
    let wanted = RwSignal::new(DEFAULT_ROUNDS);
    let with_sample = RwSignal::new(true);
    let own = RwSignal::new(Vec::<OwnVideo>::new());
    let rounds = RwSignal::new(None::<Vec<Round>>);
    let index = RwSignal::new(0usize);
    let chosen = RwSignal::new(None::<String>);
    let outcomes = RwSignal::new(Vec::<Outcome>::new());
    let (problem, set_problem) = signal(None::<String>);
    let stage_video = NodeRef::<leptos::html::Video>::new();
    let stage_canvas = NodeRef::<leptos::html::Canvas>::new();

    // The model loads as soon as the device's videos are chosen (it takes a while on a first visit); as on
    // the classifier's page, `?backend=cpu|webgpu&precision=&threads=` choose it.
    crate::classifier::follow_the_address(model, session, move || kind.get() == Kind::Device);
    on_cleanup(move || {
        session.cancel();
        for video in own.get_untracked() {
            let _ = web_sys::Url::revoke_object_url(&video.src);
        }
    });

    let current = move || rounds.with(|r| r.as_ref().and_then(|r| r.get(index.get()).cloned()));
    let finished = move || rounds.with(|r| r.as_ref().is_some_and(|r| index.get() >= r.len()));

    // A local round: I3D starts watching it at once, on the hidden video of the session.
    Effect::new(move || {
        if let Some(Round {
            media: Media::Local { src, name },
            ..
        }) = current()
        {
            session.show_cam.set(true);
            analyse(session, model, Input::Url { src, revoke: false }, name);
        }
    });
    // The activation map of I3D's last window, over the video the room watches, once revealed.
    Effect::new(move || {
        let map = session.cam_map.get();
        let shown = chosen.get().is_some();
        if let (Some(canvas), Some(video)) = (stage_canvas.get(), stage_video.get()) {
            let size = (video.video_width(), video.video_height());
            let map = if shown { map.as_ref() } else { None };
            if let Err(e) = draw_cam(&canvas, size, map) {
                web_sys::console::warn_1(&e.into());
            }
        }
    });

    let start = move || {
        let mut rng = fastrand::Rng::with_seed((js_sys::Math::random() * 1e15) as u64);
        let made: Vec<Round> = match kind.get_untracked() {
            Kind::YouTube => {
                let names = Version::K400.classes().iter().map(|c| (*c).to_owned());
                let pool = data.index.with_untracked(|index| {
                    crate::classroom::validation_clips(index, View::K400, names)
                });
                let drawn = kinetics::teach::draw_questions(
                    &pool,
                    wanted.get_untracked(),
                    Version::K400,
                    &[],
                    &mut rng,
                );
                drawn
                    .into_iter()
                    .map(|q| Round {
                        choices: choices(&q.label, Version::K400, &mut rng),
                        media: Media::YouTube(q.item),
                        answer: q.label,
                    })
                    .collect()
            }
            Kind::Device => {
                let mut videos = Vec::new();
                if with_sample.get_untracked() {
                    videos.push((
                        SAMPLE_URL.to_owned(),
                        SAMPLE_NAME.to_owned(),
                        SAMPLE_LABEL.to_owned(),
                    ));
                }
                for video in own.get_untracked() {
                    if !Version::K400.classes().contains(&video.label.as_str()) {
                        set_problem.set(Some(format!(
                            "Say which Kinetics-400 class {} shows (pick one from the list): it is the answer of its round.",
                            video.name
                        )));
                        return;
                    }
                    videos.push((video.src, video.name, video.label));
                }
                videos
                    .into_iter()
                    .map(|(src, name, label)| Round {
                        choices: choices(&label, Version::K400, &mut rng),
                        media: Media::Local { src, name },
                        answer: label,
                    })
                    .collect()
            }
        };
        if made.is_empty() {
            set_problem.set(Some(match kind.get_untracked() {
                Kind::YouTube if data.loading(View::K400) => "The validation clips are still loading; try again in a moment.".to_owned(),
                Kind::YouTube => "No Kinetics-400 validation clips are loaded: load the file in the explorer, or use videos on this device.".to_owned(),
                Kind::Device => "Add a video, or keep the sample clip.".to_owned(),
            }));
            return;
        }
        set_problem.set(None);
        outcomes.set(Vec::new());
        chosen.set(None);
        index.set(0);
        rounds.set(Some(made));
    };
    let choose = move |class: String| {
        if chosen.get_untracked().is_some() || finished() {
            return;
        }
        chosen.set(Some(class));
    };
    let next = move || {
        let Some(round) = current() else { return };
        let Some(class) = chosen.get_untracked() else {
            return;
        };
        let model_right = match &round.media {
            Media::YouTube(_) => None,
            Media::Local { .. } => model_top(session)
                .filter(|_| matches!(session.analysis.get_untracked(), Analysis::Done { .. }))
                .map(|top| top == round.answer),
        };
        outcomes.update(|o| {
            o.push(Outcome {
                room_right: class == round.answer,
                model_right,
            })
        });
        session.cancel();
        chosen.set(None);
        index.update(|i| *i += 1);
    };
    let keys = window_event_listener(ev::keydown, move |event: web_sys::KeyboardEvent| {
        let typing = event
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA"));
        if typing || event.ctrl_key() || event.meta_key() || event.alt_key() {
            return;
        }
        let Some(round) = current() else { return };
        let pick = match event.key().as_str() {
            "1" | "a" | "A" => Some(0),
            "2" | "b" | "B" => Some(1),
            "3" | "c" | "C" => Some(2),
            "4" | "d" | "D" => Some(3),
            "Enter" | "ArrowRight" => {
                next();
                None
            }
            _ => return,
        };
        if let Some(class) = pick.and_then(|i| round.choices.get(i).cloned()) {
            choose(class);
        }
        event.prevent_default();
    });
    on_cleanup(move || keys.remove());

    let on_files = move |ev: ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(files) = input.files() {
            for i in 0..files.length() {
                let Some(file) = files.get(i) else { continue };
                if let Ok(src) = web_sys::Url::create_object_url_with_blob(&file) {
                    own.update(|o| {
                        o.push(OwnVideo {
                            src,
                            name: file.name(),
                            label: String::new(),
                        })
                    });
                }
            }
        }
        input.set_value("");
    };

    view! {
        <section class="page teach quiz" class:playing=move || rounds.with(Option::is_some)>
            <h1>"Which action is this?"</h1>
            // The video I3D reads, frame by frame: out of sight, the room watches its own copy.
            <video node_ref=session.video_ref class="offscreen" muted=true playsinline=true aria-hidden="true"></video>
            <Show when=move || rounds.with(Option::is_none) fallback=move || view! {
                <Show when=finished fallback=move || view! {
                    <RoundView current index rounds chosen outcomes session stage_video stage_canvas choose next/>
                }>
                    <FinalScore outcomes/>
                    <p class="actions"><button type="button" class="primary" data-testid="quiz-again"
                        on:click=move |_| rounds.set(None)>"Play again"</button></p>
                </Show>
            }>
                <form class="quiz-setup" data-testid="quiz-setup" on:submit=move |ev: ev::SubmitEvent| { ev.prevent_default(); start(); }>
                    <p class="lede">
                        "A quiz for a room: each round shows a clip and four actions, from the same family or ones the \
                         Kinetics paper found easy to confuse. Click what the room answers (or press 1–4)."
                    </p>
                    <fieldset>
                        <legend>"Clips"</legend>
                        <label><input type="radio" name="quiz-kind" data-testid="quiz-youtube" prop:checked=move || kind.get() == Kind::YouTube
                            on:change=move |_| kind.set(Kind::YouTube)/>
                            " Kinetics validation clips from YouTube (needs the network)"</label>
                        <label><input type="radio" name="quiz-kind" data-testid="quiz-device" prop:checked=move || kind.get() == Kind::Device
                            on:change=move |_| kind.set(Kind::Device)/>
                            " Videos on this device, works offline: I3D answers too"</label>
                    </fieldset>
                    <Show when=move || kind.get() == Kind::YouTube>
                        <label>"Rounds "
                            <input type="number" min="1" max="30" data-testid="quiz-rounds" prop:value=move || wanted.get().to_string()
                                on:change=move |ev| { if let Ok(n) = event_target_value(&ev).parse::<usize>() { wanted.set(n.clamp(1, 30)) } }/>
                        </label>
                    </Show>
                    <Show when=move || kind.get() == Kind::Device>
                        <fieldset class="quiz-videos">
                            <legend>"Videos"</legend>
                            <label><input type="checkbox" data-testid="quiz-sample" prop:checked=with_sample
                                on:change=move |ev| with_sample.set(event_target_checked(&ev))/>
                                " The sample clip (a cricket shot)"</label>
                            <label class="file-button">"Add your own videos… "
                                <input type="file" accept="video/*" multiple=true data-testid="quiz-files" on:change=on_files/>
                            </label>
                            <datalist id="quiz-classes">
                                {Version::K400.classes().iter().map(|c| view! { <option value=*c></option> }).collect_view()}
                            </datalist>
                            <ul>
                                {move || own.get().into_iter().enumerate().map(|(i, video)| view! {
                                    <li>
                                        {video.name.clone()} ": "
                                        <input type="text" list="quiz-classes" placeholder="the action it shows (a Kinetics-400 class)"
                                            data-testid="quiz-file-label" prop:value=video.label.clone()
                                            on:change=move |ev| {
                                                let v = event_target_value(&ev);
                                                own.update(|o| if let Some(video) = o.get_mut(i) { video.label = v.trim().to_owned() });
                                            }/>
                                        " "
                                        <button type="button" class="link" data-testid="quiz-file-remove" on:click=move |_| own.update(|o| {
                                            if i < o.len() {
                                                let _ = web_sys::Url::revoke_object_url(&o.remove(i).src);
                                            }
                                        })>"remove"</button>
                                    </li>
                                }).collect_view()}
                            </ul>
                            <ModelPanel model=model/>
                        </fieldset>
                    </Show>
                    <button type="submit" class="primary big" data-testid="quiz-start">"Start the quiz"</button>
                    {move || problem.get().map(|p| view! { <p class="error" role="alert" data-testid="quiz-problem">{p}</p> })}
                </form>
            </Show>
        </section>
    }
}

/// I3D's top class over the windows classified so far.
fn model_top(session: Session) -> Option<String> {
    let rows = session.rows.get_untracked();
    let probs = mean(&rows.iter().map(|r| r.probs.clone()).collect::<Vec<_>>());
    rank(&probs, 1).into_iter().next().map(|r| r.label)
}

/// A round: the clip, the four choices, and after the choice the answer (and I3D's).
#[component]
#[allow(clippy::too_many_arguments)]
fn RoundView(
    current: impl Fn() -> Option<Round> + Copy + Send + Sync + 'static,
    index: RwSignal<usize>,
    rounds: RwSignal<Option<Vec<Round>>>,
    chosen: RwSignal<Option<String>>,
    outcomes: RwSignal<Vec<Outcome>>,
    session: Session,
    stage_video: NodeRef<leptos::html::Video>,
    stage_canvas: NodeRef<leptos::html::Canvas>,
    choose: impl Fn(String) + Copy + Send + Sync + 'static,
    next: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let total = move || rounds.with(|r| r.as_ref().map_or(0, Vec::len));
    let score = move || outcomes.with(|o| o.iter().filter(|o| o.room_right).count());
    let media = move || {
        current().map(|round| match round.media {
            Media::YouTube(clip) => view! { <Player clip autoplay=true/> }.into_any(),
            Media::Local { src, .. } => view! {
                <div class="stage quiz-stage">
                    <video node_ref=stage_video src=src autoplay=true loop=true muted=true playsinline=true
                        controls=true data-testid="quiz-video"></video>
                    <canvas node_ref=stage_canvas class="cam-overlay" aria-hidden="true"></canvas>
                </div>
            }
            .into_any(),
        })
    };
    view! {
        <div class="quiz-round" data-testid="quiz-round">
            <p class="quiz-status">
                <span data-testid="quiz-progress">{move || format!("Round {} of {}", index.get() + 1, total())}</span>
                " · "
                <span data-testid="quiz-score">{move || format!("Score {} of {}", score(), outcomes.with(Vec::len))}</span>
            </p>
            {media}
            <div class="choices" role="group" aria-label="Which action is this?">
                {move || current().map(|round| round.choices.iter().enumerate().map(|(i, class)| {
                    let class = class.clone();
                    let answer = round.answer.clone();
                    let letter = ["A", "B", "C", "D"].get(i).copied().unwrap_or("?");
                    let state = {
                        let class = class.clone();
                        move || chosen.with(|c| match c {
                            None => "",
                            Some(_) if class == answer => "right",
                            Some(c) if *c == class => "wrong",
                            Some(_) => "other",
                        })
                    };
                    let pick = class.clone();
                    view! {
                        <button type="button" class=move || format!("choice {}", state()) data-testid="quiz-choice"
                            disabled=move || chosen.with(Option::is_some) on:click=move |_| choose(pick.clone())>
                            <span class="letter">{letter}</span> " " {class}
                        </button>
                    }
                }).collect_view())}
            </div>
            {move || chosen.get().zip(current()).map(|(picked, round)| {
                let right = picked == round.answer;
                let local = matches!(round.media, Media::Local { .. });
                view! {
                    <div class="quiz-reveal" data-testid="quiz-reveal" data-right=right.to_string()>
                        <p class="verdict">
                            {if right { "Right! " } else { "Not quite. " }}
                            "It is " <a href=class_page(&round.answer, Version::K400) data-testid="quiz-answer">{round.answer.clone()}</a> "."
                        </p>
                        {if local {
                            view! { <ModelAnswer session answer=round.answer.clone()/> }.into_any()
                        } else {
                            view! { <p class="muted">"I3D cannot watch YouTube clips here (their frames are not readable by the page); \
                                play with videos on this device to compare with the model."</p> }.into_any()
                        }}
                        <button type="button" class="primary big" data-testid="quiz-next" on:click=move |_| next()>
                            {move || if index.get() + 1 >= total() { "See the score" } else { "Next round (Enter)" }}
                        </button>
                    </div>
                }
            })}
        </div>
    }
}

/// I3D's answer on a local round: its top five over the video, or how far it got.
#[component]
fn ModelAnswer(session: Session, answer: String) -> impl IntoView {
    move || {
        match session.analysis.get() {
        Analysis::Done { .. } => {
            let rows = session.rows.get();
            let top = rank(&mean(&rows.iter().map(|r| r.probs.clone()).collect::<Vec<_>>()), 5);
            let right = top.first().is_some_and(|t| t.label == answer);
            view! {
                <div class="model-answer" data-testid="quiz-model" data-right=right.to_string()>
                    <h3>{if right { "I3D got it too" } else { "I3D thought otherwise" }}</h3>
                    <RankedList items=top testid="quiz-model-top"/>
                    <p class="muted">"The shading over the video is I3D's activation map for its top class on the last window."</p>
                </div>
            }
            .into_any()
        }
        Analysis::Running { done, total, .. } => view! {
            <p data-testid="quiz-model-pending">{if total == 0 { "I3D is opening the video…".to_owned() } else { format!("I3D is still watching: window {} of {total}…", done + 1) }}</p>
        }
        .into_any(),
        Analysis::Failed(message) => view! { <p class="error" data-testid="quiz-model-error">{format!("I3D could not watch it: {message}")}</p> }.into_any(),
        Analysis::Stopped { .. } | Analysis::Idle => view! { <p class="muted">"I3D did not watch this one."</p> }.into_any(),
    }
    }
}

/// The end: the room's score, and I3D's on the local videos.
#[component]
fn FinalScore(outcomes: RwSignal<Vec<Outcome>>) -> impl IntoView {
    move || {
        let all = outcomes.get();
        let room = all.iter().filter(|o| o.room_right).count();
        let judged: Vec<bool> = all.iter().filter_map(|o| o.model_right).collect();
        let model = judged.iter().filter(|r| **r).count();
        view! {
            <div class="quiz-final" data-testid="quiz-final">
                <h2 data-testid="quiz-final-score">{format!("The room: {room} of {}", all.len())}</h2>
                {(!judged.is_empty()).then(|| view! {
                    <p class="big" data-testid="quiz-final-model">{format!("I3D: {model} of {} on the videos of this device", judged.len())}</p>
                })}
            </div>
        }
    }
}
