//! The classroom exercises built on the papers: the annotators' verification task ([`draw_questions`],
//! [`Summary`]) and the "which action is this?" quiz ([`choices`]), with hard negatives taken from the
//! papers' own material ([`hard_negatives`]): the class confusions the Kinetics-400 paper names and
//! the classes of the same parent group (its appendix B).
//!
//! Randomness comes from a caller's [`fastrand::Rng`], so a session is reproducible from its seed.

use crate::taxonomy::{self, Version};

/// A class confusion the Kinetics-400 paper names, with its words on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedConfusion {
    /// A Kinetics-400 class.
    pub class: &'static str,
    /// The Kinetics-400 class it is confused with.
    pub confused_with: &'static str,
    /// What the paper says of the pair (quoted where it is quoted, for the findings page).
    pub note: &'static str,
}

/// The class confusions named in the text of the Kinetics-400 paper (seed `001_e637b2814c92c261.txt`,
/// §4.5 "Class confusion", which refers to its Table 5; the table's body is not in the seed's text):
/// the hard negatives of the classroom exercises and the pairs of the app's findings page.
pub const NAMED_CONFUSIONS: [NamedConfusion; 3] = [
    NamedConfusion {
        class: "long jump",
        confused_with: "triple jump",
        note: "a fine-grained distinction that one would expect to be hard",
    },
    NamedConfusion {
        class: "eating burger",
        confused_with: "eating doughnuts",
        note: "“confusing burger with doughnuts” (the classes eating burger and eating doughnuts): eating classes need what is eaten, which may be small and half gone",
    },
    NamedConfusion {
        class: "swing dancing",
        confused_with: "salsa dancing",
        note: "“‘swing dancing’ is typically much faster-paced and has a peculiar style that makes it easy for humans to distinguish from salsa”",
    },
];

/// Why a class was offered as a hard negative for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// A confusion the paper names ([`NAMED_CONFUSIONS`]).
    NamedConfusion,
    /// Both are members of this parent group (an index into [`taxonomy::groups`]).
    SameGroup(usize),
    /// Another of the classes the session was limited to (see [`draw_questions`]).
    Chosen,
}

impl Relation {
    /// A phrase for the page: `a confusion named in the Kinetics-400 paper`, `also in the group "dancing"`.
    pub fn describe(self) -> String {
        match self {
            Relation::NamedConfusion => "a confusion named in the Kinetics-400 paper".to_owned(),
            Relation::SameGroup(group) => {
                let name = taxonomy::groups().get(group).map_or("?", |g| g.name);
                format!("from the same group, “{name}”")
            }
            Relation::Chosen => "another of the classes chosen for this session".to_owned(),
        }
    }
}

/// The Kinetics-400 name a class of `version` descends from (itself for Kinetics-400), for the
/// groups, which list Kinetics-400 names.
fn k400_name(class: &str, version: Version) -> Option<&'static str> {
    match version {
        Version::K400 => Version::K400
            .classes()
            .iter()
            .copied()
            .find(|&c| c == class),
        Version::K600 => taxonomy::k400_predecessor(class),
    }
}

