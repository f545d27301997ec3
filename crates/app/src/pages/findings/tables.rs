//! The findings' tables, each copied from a seed document with its [`Source`], and [`ALL`], the registry
//! of every table that the tests walk.

use kinetics::taxonomy::Version;

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

pub(super) const fn k400(place: &'static str) -> Source {
    Source {
        seed: K400_PAPER,
        place,
        title: "The Kinetics Human Action Video Dataset (Kay et al., 2017)",
    }
}
pub(super) const fn k600(place: &'static str) -> Source {
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

const fn c4(name: &'static str) -> Cell {
    Cell::Class(name, name, Version::K400)
}

/// Defines each table as a constant and lists every one in [`ALL`]: a table is only defined through this
/// macro, so none can escape the tests that walk the registry.
macro_rules! finding_tables {
    ($($name:ident = $table:expr;)+) => {
        $(
            #[doc = concat!("The table `", stringify!($name), "`.")]
            pub const $name: FindingTable = $table;
        )+
        /// Every table of the findings pages.
        pub const ALL: &[&FindingTable] = &[$(&$name),+];
    };
}

finding_tables! {
    // --- datasets -----------------------------------------------------------------------------------

    DATASETS = FindingTable {
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

    SPLITS = FindingTable {
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

    BASELINES = FindingTable {
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


    // --- difficulty ---------------------------------------------------------------------------------

    HARD_CLASSES = FindingTable {
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

    MOTION = FindingTable {
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

    BIAS = FindingTable {
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

    K600_CHANGES = FindingTable {
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

    K600_I3D = FindingTable {
        caption: "An RGB I3D trained from scratch on Kinetics-600, no test-time augmentation (accuracy %; the last row is the ActivityNet challenge metric).",
        head: &["Accuracy", "Validation", "Test", "Test + held-out test"],
        rows: &[
            &[T("Top-1"), T("71.9"), T("71.7"), T("69.7")],
            &[T("Top-5"), T("90.1"), T("90.4"), T("89.1")],
            &[T("100 − avg(top-1, top-5)"), T("19.0"), T("19.0"), T("20.6")],
        ],
        source: k600("Table 2"),
    };

    K600_CHALLENGE = FindingTable {
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

    NETWORKS = FindingTable {
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

    QUO_VADIS = FindingTable {
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

    I3D_K400_K600 = FindingTable {
        caption: "I3D from Kinetics-400 to Kinetics-600 (top-1 / top-5 %). The model in this browser is the RGB-I3D row, ImageNet + Kinetics column.",
        head: &["Model", "Kinetics-400, ImageNet + Kinetics", "Kinetics-400, Kinetics only", "Kinetics-600"],
        rows: &[
            &[T("RGB-I3D"), T("71.1 / 89.3"), T("68.4 / 88.0"), T("72.0 / 91.0")],
            &[T("Flow-I3D"), T("63.4 / 84.9"), T("61.5 / 83.4"), T("–")],
            &[T("Two-Stream I3D"), T("74.2 / 91.3"), T("71.6 / 90.0"), T("–")],
        ],
        source: lecture("“I3D comparison from Kinetics-400 to Kinetics-600”"),
    };

    STATE_OF_THE_ART = FindingTable {
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
        for (name, version) in ALL.iter().flat_map(|t| classes_of(t)) {
            assert!(
                version.classes().contains(&name),
                "{name} is not a class of {version:?}"
            );
        }
        assert!(kinetics::taxonomy::group("dancing").is_some());
    }

    #[test]
    fn every_row_fills_its_table() {
        assert_eq!(ALL.len(), 13);
        for table in ALL {
            for row in table.rows {
                assert_eq!(row.len(), table.head.len(), "{}", table.caption);
            }
            assert!(table.source.seed.ends_with(".txt"));
        }
    }
}
