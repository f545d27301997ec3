//! Case-insensitive search over class and group names: exact and prefix matches first, then word
//! prefixes, substrings, typo-tolerant (fuzzy) word matches and finally in-order letter matches.
//!
//! Names and queries are compared lower-cased, with runs of spaces collapsed, en and em dashes read as
//! `-` (the paper's group names use `–`) and typographic apostrophes as `'`.

use crate::index::{ClassId, ClassTable};
use crate::taxonomy::{self, Version};

/// What a hit names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Target {
    /// A class of the [`ClassTable`].
    Class(ClassId),
    /// A group: index into [`taxonomy::groups`].
    Group(usize),
}

/// How a name matched, best first; hits are ranked by this, then by [`Hit::score`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum MatchKind {
    /// The whole name.
    Exact,
    /// The name starts with the query.
    Prefix,
    /// Every query word starts a different word of the name (`play gui` → `playing guitar`).
    WordPrefix,
    /// The query occurs inside the name.
    Substring,
    /// Every query word is within a small edit distance of the start of a word of the name
    /// (`jugling` → `juggling balls`): 1 edit for words of 4 to 7 letters, 2 for longer ones.
    Fuzzy,
    /// The query's letters occur in order in the name (`plgtr` → `playing guitar`).
    Subsequence,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Hit {
    /// The class or group.
    pub target: Target,
    /// Its name.
    pub name: String,
    /// How it matched.
    pub kind: MatchKind,
    /// Within a [`MatchKind`], lower is better (length difference, position, edits or gaps).
    pub score: u32,
}

/// What [`search()`] looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchOptions {
    /// Only classes of this version (groups are always Kinetics-400 groupings).
    pub version: Option<Version>,
    /// Search class names.
    pub classes: bool,
    /// Search group names.
    pub groups: bool,
    /// Return at most this many hits.
    pub limit: Option<usize>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            version: None,
            classes: true,
            groups: true,
            limit: None,
        }
    }
}

/// Searches class and group names for `query`; best hits first (see [`MatchKind`]), ties by name.
/// An empty query matches nothing.
pub fn search(table: &ClassTable, query: &str, options: &SearchOptions) -> Vec<Hit> {
    let query = Normalized::new(query);
    if query.text.is_empty() {
        return Vec::new();
    }
    let mut hits = Vec::new();
    if options.classes {
        for (id, name) in table.iter() {
            if options
                .version
                .is_some_and(|version| !table.in_version(id, version))
            {
                continue;
            }
            if let Some((kind, score)) = query.matches(name) {
                hits.push(hit(Target::Class(id), name, kind, score));
            }
        }
    }
    if options.groups {
        for (index, group) in taxonomy::groups().iter().enumerate() {
            if let Some((kind, score)) = query.matches(group.name) {
                hits.push(hit(Target::Group(index), group.name, kind, score));
            }
        }
    }
    hits.sort_by(|a, b| {
        (a.kind, a.score, &a.name, a.target).cmp(&(b.kind, b.score, &b.name, b.target))
    });
    if let Some(limit) = options.limit {
        hits.truncate(limit);
    }
    hits
}

fn hit(target: Target, name: &str, kind: MatchKind, score: usize) -> Hit {
    Hit {
        target,
        name: name.to_owned(),
        kind,
        score: u32::try_from(score).unwrap_or(u32::MAX),
    }
}

/// Lower-cased text with normalized dashes, apostrophes and spaces, and its words.
struct Normalized {
    text: String,
    words: Vec<String>,
}

impl Normalized {
    fn new(text: &str) -> Self {
        let mut normal = String::with_capacity(text.len());
        for c in text.chars() {
            let c = match c {
                '–' | '—' | '‐' | '‑' => '-',
                '’' | '‘' | '`' => '\'',
                c if c.is_whitespace() => ' ',
                c => c,
            };
            if c == ' ' && (normal.is_empty() || normal.ends_with(' ')) {
                continue;
            }
            normal.extend(c.to_lowercase());
        }
        while normal.ends_with(' ') {
            normal.pop();
        }
        let words = normal
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .map(str::to_owned)
            .collect();
        Normalized {
            text: normal,
            words,
        }
    }

