//! `/findings` and `/findings/:topic`: what the papers found, as pages. Every number here is copied from
//! a seed document (`../shared/seeds/`) and carries its [`Source`] (file and table or section), shown
//! under each table; every class named links to its explorer page.
//!
//! Seeds: `000_5e55a8c7eec1512c.txt` is the Kinetics-600 note (Carreira et al., 2018),
//! `001_e637b2814c92c261.txt` the Kinetics-400 paper (Kay et al., 2017), `002_0bfb6fe21c9ddf45.txt` a
//! lecture on Kinetics and I3D (its slides reproduce tables of "Quo Vadis", Carreira & Zisserman 2017).

use kinetics::taxonomy::{self, Version};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::explorer::query::encode;
use crate::explorer::View;
use crate::routes::compare::compare_href;

/// The seed document and the table or section a number comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    /// File name in `../shared/seeds/`.
    pub seed: &'static str,
    /// Where in it: `Table 4`, `§3.5`.
    pub place: &'static str,
    /// What the document is.
    pub title: &'static str,
}

const K600_NOTE: &str = "000_5e55a8c7eec1512c.txt";
const K400_PAPER: &str = "001_e637b2814c92c261.txt";
const LECTURE: &str = "002_0bfb6fe21c9ddf45.txt";

const fn k400(place: &'static str) -> Source {
    Source {
        seed: K400_PAPER,
        place,
        title: "The Kinetics Human Action Video Dataset (Kay et al., 2017)",
    }
}
const fn k600(place: &'static str) -> Source {
    Source {
        seed: K600_NOTE,
        place,
        title: "A Short Note about Kinetics-600 (Carreira et al., 2018)",
    }
}
const fn lecture(place: &'static str) -> Source {
    Source {
        seed: LECTURE,
        place,
        title: "Lecture on Kinetics and I3D (slides)",
    }
}

/// A table cell: text, or a class of a version shown as the paper writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// Plain text or a number as printed.
    Text(&'static str),
    /// A class, linked to its explorer page: (as shown, class name, version).
    Class(&'static str, &'static str, Version),
}

use Cell::Text as T;

/// A table of a finding, with its source.
pub struct FindingTable {
    /// One line on what it shows.
    pub caption: &'static str,
    /// Column heads.
    pub head: &'static [&'static str],
    /// Rows of cells.
    pub rows: &'static [&'static [Cell]],
    /// Where the numbers come from.
    pub source: Source,
}

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

const fn c4(name: &'static str) -> Cell {
    Cell::Class(name, name, Version::K400)
}

// --- datasets -----------------------------------------------------------------------------------

const DATASETS: FindingTable = FindingTable {
    caption: "Statistics for recent human action recognition datasets. Clips: per class; Total: clips in all; Videos: the videos the clips were cut from.",
    head: &["Dataset", "Year", "Actions", "Clips", "Total", "Videos"],
    rows: &[
        &[T("HMDB-51"), T("2011"), T("51"), T("min 102"), T("6,766"), T("3,312")],
        &[T("UCF-101"), T("2012"), T("101"), T("min 101"), T("13,320"), T("2,500")],
        &[T("ActivityNet-200"), T("2015"), T("200"), T("avg 141"), T("28,108"), T("19,994")],
        &[T("Kinetics"), T("2017"), T("400"), T("min 400"), T("306,245"), T("306,245")],
    ],
    source: k400("Table 1"),
};

const SPLITS: FindingTable = FindingTable {
    caption: "Clips per class in each split of Kinetics-400 and Kinetics-600, and the totals.",
    head: &[
        "Version",
        "Train",
        "Validation",
        "Test",
        "Held-out test",
        "Total train",
        "Total",
        "Classes",
    ],
    rows: &[
        &[
            T("Kinetics-400"),
            T("250–1000"),
            T("50"),
            T("100"),
            T("0"),
            T("246,245"),
            T("306,245"),
            T("400"),
        ],
        &[
            T("Kinetics-600"),
            T("450–1000"),
            T("50"),
            T("100"),
            T("around 50"),
            T("392,622"),
            T("495,547"),
            T("600"),
        ],
    ],
    source: k600("Table 1"),
};

// --- baselines ----------------------------------------------------------------------------------

