//! The app's internal addresses, each built in one place: a class's explorer page ([`class_path`], and
//! with a version [`class_page`] or the explorer's query [`class_href`]), a group's page, the side-by-side
//! comparison of two classes and the verification task on a list of classes. Pure functions, unit-tested
//! natively.

use kinetics::Version;

use crate::explorer::query::{encode, Query, View};

/// `/classes/NAME`: the explorer page of the class `name` (escaped), with no query. Every link to a class
/// page is built here.
pub fn class_path(name: &str) -> String {
    format!("/classes/{}", encode(name))
}

/// `/classes/NAME?v=400` (or `600`): the class `name` of `version`.
pub fn class_page(name: &str, version: Version) -> String {
    format!("{}?v={}", class_path(name), version.number())
}

/// `/classes/NAME` with the version and split of `query`.
pub fn class_href(name: &str, query: &Query) -> String {
    query.carried().href(&class_path(name))
}

/// `/groups/NAME` with the version and split of `query`.
pub fn group_href(name: &str, query: &Query) -> String {
    query.carried().href(&format!("/groups/{}", encode(name)))
}

/// `/compare?a=&b=&v=`: classes `a` and `b` side by side in `view`.
pub fn compare_href(a: &str, b: &str, view: View) -> String {
    format!(
        "/compare?a={}&b={}&v={}",
        encode(a),
        encode(b),
        view.param()
    )
}

/// `/verify?classes=A|B&v=`: the verification task on the classes `a` and `b` of `view` (not checked here).
pub fn verify_href(a: &str, b: &str, view: View) -> String {
    format!(
        "/verify?classes={}&v={}",
        encode(&format!("{a}|{b}")),
        view.param()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use kinetics::Split;

    use crate::explorer::query::Sort;

    #[test]
    fn class_links_escape_names_and_carry_version_and_split() {
        let query = Query {
            q: "x".into(),
            view: View::K600,
            split: Some(Split::Val),
            page: 4,
            sort: Sort::Fewest,
        };
        assert_eq!(
            class_href("massaging person's head", &query),
            "/classes/massaging%20person%27s%20head?v=600&split=val"
        );
        assert_eq!(
            group_href("athletics – jumping", &Query::default()),
            "/groups/athletics%20%E2%80%93%20jumping"
        );
        assert_eq!(
            class_href("hugging (not baby)", &Query::default()),
            "/classes/hugging%20%28not%20baby%29"
        );
    }

    #[test]
    fn class_pages_of_a_version_and_pairs() {
        assert_eq!(
            class_page("eating burger", Version::K400),
            "/classes/eating%20burger?v=400"
        );
        assert_eq!(class_page("x", Version::K600), "/classes/x?v=600");
        assert_eq!(
            verify_href("long jump", "triple jump", View::K400),
            "/verify?classes=long%20jump%7Ctriple%20jump&v=400"
        );
    }
}
