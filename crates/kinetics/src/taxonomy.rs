//! The Kinetics class taxonomy, compiled in from the papers.
//!
//! - Kinetics-400 (Kay et al. 2017, arXiv:1705.06950): the 400 classes in label order with the number
//!   of clips of each (appendix A, 306,245 clips in all), and 38 parent-child groupings (appendix B).
//! - Kinetics-600 (Carreira et al. 2018, arXiv:1808.01340): the 600 classes in label order, the 232
//!   classes new or renamed since Kinetics-400, and what became of the 32 Kinetics-400 classes that
//!   are not in Kinetics-600 under the same name ([`Change`]).
//!
//! Label order is the order of the I3D model's outputs (the `label_map*.txt` files of
//! deepmind/kinetics-i3d), which for both versions is the byte order of the names, so lookups by name
//! are binary searches. Class names are spelled as in the annotation files; where the papers spell a
//! class differently, the data files say so ([`K400_PAPER_SPELLINGS`], the group module docs).

mod groups;
mod k400;
mod k600;

use std::fmt;

/// A Kinetics dataset version whose classes are compiled in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Version {
    /// Kinetics-400 (2017).
    #[serde(rename = "400")]
    K400,
    /// Kinetics-600 (2018).
    #[serde(rename = "600")]
    K600,
}

impl Version {
    /// Both versions.
    pub const ALL: [Version; 2] = [Version::K400, Version::K600];

    /// The class names in label order (index = model output index).
    pub fn classes(self) -> &'static [&'static str] {
        match self {
            Version::K400 => &K400_NAMES,
            Version::K600 => &k600::K600_CLASSES,
        }
    }

    /// 400 or 600.
    pub fn num_classes(self) -> usize {
        self.classes().len()
    }

    /// The label index (model output index) of a class, by its exact name.
    pub fn label_index(self, name: &str) -> Option<usize> {
        self.classes().binary_search(&name).ok()
    }

    /// `400` or `600`.
    pub fn number(self) -> u16 {
        match self {
            Version::K400 => 400,
            Version::K600 => 600,
        }
    }

    /// Reads `400`, `600`, `k400`, `kinetics-400`, … (ASCII case-insensitive).
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim().to_ascii_lowercase();
        let digits = text
            .trim_start_matches("kinetics")
            .trim_start_matches(['-', '_', ' '])
            .trim_start_matches('k');
        match digits {
            "400" => Some(Version::K400),
            "600" => Some(Version::K600),
            _ => None,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kinetics-{}", self.number())
    }
}

/// Kinetics-400 class names in label order.
const K400_NAMES: [&str; 400] = {
    let mut names = [""; 400];
    let mut i = 0;
    while i < 400 {
        names[i] = k400::K400_CLASSES[i].0;
        i += 1;
    }
    names
};

/// Total clips of Kinetics-400 per the paper (sum of appendix A, and the "Total" of its table 1).
pub const K400_TOTAL_CLIPS: u32 = 306_245;

/// `(name in the files, name in the paper's appendix A)` where the two differ.
pub const K400_PAPER_SPELLINGS: [(&str, &str); 1] =
    [("massaging person's head", "massaging person")];

/// The number of Kinetics-400 clips of a class, as listed in the paper's appendix A (all splits).
pub fn k400_clip_count(name: &str) -> Option<u32> {
    Version::K400
        .label_index(name)
        .map(|index| k400::K400_CLASSES[index].1)
}

/// `(name, clips)` for the 400 Kinetics-400 classes, in label order (paper appendix A).
pub fn k400_classes() -> &'static [(&'static str, u32)] {
    &k400::K400_CLASSES
}

/// A parent-child grouping of Kinetics-400 classes (paper appendix B).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    /// The parent, e.g. `music` or `athletics – jumping` (with the paper's en dash).
    pub name: &'static str,
    /// The number printed after the name in the paper (differs from `members.len()` for 4 groups).
    pub paper_count: u16,
    /// Kinetics-400 class names, in the paper's order.
    pub members: &'static [&'static str],
}

impl Group {
    /// Whether `class` (a Kinetics-400 name) is a member.
    pub fn contains(&self, class: &str) -> bool {
        self.members.contains(&class)
    }

