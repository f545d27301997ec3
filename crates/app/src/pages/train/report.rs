//! What a head knows, shown: its accuracy on the examples and under cross-validation, per class, the
//! confusion matrix, and each class's nearest Kinetics classes (links to the explorer).

use leptos::prelude::*;

use super::state::Trainer;
use crate::links::class_page;

/// The report of the head in use.
#[component]
pub fn Report(trainer: Trainer) -> impl IntoView {
    move || {
        trainer.head.get().map(|head| {
            let report = &head.report;
            let took = trainer
                .train_ms
                .get()
                .map(|ms| format!(" Trained in {ms:.0} ms ({} iterations).", report.iterations))
                .unwrap_or_default();
            let summary = format!(
                "{} classes, {} windows. Accuracy on the examples: {:.0}%. {}: {:.0}%.{took}",
                head.classes.len(),
                report.examples,
                100.0 * report.training_accuracy,
                report.validation.validation,
                100.0 * report.validation.accuracy,
            );
            let classes = kinetics::Version::K400.classes();
            let nearest = trainer.nearest.get();
            let rows = head
                .classes
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let accuracy = report
                        .validation
                        .per_class
                        .get(i)
                        .map(|a| format!("{:.0}%", 100.0 * a))
                        .unwrap_or_default();
                    let counts = report.validation.confusion.get(i).cloned().unwrap_or_default();
                    let near = nearest
                        .get(i)
                        .map(|list| {
                            list.iter()
                                .filter_map(|&(index, cosine)| {
                                    let label = classes.get(index)?;
                                    Some(view! {
                                        <li><a href=class_page(label, kinetics::Version::K400)
                                            title="Real Kinetics clips of this class">{label.to_string()}</a>
                                            {format!(" ({cosine:.2})")}</li>
                                    })
                                })
                                .collect_view()
                        });
                    view! {
                        <tr>
                            <th scope="row">{name.clone()}</th>
                            <td data-testid="class-accuracy">{accuracy}</td>
                            {counts.into_iter().map(|n| view! { <td class="count">{n}</td> }).collect_view()}
                            <td><ol class="nearest">{near}</ol></td>
                        </tr>
                    }
                })
                .collect_view();
            let header = head
                .classes
                .iter()
                .map(|name| view! { <th scope="col">{name.clone()}</th> })
                .collect_view();
            view! {
                <div class="train-report" data-testid="train-report">
                    <p role="status">{summary}</p>
                    <div class="table-scroll">
                        <table class="confusion">
                            <caption>"Cross-validated: each row an action, each count a window predicted as the column's"</caption>
                            <thead><tr><th>"Action"</th><th>"Accuracy"</th>{header}<th>"Nearest Kinetics classes"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                </div>
            }
        })
    }
}
