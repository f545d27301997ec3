//! `/verify`: the Mechanical Turk task that labelled Kinetics, recreated on real validation clips of the
//! loaded annotation files. Each question shows a clip (the YouTube embed limited to its segment) and
//! asks "Does this video clip contain the human action …?", with the original interface's answers and
//! keys; the class asked is the clip's label or a hard negative ([`kinetics::teach`]), so the answers
//! can be scored against the labels.
//!
//! Query: `v=400|600`, `classes=a|b` (only these classes), `group=NAME` (only this parent group),
//! `n=` (clips), `time=` (seconds per clip, 0 for untimed), `seed=` (the same questions again).
//!
//! The `classes=` list is read by [`kinetics::teach::class_list`]: repeats count once, unknown names are
//! left out with a notice, a list over [`kinetics::teach::MAX_CLASS_LIST_BYTES`] is ignored with a
//! notice, and a list of one class says so.

use std::time::Duration;

use kinetics::teach::{class_list, draw_questions, shown_name, Answer, Question, Summary};
use kinetics::{taxonomy, Clip, Version};
use leptos::ev;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::explorer::clips::{segment_text, Player};
use crate::explorer::query::encode;
use crate::explorer::{use_data, View};
use crate::teach::findings::class_page;

/// Clips in a session unless asked otherwise.
const DEFAULT_COUNT: usize = 10;
/// Most clips in a session.
const MAX_COUNT: usize = 50;
/// Seconds per clip offered for a timed session (0: untimed).
const TIME_LIMITS: [u32; 4] = [0, 15, 30, 60];

/// The session's settings (from the address, changed in the form).
#[derive(Debug, Clone, PartialEq)]
struct Settings {
    version: Version,
    /// Only these classes (empty: every class, or the group's).
    classes: Vec<String>,
    /// Only this parent group.
    group: Option<&'static str>,
    count: usize,
    seconds: u32,
    seed: Option<u64>,
}

/// The distinct classes of `version` in a `classes=a|b` list, and what the page should say about it
/// (names left out, repeats, a single class, a list too long to read).
fn read_classes(list: &str, version: Version) -> (Vec<String>, Option<String>) {
    match class_list(list, version) {
        Ok(read) => (
            read.classes.iter().map(|c| (*c).to_owned()).collect(),
            read.notice(),
        ),
        Err(e) => (
            Vec::new(),
            Some(format!("The address's classes= list was ignored: {e}.")),
        ),
    }
}

impl Settings {
    /// The settings of the address, and a notice about its `classes=` list.
    fn from_query(get: impl Fn(&str) -> Option<String>) -> (Settings, Option<String>) {
        let version = View::parse(get("v").as_deref())
            .version()
            .unwrap_or(Version::K400);
        let (classes, notice) = get("classes")
            .map(|list| read_classes(&list, version))
            .unwrap_or_default();
        let settings = Settings {
            version,
            classes,
            group: get("group")
                .and_then(|g| taxonomy::group(&g))
                .map(|g| g.name),
            count: get("n")
                .and_then(|n| n.parse().ok())
                .map_or(DEFAULT_COUNT, |n: usize| n.clamp(1, MAX_COUNT)),
            seconds: get("time")
                .and_then(|t| t.parse().ok())
                .filter(|t| TIME_LIMITS.contains(t))
                .unwrap_or(0),
            seed: get("seed").and_then(|s| s.parse().ok()),
        };
        (settings, notice)
    }

    /// Changes the classes (in the form), returning the notice about them: the list is read again as
    /// one from the address, so the same rules hold (at most the version's classes, each once).
    fn set_classes(&mut self, classes: &[String], version: Version) -> Option<String> {
        let (classes, notice) = read_classes(&classes.join("|"), version);
        self.version = version;
        self.classes = classes;
        notice
    }

    /// The classes a session draws from, as names of its version.
    fn class_names(&self) -> Vec<String> {
        if !self.classes.is_empty() {
            return self.classes.clone();
        }
        match self.group.and_then(taxonomy::group) {
            Some(group) => group
                .members_in(self.version)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            None => self
                .version
                .classes()
                .iter()
                .map(|c| (*c).to_owned())
                .collect(),
        }
    }

