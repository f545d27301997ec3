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

mod views;

use std::time::Duration;

use kinetics::teach::{class_list, draw_questions, Answer, Question};
use kinetics::{taxonomy, Clip, Version};
use leptos::ev;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::explorer::{use_data, View};
use views::{QuestionView, SetupForm, SummaryView};

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
        let pool = data.index.with_untracked(|index| {
            crate::classroom::validation_clips(index, view, s.class_names())
        });
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
