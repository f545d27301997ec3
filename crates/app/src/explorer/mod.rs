//! Pieces shared by the explorer pages (`/classes`, `/classes/:label`, `/groups`, `/groups/:name`, `/stats`):
//! the shared [`Data`], the URL [`Query`], the explorer's navigation bar with the version switch, the data
//! panel where annotation files are loaded, and small widgets (pager, group chips, count cells).

pub mod clips;
pub mod data;
pub mod load;
pub mod query;

use kinetics::{ClassId, ClassTable, Counts, Filter, Index, Split};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};

pub use data::{thousands, use_data, Data};
pub use load::DataPanel;
pub use query::{page_count, Query, Sort, View};

/// Fetches the bundled annotation assets of the view a page shows, once the manifest is there (the
/// explorer's pages do it through [`ExplorerNav`]; the classroom pages call it themselves).
pub fn want_bundles(view: impl Fn() -> View + 'static) {
    let data = use_data();
    Effect::new(move || {
        let view = view();
        if data.manifest.get().is_some() {
            data.want(view);
        }
    });
}

/// The current URL query, as a reactive [`Query`].
pub fn use_explorer_query() -> Memo<Query> {
    let map = use_query_map();
    Memo::new(move |_| map.with(Query::from_map))
}

/// The index filter for a view and split.
pub fn filter(view: View, split: Option<Split>) -> Filter {
    Filter {
        split,
        version: view.version(),
        ..Filter::default()
    }
}

/// The classes of a view, in label order (for [`View::All`]: every class the index knows).
pub fn view_classes(table: &ClassTable, view: View) -> Vec<ClassId> {
    match view.version() {
        Some(version) => (0..version.num_classes())
            .filter_map(|label| table.by_label_index(version, label))
            .collect(),
        None => table.iter().map(|(id, _)| id).collect(),
    }
}

/// The splits worth a column: the one asked for, else those with labelled clips.
pub fn split_columns(counts: &Counts, split: Option<Split>) -> Vec<Split> {
    if let Some(split) = split {
        return vec![split];
    }
    Split::ALL
        .into_iter()
        .filter(|s| counts.per_class.iter().any(|c| c[s.index()] > 0))
        .collect()
}

/// Total clips of a class over `splits`.
pub fn total_of(counts: [u32; 3], splits: &[Split]) -> u64 {
    splits.iter().map(|s| u64::from(counts[s.index()])).sum()
}

/// What changed for a class between Kinetics-400 and Kinetics-600, as seen from the view
/// (`renamed “dyeing hair” in 600`, `new in 600`, `was “hugging” in 400`).
pub fn change_note(table: &ClassTable, id: ClassId, view: View) -> Option<String> {
    use kinetics::taxonomy::{k400_predecessor, k600_change};
    use kinetics::{Change, Version};
    let name = table.name(id)?;
    let in_400 = table.in_version(id, Version::K400);
    let in_600 = table.in_version(id, Version::K600);
    if in_400 && view != View::K600 {
        return k600_change(name).map(|change| match change {
            Change::Renamed { to, .. } => format!("renamed “{to}” in 600"),
            Change::Split { into, .. } => format!("split into “{}” in 600", into.join("”, “")),
            Change::Removed { .. } => "not in 600".to_owned(),
        });
    }
    if in_600 {
        return Some(match k400_predecessor(name) {
            Some(old) if old == name => return None,
            Some(old) => format!("was “{old}” in 400"),
            None => "new in 600".to_owned(),
        });
    }
    (!in_400).then(|| "not a Kinetics-400/600 class".to_owned())
}

