//! `/classes?q=&v=&split=&sort=&page=`: every class of a dataset version with its clip counts, filtered by
//! a prefix-then-fuzzy search over class and group names.

use kinetics::{search, ClassId, SearchOptions, Split, Target};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use crate::explorer::{
    filter, group_chips, split_columns, thousands, total_of, use_data, use_explorer_query,
    view_classes, DataPanel, ExplorerNav, Pager, Query, Sort, View,
};
use crate::links::{class_href, group_href};

/// Classes shown per page.
const PER_PAGE: usize = 100;

/// One row of the class table.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    id: ClassId,
    name: String,
    counts: [u32; 3],
    paper: Option<u32>,
    note: Option<String>,
}

/// The class list for the current query.
#[derive(Debug, Clone, PartialEq, Default)]
struct Listing {
    rows: Vec<Row>,
    /// Groups whose name matches the search (indices into `taxonomy::groups()`).
    groups: Vec<usize>,
    /// Split columns to show.
    columns: Vec<Split>,
    /// Unlabelled clips (test files) in view.
    unlabelled: u64,
}

/// The class list page.
#[component]
pub fn Classes() -> impl IntoView {
    let data = use_data();
    let query = use_explorer_query();
    let navigate = use_navigate();

    let listing = Memo::new(move |_| {
        let q = query.get();
        data.index.with(|index| listing(index, &q))
    });

    let go = move |next: Query| {
        navigate(
            &next.href("/classes"),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };
    let on_search = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            let mut next = query.get_untracked();
            next.q = event_target_value(&ev);
            next.page = 0;
            go(next);
        }
    };
    let on_split = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            let mut next = query.get_untracked();
            next.split = Split::parse(&event_target_value(&ev));
            next.page = 0;
            go(next);
        }
    };
    let on_sort = move |ev: leptos::ev::Event| {
        let mut next = query.get_untracked();
        next.sort = Sort::parse(Some(event_target_value(&ev).as_str()));
        next.page = 0;
        go(next);
    };

    let total = Signal::derive(move || listing.with(|l| l.rows.len()));
    let page = move || {
        query
            .with(|q| q.page)
            .min(crate::explorer::page_count(total.get(), PER_PAGE) - 1)
    };

    view! {
        <section class="page explorer">
            <h1>"Kinetics explorer"</h1>
            <ExplorerNav/>
            <DataPanel/>
            <div class="toolbar">
                <input
                    type="search"
                    class="filter"
                    aria-label="Filter classes and groups"
                    placeholder="Filter classes and groups: prefix or fuzzy (“jugling”, “play gui”)"
                    data-testid="class-filter"
                    prop:value=move || query.with(|q| q.q.clone())
                    on:input=on_search
                />
                <label>
                    "Split "
                    <select on:change=on_split prop:value=move || query.with(|q| q.split.map_or("", |s| s.as_str()))>
                        <option value="">"all"</option>
                        {Split::ALL.map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> })}
                    </select>
                </label>
                <label>
                    "Sort by "
                    <select on:change=on_sort prop:value=move || query.with(|q| q.sort.param())>
                        {Sort::ALL.map(|s| view! { <option value=s.param()>{s.label()}</option> })}
                    </select>
                </label>
            </div>
            {move || {
                let groups = listing.with(|l| l.groups.clone());
                let q = query.get();
                (!groups.is_empty()).then(|| {
                    let chips = groups
                        .into_iter()
                        .filter_map(|g| kinetics::taxonomy::groups().get(g))
                        .map(|group| {
                            let href = group_href(group.name, &q);
                            view! { <a class="chip group-hit" href=href>{group.name}</a> }
                        })
                        .collect_view();
                    view! { <p class="group-hits">"Groups: " {chips}</p> }
                })
            }}
            <p class="muted count-line" data-testid="class-count">
                {move || {
                    let (total, page) = (total.get(), page());
                    let unlabelled = listing.with(|l| l.unlabelled);
                    let mut text = if total == 0 {
                        "No class matches.".to_owned()
                    } else {
                        let first = page * PER_PAGE + 1;
                        let last = ((page + 1) * PER_PAGE).min(total);
                        format!("Classes {first}–{last} of {total}.")
                    };
                    if unlabelled > 0 {
                        text.push_str(&format!(
                            " {} unlabelled clips (test split) are not counted per class.",
                            thousands(unlabelled)
                        ));
                    }
                    text
                }}
            </p>
            <ClassTable listing page=Signal::derive(page)/>
            <Pager total per_page=PER_PAGE path="/classes".to_owned()/>
        </section>
    }
}

