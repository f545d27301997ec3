//! `/findings` and `/findings/:topic`: what the papers found, as pages. Every number here is copied from
//! a seed document (`../shared/seeds/`) and carries its [`Source`] (file and table or section), shown
//! under each table; every class named links to its explorer page.
//!
//! Seeds: `000_5e55a8c7eec1512c.txt` is the Kinetics-600 note (Carreira et al., 2018),
//! `001_e637b2814c92c261.txt` the Kinetics-400 paper (Kay et al., 2017), `002_0bfb6fe21c9ddf45.txt` a
//! lecture on Kinetics and I3D (its slides reproduce tables of "Quo Vadis", Carreira & Zisserman 2017).

use kinetics::taxonomy::{self, Version};
use kinetics::teach::NAMED_CONFUSIONS;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

pub mod tables;

pub use tables::{Cell, FindingTable, Source};

use crate::explorer::View;
use crate::links::{class_page, compare_href, verify_href};
use tables::{
    k400, k600, BASELINES, BIAS, DATASETS, HARD_CLASSES, I3D_K400_K600, K600_CHALLENGE,
    K600_CHANGES, K600_I3D, MOTION, NETWORKS, QUO_VADIS, SPLITS, STATE_OF_THE_ART,
};

/// A topic page.
pub struct Topic {
    /// The path segment: `/findings/{slug}`.
    pub slug: &'static str,
    /// The page's title.
    pub title: &'static str,
    /// One sentence for the index.
    pub summary: &'static str,
}

/// The topics, in reading order.
pub const TOPICS: [Topic; 7] = [
    Topic {
        slug: "datasets",
        title: "Kinetics among action datasets",
        summary:
            "Classes, clips and videos of HMDB-51, UCF-101, ActivityNet and Kinetics; the splits.",
    },
    Topic {
        slug: "baselines",
        title: "Baselines across datasets",
        summary: "ConvNet+LSTM, Two-Stream and a 3D ConvNet on UCF-101, HMDB-51 and Kinetics.",
    },
    Topic {
        slug: "confusions",
        title: "Classes the models confuse",
        summary: "Long jump or triple jump? Swing or salsa? Check them side by side.",
    },
    Topic {
        slug: "difficulty",
        title: "Which classes are hard, and does motion matter?",
        summary: "Eating and dancing classes, body parts, and what RGB models miss.",
    },
    Topic {
        slug: "bias",
        title: "Gender balance and bias",
        summary:
            "340 of 400 classes balanced or undeterminable; which are not, and whether it matters.",
    },
    Topic {
        slug: "k600",
        title: "From Kinetics-400 to Kinetics-600",
        summary: "What changed: more classes, renamed and split classes, new baselines.",
    },
    Topic {
        slug: "i3d",
        title: "I3D results, and the model in this browser",
        summary: "RGB, flow and two-stream I3D on Kinetics-400 and -600, and the state of the art.",
    },
];

/// A class name linked to its explorer page.
#[component]
pub fn ClassLink(
    /// As the text writes it.
    shown: &'static str,
    /// The class.
    name: &'static str,
    /// Its version.
    version: Version,
) -> impl IntoView {
    let title = (shown != name).then(|| format!("the class “{name}”"));
    view! { <a href=class_page(name, version) data-testid="class-link" data-class=name title=title>{shown}</a> }
}

/// The seed a number comes from, under its table.
#[component]
pub fn SourceLine(source: Source) -> impl IntoView {
    view! {
        <p class="source" data-testid="source">
            "Source: " <cite>{source.title}</cite> ", " {source.place}
            " (seeds/" <code>{source.seed}</code> ")"
        </p>
    }
}

/// A finding's table.
#[component]
pub fn Finding(table: &'static FindingTable) -> impl IntoView {
    let head = table
        .head
        .iter()
        .map(|h| view! { <th scope="col">{*h}</th> })
        .collect_view();
    let rows = table
        .rows
        .iter()
        .map(|row| {
            let cells = row
                .iter()
                .map(|cell| match *cell {
                    Cell::Text(text) => view! { <td>{text}</td> }.into_any(),
                    Cell::Class(shown, name, version) => {
                        view! { <td><ClassLink shown name version/></td> }.into_any()
                    }
                })
                .collect_view();
            view! { <tr>{cells}</tr> }
        })
        .collect_view();
    view! {
        <figure class="finding" data-testid="finding">
            <div class="table-scroll">
                <table>
                    <caption>{table.caption}</caption>
                    <thead><tr>{head}</tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <SourceLine source=table.source/>
        </figure>
    }
}