/// Classes of `version` that are hard to tell from `class`: first the paper's named confusions, then
/// the other members of each group `class` belongs to (paper order, without repeats). Empty for a
/// class in no group and no named confusion.
pub fn hard_negatives(class: &str, version: Version) -> Vec<(&'static str, Relation)> {
    let in_version = |name: &str| version.classes().iter().copied().find(|&c| c == name);
    let mut out: Vec<(&'static str, Relation)> = Vec::new();
    for NamedConfusion {
        class: a,
        confused_with: b,
        ..
    } in NAMED_CONFUSIONS
    {
        let other = if a == class {
            b
        } else if b == class {
            a
        } else {
            continue;
        };
        if let Some(other) = in_version(other) {
            out.push((other, Relation::NamedConfusion));
        }
    }
    let Some(root) = k400_name(class, version) else {
        return out;
    };
    for group in taxonomy::groups_of(root) {
        let members = taxonomy::groups()[group].members_in(version);
        for member in members {
            if member != class && !out.iter().any(|(name, _)| *name == member) {
                out.push((member, Relation::SameGroup(group)));
            }
        }
    }
    out
}

/// One question of a verification session: does the clip `item` (labelled `label`) contain `asked`?
#[derive(Debug, Clone, PartialEq)]
pub struct Question<T> {
    /// The caller's clip.
    pub item: T,
    /// The clip's label in the annotation file.
    pub label: String,
    /// The class the question names: `label`, or a hard negative.
    pub asked: String,
    /// Why `asked` was chosen when it is not `label`.
    pub relation: Option<Relation>,
}

impl<T> Question<T> {
    /// The answer the labels expect: [`Answer::Yes`] when the class asked is the clip's label.
    pub fn expected(&self) -> Answer {
        if self.asked == self.label {
            Answer::Yes
        } else {
            Answer::No
        }
    }
}

/// `count` questions on clips drawn from `pool` (clip, label) without repeating a clip, spreading the
/// labels (a label repeats only when the pool has fewer labels than `count`). Each asks about the clip's
/// own label or, with probability one half, a hard negative of it (a class without one is asked
/// about itself). A session limited to a few classes (`only`, two or more distinct ones, e.g. a
/// confusion pair to tell apart) asks only about those: its negatives are the hard negatives among
/// them, else the others. Repeats in `only` count once (read a `classes=` list with [`class_list`]).
pub fn draw_questions<T: Clone>(
    pool: &[(T, String)],
    count: usize,
    version: Version,
    only: &[String],
    rng: &mut fastrand::Rng,
) -> Vec<Question<T>> {
    // `yoga|yoga` is one class: counted as two it would have no negative at all, and every question
    // would ask the clip's own label.
    let mut distinct: Vec<String> = Vec::with_capacity(only.len());
    for name in only {
        if !distinct.contains(name) {
            distinct.push(name.clone());
        }
    }
    let only = distinct.as_slice();
    let mut order: Vec<usize> = (0..pool.len()).collect();
    rng.shuffle(&mut order);
    // First one clip per label, then the rest, so ten questions cover ten classes where they can.
    let mut seen = std::collections::HashSet::new();
    let (first, rest): (Vec<usize>, Vec<usize>) = order
        .into_iter()
        .partition(|&i| seen.insert(pool[i].1.clone()));
    first
        .into_iter()
        .chain(rest)
        .take(count)
        .map(|i| {
            let (item, label) = &pool[i];
            let negatives = negatives_within(label, version, only);
            let (asked, relation) = if !negatives.is_empty() && rng.bool() {
                let (name, relation) = negatives[rng.usize(..negatives.len())].clone();
                (name, Some(relation))
            } else {
                (label.clone(), None)
            };
            Question {
                item: item.clone(),
                label: label.clone(),
                asked,
                relation,
            }
        })
        .collect()
}

/// The negatives of `label` for a session limited to `only` (every hard negative when `only` has fewer
/// than two classes).
fn negatives_within(label: &str, version: Version, only: &[String]) -> Vec<(String, Relation)> {
    let hard = hard_negatives(label, version)
        .into_iter()
        .map(|(name, relation)| (name.to_owned(), relation));
    if only.len() < 2 {
        return hard.collect();
    }
    let within: Vec<(String, Relation)> = hard.filter(|(name, _)| only.contains(name)).collect();
    if !within.is_empty() {
        return within;
    }
    only.iter()
        .filter(|name| *name != label)
        .map(|name| (name.clone(), Relation::Chosen))
        .collect()
}

/// Longest `classes=a|b|…` list [`class_list`] reads, bytes: every class of either version named once
/// (9,208 bytes for Kinetics-600) fits, and a longer list is refused before it is split, so an address
/// of megabytes cannot build millions of names.
pub const MAX_CLASS_LIST_BYTES: usize = 16 * 1024;

/// Most characters of a name from an address that a page shows (see [`shown_name`]).
pub const MAX_SHOWN_NAME_CHARS: usize = 60;

/// How many of the unknown names of a list [`ClassList::unknown`] keeps to show.
const MAX_UNKNOWN_KEPT: usize = 3;

/// A `classes=` list that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClassListError {
    /// Longer than [`MAX_CLASS_LIST_BYTES`].
    #[error(
        "the list of classes is {bytes} bytes long, over the {max} read (every class of the dataset \
         named once is shorter)"
    )]
    TooLong {
        /// Its length, bytes.
        bytes: usize,
        /// [`MAX_CLASS_LIST_BYTES`].
        max: usize,
    },
}

