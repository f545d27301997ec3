//! The parts of `/verify`: the settings form, a question, and the summary at the end.

use kinetics::teach::{shown_name, Answer, Question, Summary};
use kinetics::{taxonomy, Clip, Version};
use leptos::ev;
use leptos::prelude::*;

use super::{Run, Settings, MAX_COUNT, TIME_LIMITS};
use crate::explorer::clips::{segment_text, Player};
use crate::links::{class_page, class_path};

/// The settings and the start button.
#[component]
pub(super) fn SetupForm(
    settings: RwSignal<Settings>,
    notice: RwSignal<Option<String>>,
    start: impl Fn() + Copy + Send + Sync + 'static,
    problem: ReadSignal<Option<String>>,
) -> impl IntoView {
    let groups = taxonomy::groups()
        .iter()
        .map(|g| {
            let selected = move || settings.with(|s| s.group == Some(g.name));
            view! { <option value=g.name selected=selected>{g.name}</option> }
        })
        .collect_view();
    view! {
        <form class="verify-setup" data-testid="verify-setup" on:submit=move |ev: ev::SubmitEvent| { ev.prevent_default(); start(); }>
            <fieldset>
                <legend>"Clips"</legend>
                <label>"Dataset "
                    <select data-testid="verify-version" on:change=move |ev| {
                        let v = if event_target_value(&ev) == "600" { Version::K600 } else { Version::K400 };
                        // The notice is set after the update, not while `settings` is borrowed by it.
                        let mut said = None;
                        settings.update(|s| { let classes = s.classes.clone(); said = s.set_classes(&classes, v); });
                        notice.set(said);
                    }>
                        <option value="400" selected=move || settings.with(|s| s.version == Version::K400)>"Kinetics-400"</option>
                        <option value="600" selected=move || settings.with(|s| s.version == Version::K600)>"Kinetics-600"</option>
                    </select>
                </label>
                {move || {
                    let classes = settings.with(|s| s.classes.clone());
                    (!classes.is_empty()).then(|| view! {
                        <p data-testid="verify-classes">
                            "Only " {classes.join(" and ")} " "
                            <button type="button" class="link" on:click=move |_| { settings.update(|s| s.classes.clear()); notice.set(None); }>"(any class)"</button>
                        </p>
                    })
                }}
                {move || notice.get().map(|n| view! { <p class="notice" role="status" data-testid="verify-classes-notice">{n}</p> })}
                <label>"Add a class "
                    <input type="text" list="verify-class-names" data-testid="verify-add-class"
                        placeholder="e.g. salsa dancing"
                        on:change=move |ev| {
                            let input: web_sys::HtmlInputElement = event_target(&ev);
                            let name = input.value().trim().to_owned();
                            input.set_value("");
                            if name.is_empty() {
                                return;
                            }
                            let version = settings.with_untracked(|s| s.version);
                            if version.label_index(&name).is_none() {
                                // Said, not added: the classes chosen so far stay.
                                notice.set(Some(format!("“{}” is not a {version} class.", shown_name(&name))));
                                return;
                            }
                            let mut said = None;
                            settings.update(|s| {
                                let mut classes = s.classes.clone();
                                classes.push(name);
                                said = s.set_classes(&classes, version);
                            });
                            notice.set(said);
                        }/>
                    <datalist id="verify-class-names">
                        {move || settings.with(|s| s.version).classes().iter().map(|c| view! { <option value=*c></option> }).collect_view()}
                    </datalist>
                </label>
                <label>"Group "
                    <select data-testid="verify-group" on:change=move |ev| {
                        let name = event_target_value(&ev);
                        settings.update(|s| s.group = taxonomy::group(&name).map(|g| g.name));
                    }>
                        <option value="" selected=move || settings.with(|s| s.group.is_none())>"any group"</option>
                        {groups}
                    </select>
                </label>
                <label>"Number of clips "
                    <input type="number" min="1" max=MAX_COUNT.to_string() data-testid="verify-count"
                        prop:value=move || settings.with(|s| s.count.to_string())
                        on:change=move |ev| {
                            if let Ok(n) = event_target_value(&ev).parse::<usize>() {
                                settings.update(|s| s.count = n.clamp(1, MAX_COUNT));
                            }
                        }/>
                </label>
                <label>"Time per clip "
                    <select data-testid="verify-time" on:change=move |ev| {
                        let t = event_target_value(&ev).parse().unwrap_or(0);
                        settings.update(|s| s.seconds = t);
                    }>
                        {TIME_LIMITS.map(|t| view! {
                            <option value=t.to_string() selected=move || settings.with(|s| s.seconds == t)>
                                {if t == 0 { "untimed".to_owned() } else { format!("{t} s") }}
                            </option>
                        })}
                    </select>
                </label>
            </fieldset>
            <p class="muted">
                "The questions work offline once the annotation files are loaded; each clip plays from YouTube and \
                 needs the network. Keys: Y yes, N no, U unsure, R replay, X does not play, Enter next."
            </p>
            <button type="submit" class="primary" data-testid="verify-start">"Start"</button>
            {move || problem.get().map(|p| view! { <p class="error" role="alert" data-testid="verify-problem">{p}</p> })}
        </form>
    }
}