const BASELINES: FindingTable = FindingTable {
    caption: "Accuracy (%) training and testing on split 1 of UCF-101 and HMDB-51, and on Kinetics (top-1 / top-5).",
    head: &["Architecture", "UCF-101 RGB", "UCF-101 Flow", "UCF-101 RGB+Flow", "HMDB-51 RGB", "HMDB-51 Flow", "HMDB-51 RGB+Flow", "Kinetics RGB", "Kinetics Flow", "Kinetics RGB+Flow"],
    rows: &[
        &[T("ConvNet+LSTM"), T("84.3"), T("–"), T("–"), T("43.9"), T("–"), T("–"), T("57.0 / 79.0"), T("–"), T("–")],
        &[T("Two-Stream"), T("84.2"), T("85.9"), T("92.5"), T("51.0"), T("56.9"), T("63.7"), T("56.0 / 77.3"), T("49.5 / 71.9"), T("61.0 / 81.3")],
        &[T("3D-ConvNet"), T("51.6"), T("–"), T("–"), T("24.3"), T("–"), T("–"), T("56.1 / 79.5"), T("–"), T("–")],
    ],
    source: k400("Table 4"),
};

// --- confusions ---------------------------------------------------------------------------------

/// The pairs named in the text, with the paper's words on each.
const CONFUSION_NOTES: [(&str, &str, &str); 3] = [
    ("long jump", "triple jump", "a fine-grained distinction that one would expect to be hard"),
    ("eating burger", "eating doughnuts", "“confusing burger with doughnuts” (the classes eating burger and eating doughnuts): eating classes need what is eaten, which may be small and half gone"),
    ("swing dancing", "salsa dancing", "“‘swing dancing’ is typically much faster-paced and has a peculiar style that makes it easy for humans to distinguish from salsa”"),
];

// --- difficulty ---------------------------------------------------------------------------------

const HARD_CLASSES: FindingTable = FindingTable {
    caption: "Classes the paper names as hard for the two-stream model (its figure 4 ranks all 400 by accuracy; the figure is not in the seed's text).",
    head: &["Kind", "Classes named", "Why, in the paper's words"],
    rows: &[
        &[T("Eating"), Cell::Class("hotdogs", "eating hotdog", Version::K400), T("“require distinguishing what is being eaten … and these may appear small and already partially consumed”")],
        &[T("Eating"), Cell::Class("chips", "eating chips", Version::K400), T("")],
        &[T("Eating"), Cell::Class("doughnuts", "eating doughnuts", Version::K400), T("")],
        &[T("Body part"), c4("massaging feet"), T("“classes centered on a specific body part”")],
        &[T("Body part"), c4("shaking head"), T("")],
    ],
    source: k400("§4.5, Class difficulty"),
};

const MOTION: FindingTable = FindingTable {
    caption: "Does the model use motion? Claims on the slides.",
    head: &["Claim", "Number"],
    rows: &[
        &[T("Adding flow (to RGB) boosts performance, on the slide of top-1 accuracy on Kinetics-400, by around"), T("3%")],
        &[T("Classes of Kinetics-400 that a C3D model (16 frames) classifies without using motion"), T("35%")],
        &[T("Ceiling on Kinetics-400 top-1 accuracy at the time"), T("less than 80%")],
    ],
    source: lecture("“State of the art on Kinetics-400” and “What Makes a Video a Video”"),
};

// --- bias ---------------------------------------------------------------------------------------

const BIAS: FindingTable = FindingTable {
    caption: "The paper's preliminary bias study. 340 of the 400 classes are not dominated by one gender, or the gender cannot be told (hands only, actors small or heavily clothed).",
    head: &["Finding", "Classes"],
    rows: &[
        &[T("Mostly male"), Cell::Class("shaving beard", "trimming or shaving beard", Version::K400)],
        &[T("Mostly male"), c4("dunking basketball")],
        &[T("Mostly female"), c4("filling eyebrows")],
        &[T("Mostly female"), c4("cheerleading")],
        &[T("Imbalanced, yet no classifier bias found (all videos with female players correctly classified)"), c4("playing poker")],
        &[T("Imbalanced, yet no classifier bias found"), c4("hammer throw")],
        &[T("Age: many videos of non-babies crying misclassified"), c4("crying")],
        &[T("Age: the opposite of crying"), c4("wrestling")],
    ],
    source: k400("§3.5, Discussion: dataset bias I"),
};

// --- k600 ---------------------------------------------------------------------------------------