    fn scope(&self) -> String {
        if !self.classes.is_empty() {
            self.classes.join(", ")
        } else if let Some(group) = self.group {
            format!("the group “{group}”")
        } else {
            format!("all {} classes", self.version.num_classes())
        }
    }
}

/// A running or finished session.
#[derive(Debug, Clone, PartialEq)]
struct Run {
    seed: u64,
    questions: Vec<Question<Clip>>,
}

/// A random seed from the browser.
fn fresh_seed() -> u64 {
    (js_sys::Math::random() * 1e15) as u64
}

/// The page.
#[component]
pub fn VerifyPage() -> impl IntoView {
    let data = use_data();
    let params = use_query_map();
    let (initial, notice) = params.with_untracked(|p| Settings::from_query(|k| p.get(k)));
    let settings = RwSignal::new(initial);
    let notice = RwSignal::new(notice);
    crate::explorer::want_bundles(move || match settings.with(|s| s.version) {
        Version::K400 => View::K400,
        Version::K600 => View::K600,
    });
    let run = RwSignal::new(None::<Run>);
    let answers = RwSignal::new(Vec::<Answer>::new());
    // After an answer, the label is shown until "Next".
    let feedback = RwSignal::new(false);
    let replays = RwSignal::new(0u32);
    let remaining = RwSignal::new(0u32);
    let (problem, set_problem) = signal(None::<String>);

    let start = move || {
        let s = settings.get_untracked();
        let seed = s.seed.unwrap_or_else(fresh_seed);
        let view = if s.version == Version::K400 {
            View::K400
        } else {
            View::K600
        };
        let pool = data
            .index
            .with_untracked(|index| super::validation_clips(index, view, s.class_names()));
        if pool.is_empty() {
            let loading = data.loading(if s.version == Version::K400 {
                View::K400
            } else {
                View::K600
            });
            set_problem.set(Some(if loading {
                "The validation clips are still loading; try again in a moment.".to_owned()
            } else {
                format!(
                    "No validation clips of {} are loaded. Load a {} validation file in the explorer.",
                    s.scope(),
                    s.version
                )
            }));
            return;
        }
        set_problem.set(None);
        let mut rng = fastrand::Rng::with_seed(seed);
        let questions = draw_questions(&pool, s.count, s.version, &s.classes, &mut rng);
        answers.set(Vec::new());
        feedback.set(false);
        remaining.set(s.seconds);
        run.set(Some(Run { seed, questions }));
    };

    let current = move || {
        run.with(|r| {
            r.as_ref().and_then(|r| {
                answers.with(|a| {
                    r.questions
                        .get(if feedback.get() { a.len() - 1 } else { a.len() })
                        .cloned()
                })
            })
        })
    };
    let finished = move || {
        run.with(|r| {
            r.as_ref()
                .is_some_and(|r| answers.with(Vec::len) >= r.questions.len())
                && !feedback.get()
        })
    };
    let answer = move |given: Answer| {
        if run.with_untracked(Option::is_none) || feedback.get_untracked() || finished() {
            return;
        }
        answers.update(|a| a.push(given));
        feedback.set(true);
    };
    let next = move || {
        if feedback.get_untracked() {
            feedback.set(false);
            replays.set(0);
            remaining.set(settings.with_untracked(|s| s.seconds));
        }
    };

    // Keys of the interface: Y/1, N/2, U/3, R/4 (replay), X/5; Enter or → for the next clip.
    let keys = window_event_listener(ev::keydown, move |event: web_sys::KeyboardEvent| {
        if event.ctrl_key() || event.meta_key() || event.alt_key() {
            return;
        }
        let typing = event
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA"));
        if typing || run.with_untracked(Option::is_none) {
            return;
        }
        let handled = match event.key().as_str() {
            "y" | "Y" | "1" => {
                answer(Answer::Yes);
                true
            }
            "n" | "N" | "2" => {
                answer(Answer::No);
                true
            }
            "u" | "U" | "3" => {
                answer(Answer::Unsure);
                true
            }
            "r" | "R" | "4" => {
                replays.update(|r| *r += 1);
                true
            }
            "x" | "X" | "5" => {
                answer(Answer::DoesNotPlay);
                true
            }
            "Enter" | "ArrowRight" if feedback.get_untracked() => {
                next();
                true
            }
            _ => false,
        };
        if handled {
            event.prevent_default();
        }
    });
    // The clock of a timed session: one tick a second while a clip waits for its answer.
    let tick = set_interval_with_handle(
        move || {
            let waiting =
                run.with_untracked(Option::is_some) && !feedback.get_untracked() && !finished();
            if !waiting || settings.with_untracked(|s| s.seconds) == 0 {
                return;
            }
            let left = remaining.get_untracked().saturating_sub(1);
            remaining.set(left);
            if left == 0 {
                answer(Answer::TimedOut);
            }
        },
        Duration::from_secs(1),
    )
    .ok();
    on_cleanup(move || {
        keys.remove();
        if let Some(tick) = tick {
            tick.clear();
        }
    });

    let pwa = use_context::<crate::pwa::Pwa>();
    let offline = move || pwa.is_some_and(|p| !p.online.get());

    view! {
        <section class="page teach verify">
            <h1>"Verify like an annotator"</h1>
            <p class="lede">
                "Kinetics was labelled by people on Amazon Mechanical Turk who watched each candidate clip and \
                 answered one question. Answer it yourself on real validation clips: sometimes the class asked is \
                 the clip's label, sometimes a class that is easy to confuse with it."
            </p>
            <Show when=move || run.with(Option::is_none) fallback=move || view! {
                <Show when=finished fallback=move || view! {
                    <QuestionView current answers run feedback replays remaining settings offline answer next/>
                }>
                    <SummaryView run answers/>
                    <p class="actions">
                        <button type="button" data-testid="verify-again" on:click=move |_| run.set(None)>"New session"</button>
                    </p>
                </Show>
            }>
                <SetupForm settings notice start problem/>
            </Show>
        </section>
    }
}