/// The explorer's sub-navigation: page tabs, the version switch and a line saying what is loaded. It also
/// starts fetching the bundled assets of the version in view.
#[component]
pub fn ExplorerNav() -> impl IntoView {
    let query = use_explorer_query();
    let location = use_location();
    want_bundles(move || query.with(|q| q.view));
    let tab = move |path: &'static str, label: &'static str| {
        let href = move || query.with(|q| q.carried().href(path));
        let current = move || {
            let here = location.pathname.get();
            (here == path || here.starts_with(&format!("{path}/"))).then_some("page")
        };
        view! { <a href=href aria-current=current>{label}</a> }
    };
    let switch = move |view: View| {
        let href = move || {
            let mut next = query.get();
            next.view = view;
            next.page = 0;
            next.href(&location.pathname.get())
        };
        let current = move || (query.with(|q| q.view) == view).then_some("true");
        view! {
            <a href=href class="version" aria-current=current data-testid=format!("view-{}", view.param())>
                {view.label()}
            </a>
        }
    };
    view! {
        <nav class="explorer-nav" aria-label="Explorer">
            <div class="tabs">
                {tab("/classes", "Classes")}
                {tab("/groups", "Groups")}
                {tab("/stats", "Statistics")}
            </div>
            <div class="versions" role="group" aria-label="Dataset version">
                {View::ALL.map(switch)}
            </div>
        </nav>
        <DataSummary/>
    }
}

/// One line: how many clips of the version in view are loaded, and whether more are coming.
#[component]
fn DataSummary() -> impl IntoView {
    let data = use_data();
    let query = use_explorer_query();
    let text = move || {
        let view = query.with(|q| q.view);
        let stats = data.index.with(|index| index.stats(&filter(view, None)));
        let loading = data.loading(view);
        let mut text = if stats.clips == 0 {
            format!("No {}clips loaded", view_name(view))
        } else {
            let mut splits = Vec::new();
            for (split, count) in [
                ("train", stats.splits.train),
                ("val", stats.splits.val),
                ("test", stats.splits.test),
            ] {
                if count > 0 {
                    splits.push(format!("{} {split}", thousands(count)));
                }
            }
            format!(
                "{} {}clips loaded ({}; {} labelled)",
                thousands(stats.clips),
                view_name(view),
                splits.join(", "),
                thousands(stats.labelled)
            )
        };
        if loading {
            text.push_str(" · loading…");
        }
        text
    };
    view! { <p class="data-summary" data-testid="data-summary">{text}</p> }
}

/// `Kinetics-400 ` (with the space), or nothing for every version.
fn view_name(view: View) -> &'static str {
    match view {
        View::K400 => "Kinetics-400 ",
        View::K600 => "Kinetics-600 ",
        View::All => "",
    }
}

/// Previous / next links for a paged list; `page` is 0-based.
#[component]
pub fn Pager(
    /// Items in the list.
    #[prop(into)]
    total: Signal<usize>,
    /// Items per page.
    per_page: usize,
    /// The page's path (the query is the current one with another page).
    #[prop(into)]
    path: Signal<String>,
) -> impl IntoView {
    let query = use_explorer_query();
    let pages = move || page_count(total.get(), per_page);
    let page = move || query.with(|q| q.page).min(pages() - 1);
    let link = move |target: usize, label: &'static str, rel: &'static str| {
        let href = move || query.with(|q| q.with_page(target).href(&path.get()));
        view! { <a href=href rel=rel>{label}</a> }
    };
    move || {
        let (page, pages) = (page(), pages());
        (pages > 1).then(|| {
            view! {
                <nav class="pager" aria-label="Pages">
                    {(page > 0).then(|| link(page - 1, "← Previous", "prev"))}
                    <span data-testid="page-of">{format!("Page {} of {}", page + 1, pages)}</span>
                    {(page + 1 < pages).then(|| link(page + 1, "Next →", "next"))}
                </nav>
            }
        })
    }
}

/// Links to the groups a class is in.
pub fn group_chips(index: &Index, class: ClassId, query: &Query) -> impl IntoView {
    let groups = kinetics::taxonomy::groups();
    index
        .classes()
        .groups(class)
        .into_iter()
        .filter_map(|g| groups.get(g))
        .map(|group| {
            let href = crate::links::group_href(group.name, query);
            view! { <a class="chip" href=href>{group.name}</a> }
        })
        .collect_view()
}
