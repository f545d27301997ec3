//! `/groups`: the 38 parent-child groupings of the Kinetics-400 paper (appendix B);
//! `/groups/:name`: one group's classes with their clip counts.

use kinetics::taxonomy::{self, Group};
use kinetics::{ClassId, Split, Version};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::explorer::{
    change_note, filter, split_columns, thousands, total_of, use_data, use_explorer_query,
    DataPanel, ExplorerNav, View,
};
use crate::links::{class_href, group_href};

/// The classes of a group as seen from a view: Kinetics-400 members, their Kinetics-600 successors, or both.
fn members(group: &Group, view: View) -> Vec<&'static str> {
    let mut names = match view.version() {
        Some(version) => group.members_in(version),
        None => {
            let mut all = group.members_in(Version::K400);
            all.extend(group.members_in(Version::K600));
            all
        }
    };
    names.sort_unstable();
    names.dedup();
    names
}

/// The group list.
#[component]
pub fn Groups() -> impl IntoView {
    let data = use_data();
    let query = use_explorer_query();
    let rows = move || {
        let q = query.get();
        data.index.with(|index| {
            let counts = index.counts(&filter(q.view, q.split));
            let columns = split_columns(&counts, q.split);
            taxonomy::groups()
                .iter()
                .map(|group| {
                    let names = members(group, q.view);
                    let clips: u64 = names
                        .iter()
                        .filter_map(|n| index.classes().id(n))
                        .map(|id| total_of(counts.class(id), &columns))
                        .sum();
                    let href = group_href(group.name, &q);
                    view! {
                        <tr data-testid="group-row">
                            <td class="name"><a href=href>{group.name}</a></td>
                            <td class="num">{names.len()}</td>
                            <td class="num">{group.paper_count}</td>
                            <td class="num">{thousands(clips)}</td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <section class="page explorer">
            <h1>"Class groups"</h1>
            <ExplorerNav/>
            <p class="muted">
                "The Kinetics-400 paper groups its classes into 38 parent-child groupings (appendix B); a class can "
                "be in several groups or none. In the Kinetics-600 view a group holds the classes that continue its "
                "Kinetics-400 members."
            </p>
            <table class="groups-table">
                <thead>
                    <tr>
                        <th scope="col">"Group"</th>
                        <th class="num" scope="col">"Classes"</th>
                        <th class="num" scope="col" title="The number printed after the group's name in the paper">"Paper"</th>
                        <th class="num" scope="col">"Clips loaded"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

/// One group's page.
#[component]
pub fn GroupPage() -> impl IntoView {
    let data = use_data();
    let query = use_explorer_query();
    let params = use_params_map();
    let name = Memo::new(move |_| params.with(|p| p.get("name").unwrap_or_default()));
    let body = move || {
        let q = query.get();
        let Some(group) = taxonomy::group(&name.get()) else {
            return view! {
                <p class="prompt" data-testid="unknown-group">
                    "No group has this name. See the " <a href="/groups">"list of groups"</a> "."
                </p>
            }
            .into_any();
        };
        data.index.with(|index| {
            let table = index.classes();
            let counts = index.counts(&filter(q.view, q.split));
            let columns = split_columns(&counts, q.split);
            let ids: Vec<ClassId> = members(group, q.view)
                .into_iter()
                .filter_map(|n| table.id(n))
                .collect();
            let clips: u64 = ids.iter().map(|&id| total_of(counts.class(id), &columns)).sum();
            let heads = columns
                .iter()
                .map(|s: &Split| view! { <th class="num" scope="col">{s.as_str()}</th> })
                .collect_view();
            let rows = ids
                .iter()
                .filter_map(|&id| {
                    let name = table.name(id)?.to_owned();
                    let cells = columns
                        .iter()
                        .map(|s| view! { <td class="num">{thousands(u64::from(counts.class(id)[s.index()]))}</td> })
                        .collect_view();
                    let paper = table
                        .paper_clips(id)
                        .map_or_else(|| "—".to_owned(), |p| thousands(u64::from(p)));
                    let href = class_href(&name, &q);
                    Some(view! {
                        <tr data-testid="class-row">
                            <td class="name"><a href=href>{name}</a></td>
                            {cells}
                            <td class="num paper">{paper}</td>
                            <td class="note">{change_note(table, id, q.view)}</td>
                        </tr>
                    })
                })
                .collect_view();
            view! {
                <p class="muted" data-testid="group-summary">
                    {format!(
                        "{} classes in this view ({} listed in the paper); {} clips loaded.",
                        ids.len(),
                        group.paper_count,
                        thousands(clips)
                    )}
                </p>
                <table class="classes">
                    <thead>
                        <tr>
                            <th scope="col">"Class"</th>
                            {heads}
                            <th class="num" scope="col">"Paper"</th>
                            <th scope="col">"Kinetics-400 → 600"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            }
            .into_any()
        })
    };
    view! {
        <section class="page explorer">
            <p class="crumbs"><a href=move || query.with(|q| q.carried().href("/groups"))>"← All groups"</a></p>
            <h1>{name}</h1>
            <ExplorerNav/>
            {body}
            <DataPanel/>
        </section>
    }
}