#[component]
fn ClassTable(listing: Memo<Listing>, page: Signal<usize>) -> impl IntoView {
    let data = use_data();
    let query = use_explorer_query();
    move || {
        let q = query.get();
        let listing = listing.get();
        let page = page.get();
        let columns = listing.columns.clone();
        let show_paper = q.view != View::K600;
        let heads = columns
            .iter()
            .map(|s| view! { <th class="num" scope="col">{s.as_str()}</th> })
            .collect_view();
        let rows = data.index.with_untracked(|index| {
            listing
                .rows
                .iter()
                .skip(page * PER_PAGE)
                .take(PER_PAGE)
                .map(|row| {
                    let href = class_href(&row.name, &q);
                    let cells = columns
                        .iter()
                        .map(|s| view! { <td class="num">{thousands(u64::from(row.counts[s.index()]))}</td> })
                        .collect_view();
                    let paper = show_paper.then(|| {
                        let text = row.paper.map_or_else(|| "—".to_owned(), |p| thousands(u64::from(p)));
                        view! { <td class="num paper">{text}</td> }
                    });
                    view! {
                        <tr data-testid="class-row">
                            <td class="name"><a href=href>{row.name.clone()}</a></td>
                            <td class="groups">{group_chips(index, row.id, &q)}</td>
                            {cells}
                            {paper}
                            <td class="note">{row.note.clone()}</td>
                        </tr>
                    }
                })
                .collect_view()
        });
        view! {
            <table class="classes" data-testid="classes">
                <thead>
                    <tr>
                        <th scope="col">"Class"</th>
                        <th scope="col">"Groups"</th>
                        {heads}
                        {show_paper.then(|| view! { <th class="num" scope="col" title="Clips per class in the Kinetics-400 paper, all splits">"Paper"</th> })}
                        <th scope="col">"Kinetics-400 → 600"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
    }
}

/// The rows for a query: the view's classes (or the search hits, best first), counted and sorted.
fn listing(index: &kinetics::Index, q: &Query) -> Listing {
    let table = index.classes();
    let counts = index.counts(&filter(q.view, q.split));
    let columns = split_columns(&counts, q.split);
    let (ids, groups) = if q.q.trim().is_empty() {
        (view_classes(table, q.view), Vec::new())
    } else {
        let options = SearchOptions {
            version: q.view.version(),
            ..SearchOptions::default()
        };
        let mut ids = Vec::new();
        let mut groups = Vec::new();
        for hit in search(table, &q.q, &options) {
            match hit.target {
                Target::Class(id) => ids.push(id),
                Target::Group(g) => groups.push(g),
            }
        }
        (ids, groups)
    };
    let mut rows: Vec<Row> = ids
        .into_iter()
        .filter_map(|id| {
            let name = table.name(id)?.to_owned();
            Some(Row {
                id,
                counts: counts.class(id),
                paper: table.paper_clips(id),
                note: crate::explorer::change_note(table, id, q.view),
                name,
            })
        })
        .collect();
    let total = |row: &Row| total_of(row.counts, &columns);
    match q.sort {
        Sort::Name if q.view == View::All && q.q.trim().is_empty() => {
            rows.sort_by(|a, b| a.name.cmp(&b.name));
        }
        Sort::Name => {}
        Sort::Most => {
            rows.sort_by(|a, b| total(b).cmp(&total(a)).then_with(|| a.name.cmp(&b.name)))
        }
        Sort::Fewest => {
            rows.sort_by(|a, b| total(a).cmp(&total(b)).then_with(|| a.name.cmp(&b.name)))
        }
    }
    let unlabelled = counts.unlabelled.iter().map(|&c| u64::from(c)).sum();
    Listing {
        rows,
        groups,
        columns,
        unlabelled,
    }
}