/// The classes of a `classes=a|b|…` list, as read by [`class_list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassList {
    /// The dataset version the names were looked up in.
    pub version: Version,
    /// The distinct classes of `version` named, in the order first named (so at most
    /// [`Version::num_classes`]).
    pub classes: Vec<&'static str>,
    /// The first few names that are not classes of `version`, each cut by [`shown_name`].
    pub unknown: Vec<String>,
    /// How many names were not classes of `version` (all of them, also those not in `unknown`).
    pub unknown_count: usize,
    /// How many names repeated one named before (`yoga|yoga` has one).
    pub repeats: usize,
}

impl ClassList {
    /// What the page should say about the list, or `None` when it named two or more distinct classes
    /// without repeats or unknown names: the names left out, the repeats dropped, and a session of
    /// fewer than two classes.
    pub fn notice(&self) -> Option<String> {
        let mut parts: Vec<String> = Vec::new();
        if self.unknown_count > 0 {
            let mut names: Vec<String> = self.unknown.iter().map(|n| format!("“{n}”")).collect();
            let more = self.unknown_count - self.unknown.len();
            if more > 0 {
                names.push(format!("{more} more"));
            }
            let (what, are) = if self.unknown_count == 1 {
                ("name that is not a", "is")
            } else {
                ("names that are not", "are")
            };
            parts.push(format!(
                "Left out {} {what} {} class{}: {} {are} ignored.",
                self.unknown_count,
                self.version,
                if self.unknown_count == 1 { "" } else { "es" },
                names.join(", "),
            ));
        }
        if self.repeats > 0 {
            parts.push(format!(
                "{} repeated name{} counted once.",
                self.repeats,
                if self.repeats == 1 { "" } else { "s" }
            ));
        }
        match self.classes.as_slice() {
            [] if self.unknown_count > 0 || self.repeats > 0 => parts.push(
                "No class of the list is left, so the session is not limited to classes."
                    .to_owned(),
            ),
            [one] => parts.push(format!(
                "The list names one class only, “{one}”: each question asks about a clip of it, \
                 with hard negatives from its group or the paper's confusions, not from the list. \
                 Add a second class to tell two apart."
            )),
            _ => {}
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// Reads a `classes=a|b|…` list (names separated by `|`, spaces around them ignored, empty ones
/// skipped) as classes of `version`: repeats count once, in the order first named, and names that are
/// not classes of `version` are left out (counted, the first few kept for a notice). A list longer than
/// [`MAX_CLASS_LIST_BYTES`] is refused before it is split. Time and memory are linear in the list's
/// length, and the result holds at most [`Version::num_classes`] classes.
pub fn class_list(list: &str, version: Version) -> Result<ClassList, ClassListError> {
    if list.len() > MAX_CLASS_LIST_BYTES {
        return Err(ClassListError::TooLong {
            bytes: list.len(),
            max: MAX_CLASS_LIST_BYTES,
        });
    }
    let mut read = ClassList {
        version,
        classes: Vec::new(),
        unknown: Vec::new(),
        unknown_count: 0,
        repeats: 0,
    };
    let mut named = vec![false; version.num_classes()];
    for name in list.split('|').map(str::trim).filter(|n| !n.is_empty()) {
        let Some(index) = version.label_index(name) else {
            read.unknown_count += 1;
            let shown = shown_name(name);
            if read.unknown.len() < MAX_UNKNOWN_KEPT && !read.unknown.contains(&shown) {
                read.unknown.push(shown);
            }
            continue;
        };
        match named.get_mut(index) {
            Some(seen) if !*seen => {
                *seen = true;
                read.classes.push(version.classes()[index]);
            }
            _ => read.repeats += 1,
        }
    }
    Ok(read)
}

/// Why two names cannot make a verification session of two classes (see [`verify_pair`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PairProblem {
    /// A side is empty.
    #[error("Pick two classes to verify them together.")]
    Missing,
    /// Both sides name the same class.
    #[error(
        "Both sides are “{0}”, the same class: pick a different second class to verify two classes together."
    )]
    Same(&'static str),
    /// A side is not a class of the version.
    #[error("“{name}” is not a {version} class, so it cannot be verified.")]
    Unknown {
        /// The name as given, cut by [`shown_name`].
        name: String,
        /// The version it was looked up in.
        version: Version,
    },
}

/// The two classes of `version` that `a` and `b` name (spaces around them ignored), for a
/// verification session of the pair (`/compare`'s "verify both"), or why there is none: a side empty,
/// not a class, or both the same class (which would leave the session no negative to ask).
pub fn verify_pair(
    a: &str,
    b: &str,
    version: Version,
) -> Result<(&'static str, &'static str), PairProblem> {
    let class = |name: &str| -> Result<&'static str, PairProblem> {
        let name = name.trim();
        if name.is_empty() {
            return Err(PairProblem::Missing);
        }
        version
            .label_index(name)
            .map(|index| version.classes()[index])
            .ok_or_else(|| PairProblem::Unknown {
                name: shown_name(name),
                version,
            })
    };
    let (a, b) = (class(a)?, class(b)?);
    if a == b {
        return Err(PairProblem::Same(a));
    }
    Ok((a, b))
}