/// The settings and the start button.
#[component]
fn SetupForm(
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
fn QuestionView(
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
fn SummaryView(run: RwSignal<Option<Run>>, answers: RwSignal<Vec<Answer>>) -> impl IntoView {
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
                    <li><a href=format!("/classes/{}", encode(class))>{class.clone()}</a>
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// `Settings::from_query` over pairs (a `ParamsMap` decodes with `js_sys`, which only runs in a browser).
    fn read(pairs: &[(&str, String)]) -> (Settings, Option<String>) {
        Settings::from_query(|key| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn repeated_classes_count_once_and_one_class_says_so() {
        let (settings, notice) = read(&[("classes", "yoga|yoga".into())]);
        assert_eq!(settings.classes, ["yoga"]);
        let notice = notice.unwrap();
        assert!(notice.contains("one class only, “yoga”"), "{notice}");
        let (settings, notice) =
            read(&[("classes", "long jump|triple jump|long jump|nope".into())]);
        assert_eq!(settings.classes, ["long jump", "triple jump"]);
        let notice = notice.unwrap();
        assert!(notice.contains("“nope”"), "{notice}");
        assert!(notice.contains("1 repeated name counted once"), "{notice}");
        let (_, notice) = read(&[("classes", "long jump|triple jump".into())]);
        assert_eq!(notice, None);
    }

    #[test]
    fn a_huge_class_list_is_ignored_with_a_notice() {
        let (settings, notice) = read(&[("classes", "yoga|".repeat(400_000))]);
        assert!(settings.classes.is_empty());
        let notice = notice.unwrap();
        assert!(
            notice.starts_with("The address's classes= list was ignored: the list of classes is 2000000 bytes long"),
            "{notice}"
        );
    }

    #[test]
    fn changing_the_version_reads_the_classes_again() {
        let (mut settings, _) = read(&[("classes", "dying hair|yoga".into())]);
        assert_eq!(settings.classes, ["dying hair", "yoga"]);
        let classes = settings.classes.clone();
        let notice = settings.set_classes(&classes, Version::K600).unwrap();
        assert_eq!(settings.classes, ["yoga"]);
        assert!(notice.contains("“dying hair”"), "{notice}");
        assert!(notice.contains("one class only"), "{notice}");
    }
}