/// `/findings`: the topics.
#[component]
pub fn FindingsIndex() -> impl IntoView {
    let cards = TOPICS
        .iter()
        .map(|topic| {
            view! {
                <a class="card" href=format!("/findings/{}", topic.slug) data-testid="topic">
                    <h2>{topic.title}</h2>
                    <p>{topic.summary}</p>
                </a>
            }
        })
        .collect_view();
    view! {
        <section class="page findings">
            <h1>"What the papers found"</h1>
            <p class="lede">
                "The Kinetics papers' tables and claims, for a class to discuss. Every number is copied from the \
                 papers (the source is under each table) and every class links to its clips in the explorer."
            </p>
            <div class="cards">{cards}</div>
        </section>
    }
}

/// `/findings/:topic`.
#[component]
pub fn FindingPage() -> impl IntoView {
    let params = use_params_map();
    move || {
        let slug = params.with(|p| p.get("topic").unwrap_or_default());
        let Some(topic) = TOPICS.iter().find(|t| t.slug == slug) else {
            return view! {
                <section class="page findings">
                    <h1>"No such finding"</h1>
                    <p><a href="/findings">"All findings"</a></p>
                </section>
            }
            .into_any();
        };
        let body = match topic.slug {
            "datasets" => datasets().into_any(),
            "baselines" => baselines().into_any(),
            "confusions" => confusions().into_any(),
            "difficulty" => difficulty().into_any(),
            "bias" => bias().into_any(),
            "k600" => from_400_to_600().into_any(),
            _ => i3d().into_any(),
        };
        let index = TOPICS
            .iter()
            .position(|t| t.slug == topic.slug)
            .unwrap_or(0);
        let next = TOPICS.get(index + 1).map(|t| {
            view! { <p class="next"><a href=format!("/findings/{}", t.slug)>{format!("Next: {} →", t.title)}</a></p> }
        });
        view! {
            <section class="page findings" data-topic=topic.slug>
                <p class="crumbs"><a href="/findings">"← All findings"</a></p>
                <h1>{topic.title}</h1>
                {body}
                {next}
            </section>
        }
        .into_any()
    }
}

fn datasets() -> impl IntoView {
    view! {
        <p>
            "Kinetics has an order of magnitude more videos than the datasets before it, and every clip of a class \
             comes from a different YouTube video. In UCF-101 all clips come from only 2.5k distinct videos: \"there \
             are 7 clips from one video of the same person "
            <ClassLink shown="brushing their hair" name="brushing hair" version=Version::K400/>
            "\"."
        </p>
        <SourceLine source=k400("§1, Introduction; “an order of magnitude more videos”: §5, Conclusion")/>
        <Finding table=&DATASETS/>
        <Finding table=&SPLITS/>
        <p><a href="/stats">"The statistics of the files loaded here →"</a></p>
    }
}

fn baselines() -> impl IntoView {
    view! {
        <p>
            "Accuracy is far lower on Kinetics than on UCF-101; HMDB-51 is harder still, with its \"truly difficult \
             test set\". The 3D ConvNet is not pre-trained on ImageNet, which shows on the small datasets; on \
             Kinetics it comes close to the others, \"thanks to the much larger training set\". Because a clip may \
             show several actions but has one label, the paper prefers top-5 to top-1 (the "
            <a href="/verify">"verification task"</a>
            " shows why)."
        </p>
        <Finding table=&BASELINES/>
    }
}