    /// How this query matches `name`, with a score (lower is better), or `None`.
    fn matches(&self, name: &str) -> Option<(MatchKind, usize)> {
        let name = Normalized::new(name);
        let (query, text) = (self.text.as_str(), name.text.as_str());
        if text == query {
            return Some((MatchKind::Exact, 0));
        }
        if text.starts_with(query) {
            return Some((MatchKind::Prefix, text.len() - query.len()));
        }
        if !self.words.is_empty()
            && assign(&self.words, &name.words, |q, w| {
                w.starts_with(q).then_some(0)
            })
            .is_some()
        {
            return Some((MatchKind::WordPrefix, text.len()));
        }
        if let Some(at) = text.find(query) {
            return Some((MatchKind::Substring, at));
        }
        if !self.words.is_empty() {
            if let Some(edits) = assign(&self.words, &name.words, fuzzy_prefix) {
                return Some((MatchKind::Fuzzy, edits * 100 + text.len()));
            }
        }
        subsequence_gaps(query, text).map(|gaps| (MatchKind::Subsequence, gaps))
    }
}

/// Matches each query word to a different name word (greedily, in query order); returns the summed
/// cost, or `None` if some query word matches no free name word.
fn assign(
    query: &[String],
    words: &[String],
    cost: impl Fn(&str, &str) -> Option<usize>,
) -> Option<usize> {
    let mut used = vec![false; words.len()];
    let mut total = 0;
    for q in query {
        let (best, best_cost) = words
            .iter()
            .enumerate()
            .filter(|(i, _)| !used[*i])
            .filter_map(|(i, w)| cost(q, w).map(|c| (i, c)))
            .min_by_key(|&(i, c)| (c, i))?;
        used[best] = true;
        total += best_cost;
    }
    Some(total)
}

/// Edits allowed for a query word of `len` characters.
fn allowed_edits(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Fewest edits turning `query` into a prefix of `word` (within [`allowed_edits`]), if few enough.
fn fuzzy_prefix(query: &str, word: &str) -> Option<usize> {
    let q: Vec<char> = query.chars().collect();
    let w: Vec<char> = word.chars().collect();
    let allowed = allowed_edits(q.len());
    if allowed == 0 {
        return None;
    }
    let shortest = q.len().saturating_sub(allowed).max(1);
    let longest = (q.len() + allowed).min(w.len());
    (shortest..=longest)
        .map(|len| edit_distance(&q, &w[..len]))
        .min()
        .filter(|&edits| edits <= allowed)
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let width = b.len() + 1;
    let mut rows = vec![0_usize; (a.len() + 1) * width];
    for (j, cell) in rows.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[i * width] = i;
        for j in 1..=b.len() {
            let substitution = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[(i - 1) * width + j] + 1)
                .min(rows[i * width + j - 1] + 1)
                .min(rows[(i - 1) * width + j - 1] + substitution);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[(i - 2) * width + j - 2] + 1);
            }
            rows[i * width + j] = best;
        }
    }
    rows[a.len() * width + b.len()]
}