/// `text` cut to [`MAX_SHOWN_NAME_CHARS`] characters with `…`, for a page that shows a name taken from
/// its address (an unknown class, say) without echoing a long one whole.
pub fn shown_name(text: &str) -> String {
    match text.char_indices().nth(MAX_SHOWN_NAME_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The five buttons of the annotators' interface that end a question (the sixth, "Replay the video",
/// only replays), plus running out of time in a timed session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Answer {
    /// "Yes, this is a true example of the action".
    Yes,
    /// "No, this is not an example of the action".
    No,
    /// "You are unsure if this is an example of the action".
    Unsure,
    /// "Video does not play, does not contain a human, is an image, cartoon or a computer game".
    DoesNotPlay,
    /// No answer before the time ran out.
    TimedOut,
}

impl Answer {
    /// The words on the button (or the summary's for [`Answer::TimedOut`]).
    pub fn label(self) -> &'static str {
        match self {
            Answer::Yes => "Yes, this is a true example of the action",
            Answer::No => "No, this is not an example of the action",
            Answer::Unsure => "I am unsure if this is an example of the action",
            Answer::DoesNotPlay => {
                "Video does not play, does not contain a human, is an image, cartoon or a computer game"
            }
            Answer::TimedOut => "No answer in time",
        }
    }

    /// One word for tables.
    pub fn short(self) -> &'static str {
        match self {
            Answer::Yes => "Yes",
            Answer::No => "No",
            Answer::Unsure => "Unsure",
            Answer::DoesNotPlay => "Does not play",
            Answer::TimedOut => "Time ran out",
        }
    }
}

/// What a session's answers add up to.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Questions answered (any answer, time-outs included).
    pub answered: usize,
    /// Questions scored: every answer but [`Answer::DoesNotPlay`] (the annotators' way to skip a clip
    /// that cannot be judged).
    pub scored: usize,
    /// Scored answers that match [`Question::expected`] (Unsure and time-outs never do).
    pub correct: usize,
    /// Scored questions that asked about the clip's own label.
    pub positives: usize,
    /// Of those, the ones answered Yes: the participant agreed with the Kinetics label.
    pub agreed: usize,
    /// Classes (each question's label) with the most answers that were not correct, most first, then by
    /// name: (class, misses, scored questions on it). Only classes with at least one miss.
    pub hardest: Vec<(String, usize, usize)>,
}

impl Summary {
    /// Sums up `answers[i]` for `questions[i]` (extra questions without an answer are left out).
    pub fn of<T>(questions: &[Question<T>], answers: &[Answer]) -> Summary {
        let mut summary = Summary {
            answered: 0,
            scored: 0,
            correct: 0,
            positives: 0,
            agreed: 0,
            hardest: Vec::new(),
        };
        let mut per_class: Vec<(String, usize, usize)> = Vec::new();
        for (question, &answer) in questions.iter().zip(answers) {
            summary.answered += 1;
            if answer == Answer::DoesNotPlay {
                continue;
            }
            summary.scored += 1;
            let right = answer == question.expected();
            summary.correct += usize::from(right);
            if question.expected() == Answer::Yes {
                summary.positives += 1;
                summary.agreed += usize::from(answer == Answer::Yes);
            }
            let entry = match per_class.iter().position(|(c, _, _)| *c == question.label) {
                Some(i) => &mut per_class[i],
                None => {
                    per_class.push((question.label.clone(), 0, 0));
                    let last = per_class.len() - 1;
                    &mut per_class[last]
                }
            };
            entry.1 += usize::from(!right);
            entry.2 += 1;
        }
        per_class.retain(|(_, misses, _)| *misses > 0);
        per_class.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        summary.hardest = per_class;
        summary
    }