    /// The members as classes of `version`: Kinetics-400 names as listed, or for Kinetics-600 each
    /// member's successors (itself if kept, the new name if renamed, both parts if split; a removed
    /// class drops out). Sorted by name, without repeats.
    pub fn members_in(&self, version: Version) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = match version {
            Version::K400 => self.members.to_vec(),
            Version::K600 => self
                .members
                .iter()
                .flat_map(|&member| k600_successors(member))
                .collect(),
        };
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// The 38 groups of appendix B, alphabetical as in the paper.
pub fn groups() -> &'static [Group] {
    &groups::GROUPS
}

/// A group by its exact name.
pub fn group(name: &str) -> Option<&'static Group> {
    groups::GROUPS.iter().find(|group| group.name == name)
}

/// Indices into [`groups`] of the groups a Kinetics-400 class is in (possibly several, often none).
pub fn groups_of(class: &str) -> impl Iterator<Item = usize> + '_ {
    groups::GROUPS
        .iter()
        .enumerate()
        .filter(move |(_, group)| group.contains(class))
        .map(|(index, _)| index)
}

/// What became of a Kinetics-400 class that is not in Kinetics-600 under the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Same class, new name (e.g. "dying hair" → "dyeing hair").
    Renamed {
        /// Kinetics-400 name.
        from: &'static str,
        /// Kinetics-600 name.
        to: &'static str,
    },
    /// Split into several Kinetics-600 classes (e.g. "hugging" → "hugging baby", "hugging (not baby)").
    Split {
        /// Kinetics-400 name.
        from: &'static str,
        /// Kinetics-600 names.
        into: &'static [&'static str],
    },
    /// Not in Kinetics-600 (e.g. "drinking", which overlapped other classes too strongly).
    Removed {
        /// Kinetics-400 name.
        from: &'static str,
    },
}

impl Change {
    /// The Kinetics-400 name.
    pub fn from(&self) -> &'static str {
        match *self {
            Change::Renamed { from, .. }
            | Change::Split { from, .. }
            | Change::Removed { from } => from,
        }
    }

    /// The Kinetics-600 names that continue the class (none if removed).
    pub fn successors(&self) -> &[&'static str] {
        match self {
            Change::Renamed { to, .. } => std::slice::from_ref(to),
            Change::Split { into, .. } => into,
            Change::Removed { .. } => &[],
        }
    }
}

/// The 32 Kinetics-400 classes that changed in Kinetics-600 (10 renamed, 2 split, 20 removed), in
/// Kinetics-400 label order. See the `k600` data module docs for how the table was completed.
pub fn k400_to_k600_changes() -> &'static [Change] {
    &k600::K400_TO_K600
}

/// The 232 classes listed in the Kinetics-600 note's appendix: new, or renamed from Kinetics-400.
pub fn new_in_k600() -> &'static [&'static str] {
    &k600::NEW_IN_K600
}

/// The change recorded for a Kinetics-400 class, if it changed.
pub fn k600_change(k400_name: &str) -> Option<&'static Change> {
    k600::K400_TO_K600
        .iter()
        .find(|change| change.from() == k400_name)
}

/// The Kinetics-600 classes continuing a Kinetics-400 class: itself if kept, the new name if renamed,
/// the parts if split, none if removed or not a Kinetics-400 class.
pub fn k600_successors(k400_name: &str) -> Vec<&'static str> {
    if let Some(change) = k600_change(k400_name) {
        return change.successors().to_vec();
    }
    match Version::K400.label_index(k400_name) {
        Some(index) => vec![K400_NAMES[index]],
        None => Vec::new(),
    }
}

/// The Kinetics-400 class a Kinetics-600 class continues (itself if kept, the old name if renamed or
/// split from it), or `None` for a class new in Kinetics-600.
pub fn k400_predecessor(k600_name: &str) -> Option<&'static str> {
    if let Some(change) = k600::K400_TO_K600
        .iter()
        .find(|change| change.successors().contains(&k600_name))
    {
        return Some(change.from());
    }
    let index = Version::K400.label_index(k600_name)?;
    Version::K600.label_index(k600_name)?;
    Some(K400_NAMES[index])
}

#[cfg(test)]
mod tests;
