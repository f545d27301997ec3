//! The explorer's URL state: `?q=&v=600&split=val&page=&sort=` (the links between pages are [`crate::links`]).
//!
//! Pure functions (no browser), so they are unit-tested natively.

use kinetics::{Split, Version};
use leptos_router::params::ParamsMap;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Characters escaped in a path segment or query value: everything but `A-Z a-z 0-9 - _ . ~`
/// (what `encodeURIComponent` leaves alone, minus `! ' ( ) *`, which are escaped too).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes text for a path segment or a query value (`playing cricket` → `playing%20cricket`).
pub fn encode(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// Which dataset version's classes and clips the explorer shows (`v=400`, `v=600`, `v=all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum View {
    /// Kinetics-400: its 400 classes, clips of Kinetics-400 files.
    #[default]
    K400,
    /// Kinetics-600: its 600 classes, clips of Kinetics-600 files.
    K600,
    /// Every class and every loaded clip, whatever its version (e.g. Kinetics-700 files).
    All,
}

impl View {
    /// The three views, in the order of the switch.
    pub const ALL: [View; 3] = [View::K400, View::K600, View::All];

    /// Reads `400`, `600` or `all` (anything else is the default, `400`).
    pub fn parse(text: Option<&str>) -> View {
        match text.map(str::trim) {
            Some("all") => View::All,
            Some(other) => match Version::parse(other) {
                Some(Version::K600) => View::K600,
                _ => View::K400,
            },
            None => View::K400,
        }
    }

    /// The `v=` value.
    pub fn param(self) -> &'static str {
        match self {
            View::K400 => "400",
            View::K600 => "600",
            View::All => "all",
        }
    }

    /// A short label for the switch.
    pub fn label(self) -> &'static str {
        match self {
            View::K400 => "Kinetics-400",
            View::K600 => "Kinetics-600",
            View::All => "All loaded",
        }
    }

    /// The dataset version, `None` for [`View::All`].
    pub fn version(self) -> Option<Version> {
        match self {
            View::K400 => Some(Version::K400),
            View::K600 => Some(Version::K600),
            View::All => None,
        }
    }

    /// Whether a manifest dataset (`400`, `600`, `700_2020`) belongs to this view.
    pub fn includes_dataset(self, dataset: &str) -> bool {
        match self {
            View::K400 => dataset == "400",
            View::K600 => dataset == "600",
            View::All => true,
        }
    }
}

/// Order of the class list (`sort=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Sort {
    /// By name (label order); with a search query, by relevance.
    #[default]
    Name,
    /// Most clips first.
    Most,
    /// Fewest clips first.
    Fewest,
}

impl Sort {
    /// All orders, as offered in the select box.
    pub const ALL: [Sort; 3] = [Sort::Name, Sort::Most, Sort::Fewest];

    /// Reads `name`, `most` or `fewest`.
    pub fn parse(text: Option<&str>) -> Sort {
        match text {
            Some("most") => Sort::Most,
            Some("fewest") => Sort::Fewest,
            _ => Sort::Name,
        }
    }

    /// The `sort=` value.
    pub fn param(self) -> &'static str {
        match self {
            Sort::Name => "name",
            Sort::Most => "most",
            Sort::Fewest => "fewest",
        }
    }

    /// The select box's text.
    pub fn label(self) -> &'static str {
        match self {
            Sort::Name => "name / relevance",
            Sort::Most => "most clips",
            Sort::Fewest => "fewest clips",
        }
    }
}

/// Reads `train`, `val` or `test` for `split=` (anything else: all splits).
pub fn parse_split(text: Option<&str>) -> Option<Split> {
    text.and_then(Split::parse)
}

/// Everything the explorer keeps in the query string.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct Query {
    /// Search text (`q=`).
    pub q: String,
    /// Dataset version (`v=`).
    pub view: View,
    /// Only this split (`split=`).
    pub split: Option<Split>,
    /// 0-based page (`page=` is 1-based in the URL).
    pub page: usize,
    /// Class list order (`sort=`).
    pub sort: Sort,
}

impl Query {
    /// Reads the query string's parameters; missing or malformed values take their defaults.
    pub fn from_map(map: &ParamsMap) -> Query {
        Query::from_params(|key| map.get_str(key))
    }

    /// Reads parameters (decoded values by key); missing or malformed values take their defaults.
    pub fn from_params<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Query {
        Query {
            q: get("q").unwrap_or_default().to_owned(),
            view: View::parse(get("v")),
            split: parse_split(get("split")),
            page: get("page")
                .and_then(|p| p.trim().parse::<usize>().ok())
                .map_or(0, |p| p.saturating_sub(1)),
            sort: Sort::parse(get("sort")),
        }
    }

    /// `?q=…&v=…` with only the non-default values, or the empty string.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        if !self.q.is_empty() {
            parts.push(format!("q={}", encode(&self.q)));
        }
        if self.view != View::default() {
            parts.push(format!("v={}", self.view.param()));
        }
        if let Some(split) = self.split {
            parts.push(format!("split={split}"));
        }
        if self.page > 0 {
            parts.push(format!("page={}", self.page + 1));
        }
        if self.sort != Sort::default() {
            parts.push(format!("sort={}", self.sort.param()));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    /// `path` followed by this query.
    pub fn href(&self, path: &str) -> String {
        format!("{path}{}", self.to_query_string())
    }

    /// The version and split only: what links to other explorer pages carry along.
    pub fn carried(&self) -> Query {
        Query {
            view: self.view,
            split: self.split,
            ..Query::default()
        }
    }

    /// This query on another page.
    pub fn with_page(&self, page: usize) -> Query {
        Query {
            page,
            ..self.clone()
        }
    }
}

/// The number of pages of `per_page` items that `total` items fill (at least 1).
pub fn page_count(total: usize, per_page: usize) -> usize {
    total.div_ceil(per_page.max(1)).max(1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// `Query::from_params` over pairs (a `ParamsMap` decodes with `js_sys`, which only runs in a browser).
    fn read(pairs: &[(&'static str, &'static str)]) -> Query {
        Query::from_params(|key| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v))
    }

    #[test]
    fn defaults_round_trip_to_nothing() {
        let query = read(&[]);
        assert_eq!(query, Query::default());
        assert_eq!(query.to_query_string(), "");
    }

    #[test]
    fn every_parameter_round_trips() {
        let query = Query {
            q: "playing cricket & co".into(),
            view: View::K600,
            split: Some(Split::Val),
            page: 2,
            sort: Sort::Most,
        };
        let text = query.to_query_string();
        assert_eq!(
            text,
            "?q=playing%20cricket%20%26%20co&v=600&split=val&page=3&sort=most"
        );
        let read = read(&[
            ("q", "playing cricket & co"),
            ("v", "600"),
            ("split", "val"),
            ("page", "3"),
            ("sort", "most"),
        ]);
        assert_eq!(read, query);
    }

    #[test]
    fn malformed_values_fall_back() {
        let query = read(&[("v", "700"), ("split", "nope"), ("page", "x")]);
        assert_eq!(query, Query::default());
        assert_eq!(read(&[("page", "0")]).page, 0, "page=0 is the first page");
        assert_eq!(View::parse(Some("all")), View::All);
        assert_eq!(View::parse(Some("k600")), View::K600);
    }

    #[test]
    fn pages() {
        assert_eq!(page_count(0, 50), 1);
        assert_eq!(page_count(50, 50), 1);
        assert_eq!(page_count(51, 50), 2);
    }
}