    /// `correct / scored` as a percentage, `None` when nothing was scored.
    pub fn accuracy(&self) -> Option<f64> {
        percent(self.correct, self.scored)
    }

    /// `agreed / positives` as a percentage, `None` without positives.
    pub fn agreement(&self) -> Option<f64> {
        percent(self.agreed, self.positives)
    }
}

fn percent(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| 100.0 * part as f64 / whole as f64)
}

/// Four choices for "which action is this?", shuffled: `class` and three others of `version`, hard
/// negatives first (named confusions, then its groups), filled with random classes where it has
/// fewer than three.
pub fn choices(class: &str, version: Version, rng: &mut fastrand::Rng) -> Vec<String> {
    let mut negatives: Vec<&str> = hard_negatives(class, version)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    // Named confusions stay in; the group members are shuffled so rounds differ.
    let named = hard_negatives(class, version)
        .iter()
        .filter(|(_, r)| *r == Relation::NamedConfusion)
        .count();
    rng.shuffle(&mut negatives[named..]);
    let mut picked: Vec<String> = vec![class.to_owned()];
    for name in negatives {
        if picked.len() == 4 {
            break;
        }
        picked.push(name.to_owned());
    }
    let all = version.classes();
    while picked.len() < 4 && picked.len() < all.len() {
        let name = all[rng.usize(..all.len())];
        if !picked.iter().any(|p| p == name) {
            picked.push(name.to_owned());
        }
    }
    rng.shuffle(&mut picked);
    picked
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn named_confusions_are_kinetics_400_classes() {
        for confusion in NAMED_CONFUSIONS {
            for name in [confusion.class, confusion.confused_with] {
                assert!(Version::K400.classes().contains(&name), "{name}");
            }
            assert!(!confusion.note.is_empty());
        }
    }

    #[test]
    fn hard_negatives_are_named_confusions_then_group_members() {
        let negatives = hard_negatives("long jump", Version::K400);
        assert_eq!(negatives[0], ("triple jump", Relation::NamedConfusion));
        let jumping = taxonomy::groups()
            .iter()
            .position(|g| g.name == "athletics – jumping")
            .unwrap();
        assert!(negatives.contains(&("high jump", Relation::SameGroup(jumping))));
        // No repeat of the confusion as a group member, never the class itself.
        assert_eq!(
            negatives
                .iter()
                .filter(|(n, _)| *n == "triple jump")
                .count(),
            1
        );
        assert!(negatives.iter().all(|(n, _)| *n != "long jump"));
        for (name, relation) in &negatives {
            if let Relation::SameGroup(g) = relation {
                assert!(taxonomy::groups()[*g].contains(name), "{name}");
            }
        }
    }

    #[test]
    fn kinetics_600_negatives_use_its_names() {
        // "dyeing hair" is the Kinetics-600 name of "dying hair"; its group siblings are 600 names.
        let negatives = hard_negatives("dyeing hair", Version::K600);
        assert!(!negatives.is_empty());
        for (name, _) in negatives {
            assert!(Version::K600.classes().contains(&name), "{name}");
            assert_ne!(name, "dyeing hair");
        }
    }

    #[test]
    fn questions_cover_distinct_labels_and_negatives_are_hard() {
        let seed = 20_261_202;
        println!("seed {seed}");
        let mut rng = fastrand::Rng::with_seed(seed);
        let labels = [
            "long jump",
            "salsa dancing",
            "eating burger",
            "abseiling",
            "archery",
        ];
        let pool: Vec<(usize, String)> = (0..50)
            .map(|i| (i, labels[i % labels.len()].to_owned()))
            .collect();
        let questions = draw_questions(&pool, 5, Version::K400, &[], &mut rng);
        let mut seen: Vec<&str> = questions.iter().map(|q| q.label.as_str()).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 5, "one question per label first");
        let many = draw_questions(&pool, 40, Version::K400, &[], &mut rng);
        assert_eq!(many.len(), 40);
        let mut items: Vec<usize> = many.iter().map(|q| q.item).collect();
        items.sort_unstable();
        items.dedup();
        assert_eq!(items.len(), 40, "no clip twice");
        let negatives = many.iter().filter(|q| q.asked != q.label).count();
        assert!((8..=32).contains(&negatives), "{negatives} of 40 negatives");
        for q in &many {
            match q.relation {
                None => assert_eq!(q.asked, q.label),
                Some(_) => assert!(hard_negatives(&q.label, Version::K400)
                    .iter()
                    .any(|(n, r)| *n == q.asked && Some(*r) == q.relation)),
            }
        }
    }

    #[test]
    fn a_session_limited_to_classes_asks_only_about_them() {
        let mut rng = fastrand::Rng::with_seed(11);
        let only = ["long jump".to_owned(), "triple jump".to_owned()];
        let pool: Vec<(usize, String)> = (0..40).map(|i| (i, only[i % 2].clone())).collect();
        let questions = draw_questions(&pool, 40, Version::K400, &only, &mut rng);
        assert!(questions.iter().all(|q| only.contains(&q.asked)));
        assert!(questions
            .iter()
            .any(|q| q.relation == Some(Relation::NamedConfusion)));
        // Two classes that are not a named confusion nor in one group: each the other's negative.
        let only = ["abseiling".to_owned(), "archery".to_owned()];
        let pool: Vec<(usize, String)> = (0..40).map(|i| (i, only[i % 2].clone())).collect();
        let questions = draw_questions(&pool, 40, Version::K400, &only, &mut rng);
        assert!(questions.iter().all(|q| only.contains(&q.asked)));
        assert!(questions
            .iter()
            .any(|q| q.relation == Some(Relation::Chosen)));
    }

    #[test]
    fn a_class_named_twice_is_one_class_with_hard_negatives() {
        let mut rng = fastrand::Rng::with_seed(5);
        let twice = ["long jump".to_owned(), "long jump".to_owned()];
        let pool: Vec<(usize, String)> = (0..40).map(|i| (i, twice[0].clone())).collect();
        let questions = draw_questions(&pool, 40, Version::K400, &twice, &mut rng);
        let negatives = questions.iter().filter(|q| q.asked != q.label).count();
        assert!(negatives > 0, "a repeated class still has hard negatives");
        for q in questions.iter().filter(|q| q.asked != q.label) {
            assert!(hard_negatives("long jump", Version::K400)
                .iter()
                .any(|(n, _)| *n == q.asked));
        }
    }

    #[test]
    fn class_lists_drop_repeats_and_unknown_names_in_order() {
        let list = class_list(
            " yoga|long jump|yoga||triple jump | long jump",
            Version::K400,
        )
        .unwrap();
        assert_eq!(list.classes, ["yoga", "long jump", "triple jump"]);
        assert_eq!((list.repeats, list.unknown_count), (2, 0));
        assert_eq!(list.notice().unwrap(), "2 repeated names counted once.");

        let pair = class_list("long jump|triple jump", Version::K400).unwrap();
        assert_eq!(pair.notice(), None);
        assert_eq!(class_list("", Version::K400).unwrap().classes.len(), 0);
        assert_eq!(class_list("", Version::K400).unwrap().notice(), None);

        let same = class_list("yoga|yoga", Version::K400).unwrap();
        assert_eq!(
            (same.classes.as_slice(), same.repeats),
            (["yoga"].as_slice(), 1)
        );
        let notice = same.notice().unwrap();
        assert!(notice.contains("one class only, “yoga”"), "{notice}");

        // "dying hair" is Kinetics-400's spelling; Kinetics-600 says "dyeing hair".
        let long = "x".repeat(500);
        let unknown = class_list(
            &format!("dying hair|dyeing hair|{long}|nope|nope|also not|neither"),
            Version::K600,
        )
        .unwrap();
        assert_eq!(unknown.classes, ["dyeing hair"]);
        assert_eq!(unknown.unknown_count, 6);
        assert_eq!(unknown.unknown.len(), 3);
        assert_eq!(unknown.unknown[1], format!("{}…", "x".repeat(60)));
        let notice = unknown.notice().unwrap();
        assert!(
            notice.starts_with(
                "Left out 6 names that are not Kinetics-600 classes: “dying hair”, “xxx"
            ),
            "{notice}"
        );
        assert!(notice.contains("“nope”, 3 more are ignored."), "{notice}");
        assert!(!notice.contains(&long), "never the whole name");

        let none = class_list("nope", Version::K400).unwrap();
        assert!(none.classes.is_empty());
        assert!(none.notice().unwrap().contains("not limited to classes"));
    }

    #[test]
    fn class_lists_are_bounded() {
        // Every class once fits, in both versions; the result never exceeds the class count.
        for version in Version::ALL {
            let all = version.classes().join(" | ");
            assert!(
                all.len() <= MAX_CLASS_LIST_BYTES,
                "{version}: {}",
                all.len()
            );
            let list = class_list(&all, version).unwrap();
            assert_eq!(list.classes, version.classes());
            let half = version.classes()[..version.num_classes() / 2].join("|");
            let twice = class_list(&format!("{half}|{all}"), version).unwrap();
            assert_eq!(twice.classes.len(), version.num_classes());
            assert_eq!(twice.repeats, version.num_classes() / 2);
        }
        // The 2 MB `yoga|yoga|…` address is refused before it is split.
        let huge = "yoga|".repeat(400_000);
        assert_eq!(
            class_list(&huge, Version::K400).unwrap_err(),
            ClassListError::TooLong {
                bytes: 2_000_000,
                max: MAX_CLASS_LIST_BYTES
            }
        );
        // The longest list read, of one class named over and over, is one class.
        let most = "yoga|".repeat(MAX_CLASS_LIST_BYTES / 5);
        let list = class_list(&most, Version::K400).unwrap();
        assert_eq!(list.classes, ["yoga"]);
        assert_eq!(list.unknown, Vec::<String>::new());
    }

    #[test]
    fn a_pair_to_verify_is_two_different_classes() {
        assert_eq!(
            verify_pair("long jump", " triple jump ", Version::K400),
            Ok(("long jump", "triple jump"))
        );
        assert_eq!(
            verify_pair("yoga", "yoga", Version::K400),
            Err(PairProblem::Same("yoga"))
        );
        assert_eq!(
            verify_pair("", "yoga", Version::K400),
            Err(PairProblem::Missing)
        );
        let long = format!("{}<script>", "a".repeat(2_000_000));
        let problem = verify_pair("yoga", &long, Version::K400).unwrap_err();
        let text = problem.to_string();
        assert!(
            text.starts_with(&format!(
                "“{}…” is not a Kinetics-400 class",
                "a".repeat(60)
            )),
            "{}",
            &text[..100]
        );
        assert!(text.len() < 200, "never the whole name");
        assert_eq!(
            verify_pair("dying hair", "yoga", Version::K600)
                .unwrap_err()
                .to_string(),
            "“dying hair” is not a Kinetics-600 class, so it cannot be verified."
        );
    }

    #[test]
    fn shown_names_are_cut() {
        assert_eq!(shown_name("long jump"), "long jump");
        let sixty = "é".repeat(60);
        assert_eq!(shown_name(&sixty), sixty);
        assert_eq!(shown_name(&"é".repeat(61)), format!("{sixty}…"));
    }

    #[test]
    fn summary_scores_answers_against_the_labels() {
        let q = |label: &str, asked: &str| Question {
            item: (),
            label: label.to_owned(),
            asked: asked.to_owned(),
            relation: None,
        };
        let questions = [
            q("long jump", "long jump"),   // Yes: right, agreed
            q("long jump", "triple jump"), // Yes: wrong
            q("archery", "archery"),       // Unsure: wrong, not agreed
            q("archery", "bowling"),       // No: right
            q("abseiling", "abseiling"),   // does not play: not scored
            q("abseiling", "abseiling"),   // time out: wrong
        ];
        use Answer::*;
        let s = Summary::of(&questions, &[Yes, Yes, Unsure, No, DoesNotPlay, TimedOut]);
        assert_eq!(
            (s.answered, s.scored, s.correct, s.positives, s.agreed),
            (6, 5, 2, 3, 1)
        );
        assert_eq!(s.accuracy(), Some(40.0));
        assert!((s.agreement().unwrap() - 100.0 / 3.0).abs() < 1e-9);
        assert_eq!(
            s.hardest,
            vec![
                ("abseiling".to_owned(), 1, 1),
                ("archery".to_owned(), 1, 2),
                ("long jump".to_owned(), 1, 2)
            ]
        );
        assert_eq!(Summary::of(&questions[..0], &[]).accuracy(), None);
    }

    #[test]
    fn choices_hold_the_class_and_its_confusion() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..20 {
            let four = choices("swing dancing", Version::K400, &mut rng);
            assert_eq!(four.len(), 4);
            assert!(four.iter().any(|c| c == "swing dancing"));
            assert!(four.iter().any(|c| c == "salsa dancing"));
            let mut unique = four.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), 4);
        }
        // A class in no group still gets four distinct choices.
        let four = choices("abseiling", Version::K400, &mut rng);
        assert_eq!(four.len(), 4);
    }
}