/// The clip, the question, the answers; then what the label was.
#[component]
#[allow(clippy::too_many_arguments)]
pub(super) fn QuestionView(
    current: impl Fn() -> Option<Question<Clip>> + Copy + Send + Sync + 'static,
    answers: RwSignal<Vec<Answer>>,
    run: RwSignal<Option<Run>>,
    feedback: RwSignal<bool>,
    replays: RwSignal<u32>,
    remaining: RwSignal<u32>,
    settings: RwSignal<Settings>,
    offline: impl Fn() -> bool + Copy + Send + Sync + 'static,
    answer: impl Fn(Answer) + Copy + Send + Sync + 'static,
    next: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let total = move || run.with(|r| r.as_ref().map_or(0, |r| r.questions.len()));
    let number = move || answers.with(Vec::len) + usize::from(!feedback.get());
    let button = move |given: Answer, key: &'static str, testid: &'static str| {
        view! {
            <button type="button" class="answer" data-testid=testid disabled=move || feedback.get()
                on:click=move |_| answer(given)>
                <kbd>{key}</kbd> " " {given.label()}
            </button>
        }
    };
    view! {
        <div class="verify-task" data-testid="verify-task">
            <p class="muted" data-testid="verify-progress">
                {move || format!("Clip {} of {}", number(), total())}
                {move || {
                    let seconds = settings.with(|s| s.seconds);
                    (seconds > 0 && !feedback.get()).then(|| view! {
                        " · " <span data-testid="verify-clock">{move || format!("{} s left", remaining.get())}</span>
                    })
                }}
            </p>
            <div class="verify-clip">
                {move || current().map(|q| {
                    let clip = q.item;
                    if offline() {
                        view! {
                            <p class="notice" data-testid="verify-offline">
                                "You are offline: the clip cannot play (it streams from YouTube). Answer \
                                 “Video does not play” (X) to skip it without a score."
                            </p>
                        }.into_any()
                    } else {
                        // Replaying mounts a fresh player (a new key), which starts the segment again.
                        view! {
                            <For each=move || [replays.get()] key=|replay| *replay let:_replay>
                                <Player clip autoplay=true/>
                            </For>
                        }.into_any()
                    }
                })}
                <p class="muted small">
                    "If the clip does not play (YouTube unreachable or the video removed), answer “Video does not \
                     play”: it is not scored."
                </p>
            </div>
            <p class="verify-question" data-testid="verify-question">
                "Does this video clip contain the human action "
                <strong data-testid="verify-asked">{move || current().map(|q| q.asked).unwrap_or_default()}</strong>
                "?"
            </p>
            <div class="answers" role="group" aria-label="Your answer">
                {button(Answer::Yes, "Y", "answer-yes")}
                {button(Answer::No, "N", "answer-no")}
                {button(Answer::Unsure, "U", "answer-unsure")}
                <button type="button" class="answer" data-testid="answer-replay" disabled=move || feedback.get()
                    on:click=move |_| replays.update(|r| *r += 1)>
                    <kbd>"R"</kbd> " Replay the video"
                </button>
                {button(Answer::DoesNotPlay, "X", "answer-doesnotplay")}
            </div>
            <Show when=move || feedback.get()>
                {move || current().zip(answers.with(|a| a.last().copied())).map(|(q, given)| {
                    let right = given == q.expected();
                    let scored = given != Answer::DoesNotPlay;
                    let verdict = if !scored { "Not scored." } else if right { "Correct." } else { "Not what the labels say." };
                    let why = match q.relation {
                        None => format!("The clip is labelled “{}”: the class asked is its label.", q.label),
                        Some(relation) => format!(
                            "The clip is labelled “{}”; the class asked, “{}”, is {}.",
                            q.label, q.asked, relation.describe()
                        ),
                    };
                    view! {
                        <div class="verify-feedback" data-testid="verify-feedback" class:right=right class:wrong=!right && scored
                            data-label=q.label.clone() data-asked=q.asked.clone()
                            data-relation=match q.relation { None => "label".to_owned(), Some(kinetics::teach::Relation::NamedConfusion) => "confusion".to_owned(), Some(kinetics::teach::Relation::SameGroup(g)) => format!("group:{}", taxonomy::groups()[g].name), Some(kinetics::teach::Relation::Chosen) => "chosen".to_owned() }>
                            <p><strong>{verdict}</strong> " You answered “" {given.short()} "”. " {why}</p>
                            <p class="muted">
                                <a href=class_page(&q.label, settings.with_untracked(|s| s.version))>{format!("More clips of {}", q.label)}</a>
                                {format!(" · clip {} {}", q.item.youtube_id, segment_text(&q.item))}
                            </p>
                            <button type="button" class="primary" data-testid="verify-next" on:click=move |_| next()>
                                {move || if answers.with(Vec::len) >= total() { "See the results" } else { "Next clip (Enter)" }}
                            </button>
                        </div>
                    }
                })}
            </Show>
        </div>
    }
}

