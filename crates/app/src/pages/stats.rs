//! `/stats?v=&split=`: split sizes, clips per class (one bar per class, a click opens the class) and the
//! distribution of clips per class, drawn as SVG by the app.

use kinetics::Split;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use crate::explorer::{
    filter, thousands, use_data, use_explorer_query, view_classes, DataPanel, ExplorerNav, Query,
    View,
};
use crate::links::class_href;

/// Width of the charts' coordinate system (they scale to the page width).
const WIDTH: f64 = 1000.0;

/// Clips per class, and where the numbers come from.
#[derive(Debug, Clone, PartialEq)]
struct PerClass {
    /// `(class name, clips)`, most clips first.
    bars: Vec<(String, u64)>,
    /// True when no labelled clips are loaded and the counts are the Kinetics-400 paper's.
    from_paper: bool,
}

/// The statistics page.
#[component]
pub fn Stats() -> impl IntoView {
    let data = use_data();
    let query = use_explorer_query();
    let navigate = use_navigate();

    let splits = Memo::new(move |_| {
        let view = query.with(|q| q.view);
        data.index.with(|index| {
            let counts = index.counts(&filter(view, None));
            let labelled: Vec<u64> = Split::ALL
                .iter()
                .map(|s| {
                    counts
                        .per_class
                        .iter()
                        .map(|c| u64::from(c[s.index()]))
                        .sum()
                })
                .collect();
            Split::ALL
                .iter()
                .map(|&s| {
                    (
                        s,
                        labelled[s.index()],
                        u64::from(counts.unlabelled[s.index()]),
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    let per_class = Memo::new(move |_| {
        let q = query.get();
        data.index.with(|index| {
            let table = index.classes();
            let counts = index.counts(&filter(q.view, q.split));
            let from_paper = counts.labelled() == 0 && q.view != View::K600;
            let mut bars: Vec<(String, u64)> = view_classes(table, q.view)
                .into_iter()
                .filter_map(|id| {
                    let name = table.name(id)?.to_owned();
                    let clips = if from_paper {
                        u64::from(table.paper_clips(id)?)
                    } else {
                        counts.class(id).iter().map(|&c| u64::from(c)).sum()
                    };
                    Some((name, clips))
                })
                .filter(|(_, clips)| from_paper || *clips > 0)
                .collect();
            bars.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            PerClass { bars, from_paper }
        })
    });
    let open = move |name: String| {
        let href = query.with_untracked(|q| class_href(&name, q));
        navigate(&href, NavigateOptions::default());
    };
    let on_split = {
        let navigate = use_navigate();
        move |ev: leptos::ev::Event| {
            let mut next: Query = query.get_untracked();
            next.split = Split::parse(&event_target_value(&ev));
            navigate(
                &next.href("/stats"),
                NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..Default::default()
                },
            );
        }
    };

    view! {
        <section class="page explorer stats">
            <h1>"Dataset statistics"</h1>
            <ExplorerNav/>
            <h2>"Split sizes"</h2>
            <SplitChart splits/>
            <div class="toolbar">
                <label>
                    "Clips per class in split "
                    <select on:change=on_split prop:value=move || query.with(|q| q.split.map_or("", |s| s.as_str()))>
                        <option value="">"all"</option>
                        {Split::ALL.map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> })}
                    </select>
                </label>
            </div>
            <h2>"Clips per class"</h2>
            <ClassBars per_class open/>
            <h2>"Distribution of clips per class"</h2>
            <Histogram per_class/>
            <DataPanel/>
        </section>
    }
}

/// Horizontal bars: labelled and unlabelled clips of each split.
#[component]
fn SplitChart(splits: Memo<Vec<(Split, u64, u64)>>) -> impl IntoView {
    move || {
        let splits = splits.get();
        let max = splits
            .iter()
            .map(|(_, l, u)| l + u)
            .max()
            .unwrap_or(0)
            .max(1) as f64;
        let (left, right, row) = (70.0, 220.0, 34.0);
        let height = row * splits.len() as f64 + 10.0;
        let scale = (WIDTH - left - right) / max;
        let rows = splits
            .into_iter()
            .enumerate()
            .map(|(i, (split, labelled, unlabelled))| {
                let y = 5.0 + row * i as f64;
                let (w_l, w_u) = (labelled as f64 * scale, unlabelled as f64 * scale);
                let text = match (labelled, unlabelled) {
                    (0, 0) => "none loaded".to_owned(),
                    (l, 0) => format!("{} labelled", thousands(l)),
                    (0, u) => format!("{} unlabelled", thousands(u)),
                    (l, u) => format!("{} labelled + {} unlabelled", thousands(l), thousands(u)),
                };
                let tip = format!("{split}: {text}");
                view! {
                    <g class="split-bar" data-split=split.as_str()>
                        <title>{tip}</title>
                        <text x=left - 10.0 y=y + row / 2.0 class="axis-label" text-anchor="end" dominant-baseline="middle">{split.as_str()}</text>
                        <rect x=left y=y + 4.0 width=w_l height=row - 8.0 class="labelled"></rect>
                        <rect x=left + w_l y=y + 4.0 width=w_u height=row - 8.0 class="unlabelled"></rect>
                        <text x=left + w_l + w_u + 8.0 y=y + row / 2.0 class="value" dominant-baseline="middle">{text}</text>
                    </g>
                }
            })
            .collect_view();
        view! {
            <svg class="chart split-chart" viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-label="Clips per split" data-testid="split-chart">
                {rows}
            </svg>
            <p class="legend muted"><span class="swatch labelled"></span>" labelled "<span class="swatch unlabelled"></span>" unlabelled (test files have no labels)"</p>
        }
    }
}

/// A chart's horizontal grid lines and their labels (`label` of each tick), for a vertical axis from 0 to
/// `max`, `plot` high below `top`, its labels left of `left`.
fn y_grid(max: f64, left: f64, top: f64, plot: f64, label: fn(u64) -> String) -> impl IntoView {
    axis_ticks(max as u64)
        .into_iter()
        .map(|t| {
            let y = top + plot - t as f64 / max * plot;
            view! {
                <line x1=left x2=WIDTH y1=y y2=y class="grid"></line>
                <text x=left - 6.0 y=y class="axis-label" text-anchor="end" dominant-baseline="middle">{label(t)}</text>
            }
        })
        .collect_view()
}

/// One bar per class, most clips first; a click (or Enter) opens the class.
#[component]
fn ClassBars<F>(per_class: Memo<PerClass>, open: F) -> impl IntoView
where
    F: Fn(String) + Clone + Send + Sync + 'static,
{
    move || {
        let PerClass { bars, from_paper } = per_class.get();
        if bars.is_empty() {
            return view! { <p class="muted">"No labelled clips of this version are loaded."</p> }
                .into_any();
        }
        let (left, top, bottom, height) = (50.0, 10.0, 10.0, 260.0);
        let plot = height - top - bottom;
        let max = bars.first().map_or(1, |b| b.1).max(1) as f64;
        let step = (WIDTH - left) / bars.len() as f64;
        let gap = if step > 3.0 { 1.0 } else { 0.0 };
        let ticks = y_grid(max, left, top, plot, thousands);
        let columns = bars
            .iter()
            .enumerate()
            .map(|(i, (name, clips))| {
                let x = left + step * i as f64;
                let h = *clips as f64 / max * plot;
                let label = format!("{name}: {} clips", thousands(*clips));
                let (open_click, open_key) = (open.clone(), open.clone());
                let (name_click, name_key) = (name.clone(), name.clone());
                let tip = label.clone();
                view! {
                    <g
                        class="class-bar"
                        role="link"
                        tabindex="0"
                        aria-label=label
                        data-testid="class-bar"
                        data-class=name.clone()
                        on:click=move |_| open_click(name_click.clone())
                        on:keydown=move |ev: web_sys::KeyboardEvent| {
                            if ev.key() == "Enter" {
                                open_key(name_key.clone());
                            }
                        }
                    >
                        <title>{tip}</title>
                        <rect class="hit" x=x y=top width=step height=plot></rect>
                        <rect class="bar" x=x y=top + plot - h width=(step - gap).max(0.5) height=h></rect>
                    </g>
                }
            })
            .collect_view();
        let caption = if from_paper {
            format!(
                "{} classes, clip counts from the Kinetics-400 paper (all splits): no labelled clips are loaded.",
                bars.len()
            )
        } else {
            let total: u64 = bars.iter().map(|b| b.1).sum();
            let median = bars[bars.len() / 2].1;
            format!(
                "{} classes with loaded clips, {} clips; most {} ({}), median {}, fewest {} ({}). Click a bar to open the class.",
                bars.len(),
                thousands(total),
                thousands(bars[0].1),
                bars[0].0,
                thousands(median),
                thousands(bars[bars.len() - 1].1),
                bars[bars.len() - 1].0
            )
        };
        view! {
            <svg class="chart class-chart" viewBox=format!("0 0 {WIDTH} {height}") role="group" aria-label="Clips per class" data-testid="class-chart">
                {ticks}
                {columns}
            </svg>
            <p class="muted caption" data-testid="class-chart-caption">{caption}</p>
        }
        .into_any()
    }
}

/// How many classes have how many clips, in bins of a round width.
#[component]
fn Histogram(per_class: Memo<PerClass>) -> impl IntoView {
    move || {
        let PerClass { bars, .. } = per_class.get();
        let max = bars.first().map(|b| b.1)?;
        let min = bars.last().map_or(0, |b| b.1);
        let width = nice_step(((max - min) / 20).max(1));
        let first = min / width * width;
        let bins = ((max - first) / width + 1) as usize;
        let mut counts = vec![0_u64; bins];
        for (_, clips) in &bars {
            counts[((clips - first) / width) as usize] += 1;
        }
        let (left, top, bottom, height) = (50.0, 10.0, 30.0, 220.0);
        let plot = height - top - bottom;
        let tallest = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
        let step = (WIDTH - left) / bins as f64;
        let ticks = y_grid(tallest, left, top, plot, |t| t.to_string());
        let label_every = bins.div_ceil(10).max(1);
        let columns = counts
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let x = left + step * i as f64;
                let h = n as f64 / tallest * plot;
                let low = first + width * i as u64;
                let range = if width == 1 {
                    thousands(low)
                } else {
                    format!("{}–{}", thousands(low), thousands(low + width - 1))
                };
                let tip = format!("{range} clips: {n} classes");
                let axis = (i % label_every == 0).then(|| {
                    view! {
                        <text x=x y=height - 10.0 class="axis-label">{thousands(low)}</text>
                    }
                });
                view! {
                    <g class="bin">
                        <title>{tip}</title>
                        <rect class="bar" x=x + 1.0 y=top + plot - h width=(step - 2.0).max(0.5) height=h></rect>
                        {axis}
                    </g>
                }
            })
            .collect_view();
        Some(view! {
            <svg class="chart histogram" viewBox=format!("0 0 {WIDTH} {height}") role="img"
                aria-label="Number of classes by clips per class" data-testid="histogram">
                {ticks}
                {columns}
            </svg>
            <p class="muted caption">
                {if width == 1 {
                    "Number of classes with each clip count.".to_owned()
                } else {
                    format!("Number of classes per bin of {} clip counts.", thousands(width))
                }}
            </p>
        })
    }
}

/// The smallest of 1, 2, 5 × 10^k that is at least `raw`.
fn nice_step(raw: u64) -> u64 {
    let mut base = 1_u64;
    loop {
        for m in [1, 2, 5] {
            if base * m >= raw {
                return base * m;
            }
        }
        base = base.saturating_mul(10);
    }
}

/// Up to about five round values from 0 to `max` for an axis.
fn axis_ticks(max: u64) -> Vec<u64> {
    let step = nice_step(max.div_ceil(4).max(1));
    (0..=max / step).map(|i| i * step).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_steps_and_ticks() {
        assert_eq!(nice_step(1), 1);
        assert_eq!(nice_step(3), 5);
        assert_eq!(nice_step(7), 10);
        assert_eq!(nice_step(11), 20);
        assert_eq!(nice_step(1_100), 2_000);
        assert_eq!(axis_ticks(50), [0, 20, 40]);
        assert_eq!(axis_ticks(1_000), [0, 500, 1_000]);
        assert_eq!(axis_ticks(1), [0, 1]);
    }
}