const K600_CHANGES: FindingTable = FindingTable {
    caption: "368 of the 400 classes are exactly the same in Kinetics-600; the other 32 were renamed, split or removed. The note's examples:",
    head: &["Kinetics-400", "Kinetics-600", "Change"],
    rows: &[
        &[c4("dying hair"), Cell::Class("dyeing hair", "dyeing hair", Version::K600), T("renamed")],
        &[c4("drinking"), T("—"), T("split or removed (the note does not say which): too strongly overlapping with other classes")],
        &[c4("hugging"), Cell::Class("hugging baby", "hugging baby", Version::K600), T("split")],
        &[c4("hugging"), Cell::Class("hugging (not baby)", "hugging (not baby)", Version::K600), T("split")],
        &[c4("opening bottle"), Cell::Class("opening wine bottle", "opening wine bottle", Version::K600), T("split")],
        &[c4("opening bottle"), Cell::Class("opening bottle (not wine)", "opening bottle (not wine)", Version::K600), T("split")],
    ],
    source: k600("§3, From Kinetics-400 to Kinetics-600"),
};

const K600_I3D: FindingTable = FindingTable {
    caption: "An RGB I3D trained from scratch on Kinetics-600, no test-time augmentation (accuracy %; the last row is the ActivityNet challenge metric).",
    head: &["Accuracy", "Validation", "Test", "Test + held-out test"],
    rows: &[
        &[T("Top-1"), T("71.9"), T("71.7"), T("69.7")],
        &[T("Top-5"), T("90.1"), T("90.4"), T("89.1")],
        &[T("100 − avg(top-1, top-5)"), T("19.0"), T("19.0"), T("20.6")],
    ],
    source: k600("Table 2"),
};

const K600_CHALLENGE: FindingTable = FindingTable {
    caption: "Numbers in the note's text.",
    head: &["Claim", "Number"],
    rows: &[
        &[T("Increase in classes from Kinetics-400 to -600"), T("50%")],
        &[
            T("Increase in clips (around 300k to around 500k)"),
            T("60%"),
        ],
        &[
            T("“On Kinetics-400 the corresponding result”, top-1 of I3D"),
            T("68.4"),
        ],
        &[
            T("Winning challenge error, 2017 (Kinetics-400) → 2018 (Kinetics-600)"),
            T("12.4% → 11.0%"),
        ],
    ],
    source: k600("§1 and §4, Benchmark Performance"),
};

// --- i3d ----------------------------------------------------------------------------------------

const NETWORKS: FindingTable = FindingTable {
    caption: "Number of parameters and temporal input sizes of the models compared on Kinetics.",
    head: &[
        "Method",
        "Parameters",
        "Training: input frames",
        "Training: temporal footprint",
        "Testing: input frames",
        "Testing: temporal footprint",
    ],
    rows: &[
        &[
            T("ConvNet+LSTM"),
            T("9M"),
            T("25 rgb"),
            T("5s"),
            T("50 rgb"),
            T("10s"),
        ],
        &[
            T("3D-ConvNet (C3D)"),
            T("79M"),
            T("16 rgb"),
            T("0.64s"),
            T("240 rgb"),
            T("9.6s"),
        ],
        &[
            T("Two-Stream"),
            T("12M"),
            T("1 rgb, 10 flow"),
            T("0.4s"),
            T("25 rgb, 250 flow"),
            T("10s"),
        ],
        &[
            T("3D-Fused"),
            T("39M"),
            T("5 rgb, 50 flow"),
            T("2s"),
            T("25 rgb, 250 flow"),
            T("10s"),
        ],
        &[
            T("Two-Stream I3D"),
            T("25M"),
            T("64 rgb, 64 flow"),
            T("2.56s"),
            T("250 rgb, 250 flow"),
            T("10s"),
        ],
    ],
    source: lecture("“Comparison of networks on Kinetics” (Quo Vadis, Table 1)"),
};