/// If the non-space characters of `query` (at least 3) occur in order in `text`: the number of
/// characters skipped between the first and last matched one (leftmost match).
fn subsequence_gaps(query: &str, text: &str) -> Option<usize> {
    let wanted: Vec<char> = query.chars().filter(|c| *c != ' ').collect();
    if wanted.len() < 3 {
        return None;
    }
    let mut next = 0;
    let (mut first, mut last) = (None, 0);
    for (position, c) in text.chars().enumerate() {
        if next < wanted.len() && c == wanted[next] {
            first.get_or_insert(position);
            last = position;
            next += 1;
        }
    }
    let first = first?;
    (next == wanted.len()).then(|| last - first + 1 - wanted.len())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn names(hits: &[Hit]) -> Vec<&str> {
        hits.iter().map(|hit| hit.name.as_str()).collect()
    }

    fn find(query: &str) -> Vec<Hit> {
        search(&ClassTable::new(), query, &SearchOptions::default())
    }

    #[test]
    fn prefix_matches_rank_first_shortest_first() {
        let hits = find("Playing G");
        let top: Vec<_> = names(&hits).into_iter().take(3).collect();
        assert_eq!(top, ["playing gong", "playing games", "playing guitar"]);
        assert!(hits[..3].iter().all(|h| h.kind == MatchKind::Prefix));
        assert_eq!(
            hits[1].target,
            Target::Group(30),
            "the group \"playing games\""
        );
    }

    #[test]
    fn exact_then_prefix_then_word_prefix_then_substring() {
        let hits = find("skiing");
        assert_eq!(hits[0].kind, MatchKind::Prefix);
        let kinds: Vec<MatchKind> = hits.iter().map(|h| h.kind).collect();
        let mut sorted = kinds.clone();
        sorted.sort();
        assert_eq!(kinds, sorted);
        assert!(names(&hits).contains(&"water skiing"));

        let hits = find("YOGA");
        assert_eq!(
            (hits[0].name.as_str(), hits[0].kind),
            ("yoga", MatchKind::Exact)
        );
    }

    #[test]
    fn no_near_misses_when_the_word_is_right() {
        let hits = find("hugging");
        assert_eq!(
            names(&hits),
            ["hugging", "hugging baby", "hugging (not baby)"]
        );
    }

    #[test]
    fn word_prefixes_in_any_order() {
        let hits = find("gui play");
        assert!(names(&hits).contains(&"playing guitar"));
        assert_eq!(hits[0].kind, MatchKind::WordPrefix);
    }

    #[test]
    fn fuzzy_finds_typos() {
        let hits = find("jugling");
        assert_eq!(hits[0].kind, MatchKind::Fuzzy);
        assert!(names(&hits).contains(&"juggling balls"));
        assert!(
            names(&hits[..4]).contains(&"juggling"),
            "the group too: {:?}",
            names(&hits)
        );
        let hits = find("dying hiar");
        assert_eq!(hits[0].name, "dying hair");
    }

    #[test]
    fn groups_with_en_dash_match_ascii_hyphen() {
        let hits = find("athletics - jumping");
        assert_eq!(hits[0].name, "athletics – jumping");
        assert_eq!(hits[0].target, Target::Group(1));
        assert_eq!(hits[0].kind, MatchKind::Exact);
    }

    #[test]
    fn apostrophes_are_normalized() {
        let hits = find("massaging person’s");
        assert_eq!(hits[0].name, "massaging person's head");
    }

    #[test]
    fn version_filter() {
        let table = ClassTable::new();
        let k400 = SearchOptions {
            version: Some(Version::K400),
            groups: false,
            ..Default::default()
        };
        let k600 = SearchOptions {
            version: Some(Version::K600),
            ..k400.clone()
        };
        assert_eq!(names(&search(&table, "dying hair", &k400))[0], "dying hair");
        let hits = search(&table, "dyeing", &k600);
        assert_eq!(
            names(&hits),
            ["dyeing hair", "dyeing eyebrows", "tie dying"]
        );
        assert_eq!(hits[2].kind, MatchKind::Fuzzy);
        assert!(search(&table, "dyeing", &k400)
            .iter()
            .all(|h| h.kind > MatchKind::Substring));
    }

    #[test]
    fn subsequence_is_last() {
        let hits = find("plgtr");
        assert!(hits.iter().all(|h| h.kind == MatchKind::Subsequence));
        assert!(names(&hits).contains(&"playing guitar"));
        assert!(find("").is_empty());
        assert!(find("   ").is_empty());
        assert!(find("zzzzqqq").is_empty());
    }

    #[test]
    fn limit() {
        let options = SearchOptions {
            limit: Some(3),
            ..Default::default()
        };
        assert_eq!(search(&ClassTable::new(), "playing", &options).len(), 3);
    }

    #[test]
    fn edit_distance_basics() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(edit_distance(&chars("kitten"), &chars("sitting")), 3);
        assert_eq!(edit_distance(&chars("hiar"), &chars("hair")), 1);
        assert_eq!(edit_distance(&chars(""), &chars("abc")), 3);
        assert_eq!(fuzzy_prefix("jugling", "juggling"), Some(1));
        assert_eq!(
            fuzzy_prefix("abc", "abd"),
            None,
            "short words must match exactly"
        );
    }
}