fn confusions() -> impl IntoView {
    let pairs = NAMED_CONFUSIONS
        .iter()
        .map(|confusion| {
            let (a, b, note) = (confusion.class, confusion.confused_with, confusion.note);
            let verify = verify_href(a, b, View::K400);
            view! {
                <tr data-testid="confusion">
                    <td><ClassLink shown=a name=a version=Version::K400/></td>
                    <td><ClassLink shown=b name=b version=Version::K400/></td>
                    <td>{note}</td>
                    <td>
                        <a href=compare_href(a, b, View::K400) data-testid="compare-link">"Side by side"</a>
                        " · "
                        <a href=verify data-testid="verify-link">"Verify both"</a>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p>
            "The paper's Table 5 lists the top 10 class confusions of the two-stream baseline; they \"mostly \
             correspond to fine-grained distinctions that one would expect to be hard\". The seed's text names \
             three of them (the table's body did not survive in it), and these three are the confusions the "
            <a href="/verify">"verification task"</a> " and the " <a href="/quiz">"quiz"</a>
            " use as hard negatives, with the classes of the same parent group."
        </p>
        <figure class="finding" data-testid="finding">
            <div class="table-scroll">
                <table>
                    <caption>"Confusions named in the text"</caption>
                    <thead><tr><th scope="col">"Class"</th><th scope="col">"Confused with"</th>
                        <th scope="col">"The paper"</th><th scope="col">"Try it"</th></tr></thead>
                    <tbody>{pairs}</tbody>
                </table>
            </div>
            <SourceLine source=k400("§4.5, Class confusion (Table 5)")/>
        </figure>
    }
}

fn difficulty() -> impl IntoView {
    let dancing = taxonomy::group("dancing")
        .map(|g| g.members)
        .unwrap_or_default()
        .iter()
        .map(|name| view! { <li><ClassLink shown=name name=name version=Version::K400/></li> })
        .collect_view();
    view! {
        <p>"Eating classes are among the hardest; dancing classes are also hard, and so are classes centred on a body part."</p>
        <Finding table=&HARD_CLASSES/>
        <h2>"The dancing classes"</h2>
        <p>"The paper's \"dancing\" group (appendix B), each linked to its clips:"</p>
        <ul class="class-list">{dancing}</ul>
        <SourceLine source=k400("Appendix B, dancing (18)")/>
        <h2>"Does motion matter?"</h2>
        <p>
            "The paper set out to find the classes where motion matters most (its §4.5; the section is cut short in \
             the seed). The lecture sums up what followed: RGB models were \"not able to fully learn from the motion \
             information yet\"."
        </p>
        <Finding table=&MOTION/>
    }
}

fn bias() -> impl IntoView {
    view! {
        <p>
            "A classifier trained on unbalanced data may inherit its imbalance. The paper asked (i) whether each \
             class is gender balanced and (ii) if not, whether that biases the classifier. It \"found little evidence\" \
             of bias: the classifier can use \"both the objects involved in an action as well as the motion patterns, \
             rather than simply physical appearance\". It calls this \"a complex area that deserves further attention\"."
        </p>
        <SourceLine source=k400("§3.5, Discussion: dataset bias I; “a complex area that deserves further attention”: §5, Conclusion")/>
        <Finding table=&BIAS/>
        <p class="muted">"“Shaving beard” is the paper's short name for the class “trimming or shaving beard”."</p>
    }
}

fn from_400_to_600() -> impl IntoView {
    let changes = taxonomy::k400_to_k600_changes()
        .iter()
        .map(|change| {
            let to = change
                .successors()
                .iter()
                .map(|n| view! { <ClassLink shown=n name=n version=Version::K600/> " " })
                .collect_view();
            view! {
                <li data-testid="k600-change">
                    <ClassLink shown=change.from() name=change.from() version=Version::K400/>
                    " → " {if change.successors().is_empty() { view! { "removed" }.into_any() } else { to.into_any() }}
                </li>
            }
        })
        .collect_view();
    view! {
        <p>
            "Kinetics-600 follows the same principles (10 s YouTube clips, each class's clips from different videos) \
             with candidates found through several queries per class, in English and Portuguese."
        </p>
        <Finding table=&SPLITS/>
        <Finding table=&K600_CHANGES/>
        <details>
            <summary>{format!("All {} changed classes", taxonomy::k400_to_k600_changes().len())}</summary>
            <ul class="class-list">{changes}</ul>
            <SourceLine source=k600("Appendix (new or renamed classes)")/>
        </details>
        <Finding table=&K600_I3D/>
        <Finding table=&K600_CHALLENGE/>
    }
}

fn i3d() -> impl IntoView {
    view! {
        <p>
            "I3D inflates a 2D Inception network trained on ImageNet into 3D. Two streams, RGB and optical flow, \
             do best; each sees 64 frames (2.56 s) in training and the whole 10 s clip in testing."
        </p>
        <Finding table=&NETWORKS/>
        <Finding table=&QUO_VADIS/>
        <Finding table=&I3D_K400_K600/>
        <Finding table=&STATE_OF_THE_ART/>
        <h2>"The model in this browser"</h2>
        <p data-testid="our-model">
            "The " <a href="/classify">"classifier"</a> " runs the RGB stream only: I3D inflated from ImageNet and \
             trained on Kinetics-400, the DeepMind weights (" <code>"i3d-kinetics-400"</code> "). In the tables that is \
             RGB-I3D, ImageNet then Kinetics: 71.1% top-1 and 89.3% top-5 on Kinetics-400. It has no flow stream (so \
             not the 74.2% of two-stream I3D) and knows only the 400 classes of Kinetics-400. "
            <a href="/inside">"Inside I3D"</a> " shows it layer by layer."
        </p>
    }
}