const QUO_VADIS: FindingTable = FindingTable {
    caption: "Network comparison on Kinetics-400, trained on Kinetics alone or from ImageNet then Kinetics (top-1 %, top-5 in brackets).",
    head: &["Architecture", "Kinetics RGB", "Kinetics Flow", "Kinetics RGB+Flow", "ImageNet then Kinetics RGB", "ImageNet then Kinetics Flow", "ImageNet then Kinetics RGB+Flow"],
    rows: &[
        &[T("LSTM"), T("53.9"), T("–"), T("–"), T("63.3"), T("–"), T("–")],
        &[T("3D-ConvNet"), T("56.1"), T("–"), T("–"), T("–"), T("–"), T("–")],
        &[T("Two-Stream"), T("57.9"), T("49.6"), T("62.8"), T("62.2"), T("52.4"), T("65.6")],
        &[T("3D-Fused"), T("–"), T("–"), T("62.7"), T("–"), T("–"), T("67.2")],
        &[T("Two-Stream I3D"), T("68.4 (88.0)"), T("61.5 (83.4)"), T("71.6 (90.0)"), T("71.1 (89.3)"), T("63.4 (84.9)"), T("74.2 (91.3)")],
    ],
    source: lecture("“Network comparison on Kinetics-400” (Quo Vadis, Table 3)"),
};

const I3D_K400_K600: FindingTable = FindingTable {
    caption: "I3D from Kinetics-400 to Kinetics-600 (top-1 / top-5 %). The model in this browser is the RGB-I3D row, ImageNet + Kinetics column.",
    head: &["Model", "Kinetics-400, ImageNet + Kinetics", "Kinetics-400, Kinetics only", "Kinetics-600"],
    rows: &[
        &[T("RGB-I3D"), T("71.1 / 89.3"), T("68.4 / 88.0"), T("72.0 / 91.0")],
        &[T("Flow-I3D"), T("63.4 / 84.9"), T("61.5 / 83.4"), T("–")],
        &[T("Two-Stream I3D"), T("74.2 / 91.3"), T("71.6 / 90.0"), T("–")],
    ],
    source: lecture("“I3D comparison from Kinetics-400 to Kinetics-600”"),
};

const STATE_OF_THE_ART: FindingTable = FindingTable {
    caption: "State of the art on Kinetics-400 validation at the time of the lecture (top-1 %).",
    head: &["Model", "RGB only", "RGB + flow"],
    rows: &[
        &[T("S3D-G"), T("74.7"), T("77.2")],
        &[T("TSN Inception V3"), T("72.5"), T("76.6")],
        &[T("Non-local Neural Networks"), T("77.7"), T("–")],
        &[T("I3D"), T("71.1"), T("74.2")],
    ],
    source: lecture("“State of the art on Kinetics-400”"),
};

/// `/classes/NAME?v=400` (or `600`).
pub fn class_page(name: &str, version: Version) -> String {
    format!("/classes/{}?v={}", encode(name), version.number())
}

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
    let pairs = CONFUSION_NOTES
        .iter()
        .map(|(a, b, note)| {
            let verify = format!("/verify?classes={}&v=400", encode(&format!("{a}|{b}")));
            view! {
                <tr data-testid="confusion">
                    <td><ClassLink shown=a name=a version=Version::K400/></td>
                    <td><ClassLink shown=b name=b version=Version::K400/></td>
                    <td>{*note}</td>
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

#[cfg(test)]
mod tests {
    use super::*;

    fn classes_of(table: &FindingTable) -> Vec<(&'static str, Version)> {
        table
            .rows
            .iter()
            .flat_map(|row| row.iter())
            .filter_map(|cell| match *cell {
                Cell::Class(_, name, version) => Some((name, version)),
                Cell::Text(_) => None,
            })
            .collect()
    }

    #[test]
    fn every_class_named_exists_in_its_version() {
        let tables = [&HARD_CLASSES, &BIAS, &K600_CHANGES, &DATASETS, &BASELINES];
        for (name, version) in tables.iter().flat_map(|t| classes_of(t)) {
            assert!(
                version.classes().contains(&name),
                "{name} is not a class of {version:?}"
            );
        }
        for (a, b, _) in CONFUSION_NOTES {
            assert!(Version::K400.classes().contains(&a) && Version::K400.classes().contains(&b));
        }
        assert!(taxonomy::group("dancing").is_some());
    }

    #[test]
    fn every_row_fills_its_table() {
        let tables = [
            &DATASETS,
            &SPLITS,
            &BASELINES,
            &HARD_CLASSES,
            &MOTION,
            &BIAS,
            &K600_CHANGES,
            &K600_I3D,
            &K600_CHALLENGE,
            &QUO_VADIS,
            &I3D_K400_K600,
            &STATE_OF_THE_ART,
        ];
        for table in tables {
            for row in table.rows {
                assert_eq!(row.len(), table.head.len(), "{}", table.caption);
            }
            assert!(table.source.seed.ends_with(".txt"));
        }
    }
}