/// The session's score.
#[component]
pub(super) fn SummaryView(
    run: RwSignal<Option<Run>>,
    answers: RwSignal<Vec<Answer>>,
) -> impl IntoView {
    move || {
        let Some(Run { seed, questions }) = run.get() else {
            return ().into_any();
        };
        let given = answers.get();
        let summary = Summary::of(&questions, &given);
        // Halves round up, as people round (the formatter would round 62.5 to the even 62).
        let percent = |value: Option<f64>| {
            value.map_or_else(|| "—".to_owned(), |v| format!("{:.0}%", v.round()))
        };
        let hardest = summary
            .hardest
            .iter()
            .take(5)
            .map(|(class, misses, asked)| {
                view! {
                    <li><a href=class_path(class)>{class.clone()}</a>
                        {format!(": {misses} of {asked} not right")}</li>
                }
            })
            .collect_view();
        let rows = questions
            .iter()
            .zip(&given)
            .enumerate()
            .map(|(i, (q, a))| {
                let outcome = if *a == Answer::DoesNotPlay { "not scored" } else if *a == q.expected() { "✓" } else { "✗" };
                view! {
                    <tr data-testid="verify-row">
                        <td>{i + 1}</td>
                        <td><a href=q.item.watch_url() target="_blank" rel="noopener noreferrer external">{q.item.youtube_id.as_str().to_owned()}</a></td>
                        <td>{q.asked.clone()}</td>
                        <td>{q.label.clone()}</td>
                        <td>{a.short()}</td>
                        <td>{q.expected().short()}</td>
                        <td>{outcome}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="verify-summary" data-testid="verify-summary">
                <h2>"Your session"</h2>
                <dl class="scores">
                    <dt>"Accuracy"</dt>
                    <dd data-testid="verify-accuracy">{percent(summary.accuracy())}</dd>
                    <dd class="muted">{format!("{} of {} scored answers match the labels (“Unsure” and time-outs count as not matching; “Video does not play” is not scored)", summary.correct, summary.scored)}</dd>
                    <dt>"Agreement with the labels"</dt>
                    <dd data-testid="verify-agreement">{percent(summary.agreement())}</dd>
                    <dd class="muted">{format!("you said Yes to {} of the {} clips asked with their own label, which the annotators accepted", summary.agreed, summary.positives)}</dd>
                </dl>
                <h3>"The classes you found hardest"</h3>
                {if summary.hardest.is_empty() {
                    view! { <p data-testid="verify-hardest">"None: every scored answer matched the labels."</p> }.into_any()
                } else {
                    view! { <ol data-testid="verify-hardest">{hardest}</ol> }.into_any()
                }}
                <div class="table-scroll">
                    <table class="verify-table">
                        <thead><tr><th>"#"</th><th>"Clip"</th><th>"Asked"</th><th>"Label"</th><th>"You"</th><th>"Expected"</th><th></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
                <p class="muted">{format!("Session seed {seed}: the same clips and questions again with ?seed={seed}.")}</p>
            </div>
        }
        .into_any()
    }
}
