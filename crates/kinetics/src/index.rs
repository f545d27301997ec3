//! [`Index`]: the clips of one or more annotation files, compact and queryable.
//!
//! Every clip is one 24-byte record: YouTube id as 11 ASCII bytes, class as a `u16` index into a
//! [`ClassTable`], start and end as `u32` milliseconds, split, `is_cc` flag and a `u8` source (file)
//! index. 545,000 clips (the Kinetics-700-2020 train split) take 13 MB. Records are kept sorted by
//! (class, YouTube id, start), so the clips of a class are one contiguous run, already sorted by id,
//! and a YouTube id is found by one binary search per class.
//!
//! Files are added with [`Index::insert`], either extending the index or replacing an earlier file of
//! the same name ([`Merge`]). Queries take a [`Filter`] (split, dataset version, group, source).

use std::collections::HashMap;
use std::ops::Range;

use crate::error::Error;
use crate::parse::{Annotations, Format, Segment, Split};
use crate::taxonomy::{self, Version};
use crate::youtube::YoutubeId;

/// Index of a class in a [`ClassTable`].
///
/// The table of [`ClassTable::new`] starts with the 400 Kinetics-400 classes in label order
/// (`ClassId(0..400)`), then the 232 Kinetics-600 classes that are not Kinetics-400 classes, in
/// Kinetics-600 label order (`ClassId(400..632)`); labels of other files (e.g. Kinetics-700) follow in
/// order of appearance.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct ClassId(pub u16);

impl ClassId {
    /// As a `usize` index.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// Class id stored in records of unlabelled clips; also bounds the table size.
const NO_CLASS: u16 = u16::MAX;

/// Most classes a [`ClassTable`] holds.
pub const MAX_CLASSES: usize = NO_CLASS as usize;

/// Most files an [`Index`] holds at once.
pub const MAX_SOURCES: usize = u8::MAX as usize + 1;

/// Interned class names: the compiled-in Kinetics-400 and Kinetics-600 classes, then any other label
/// met in a file. See [`ClassId`] for the numbering.
#[derive(Debug, Clone)]
pub struct ClassTable {
    names: Vec<String>,
    /// Kinetics-600 label index of each compiled-in class (`None` for Kinetics-400-only classes).
    k600_index: Vec<Option<u16>>,
    /// Class id of each Kinetics-600 label index.
    k600_ids: Vec<u16>,
    /// Classes beyond the compiled-in ones.
    extra: HashMap<String, u16>,
}

impl Default for ClassTable {
    fn default() -> Self {
        Self::new()
    }
}

impl ClassTable {
    /// The compiled-in classes (632).
    pub fn new() -> Self {
        let k400 = Version::K400.classes();
        let k600 = Version::K600.classes();
        let mut names: Vec<String> = k400.iter().map(|&name| name.to_owned()).collect();
        let mut k600_index = vec![None; k400.len()];
        let mut k600_ids = Vec::with_capacity(k600.len());
        for (label, &name) in k600.iter().enumerate() {
            let id = match Version::K400.label_index(name) {
                Some(id) => id,
                None => {
                    names.push(name.to_owned());
                    k600_index.push(None);
                    names.len() - 1
                }
            };
            // Both lists are far shorter than u16::MAX.
            k600_index[id] = u16::try_from(label).ok();
            k600_ids.push(u16::try_from(id).unwrap_or(NO_CLASS));
        }
        ClassTable {
            names,
            k600_index,
            k600_ids,
            extra: HashMap::new(),
        }
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Never true: the compiled-in classes are always there.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The name of a class.
    pub fn name(&self, id: ClassId) -> Option<&str> {
        self.names.get(id.index()).map(String::as_str)
    }

    /// All classes in id order.
    pub fn iter(&self) -> impl Iterator<Item = (ClassId, &str)> {
        (0..NO_CLASS)
            .zip(&self.names)
            .map(|(id, name)| (ClassId(id), name.as_str()))
    }

    /// A class by its exact name.
    pub fn id(&self, name: &str) -> Option<ClassId> {
        if let Some(index) = Version::K400.label_index(name) {
            return u16::try_from(index).ok().map(ClassId);
        }
        if let Some(index) = Version::K600.label_index(name) {
            return self.k600_ids.get(index).copied().map(ClassId);
        }
        self.extra.get(name).copied().map(ClassId)
    }

    /// A class by name, added if new.
    pub fn intern(&mut self, name: &str) -> Result<ClassId, Error> {
        if let Some(id) = self.id(name) {
            return Ok(id);
        }
        let id = u16::try_from(self.names.len())
            .ok()
            .filter(|&id| id < NO_CLASS)
            .ok_or_else(|| Error::TooMany {
                what: "classes".into(),
                max: MAX_CLASSES,
            })?;
        self.names.push(name.to_owned());
        self.extra.insert(name.to_owned(), id);
        Ok(ClassId(id))
    }

    /// Forgets the classes added after the first `len` (the compiled-in ones always stay).
    fn truncate(&mut self, len: usize) {
        let keep = len.max(self.k600_index.len());
        if keep < self.names.len() {
            for name in self.names.drain(keep..) {
                self.extra.remove(&name);
            }
        }
    }

    /// The label index (model output index) of a class in a dataset version, if it is a class of it.
    pub fn label_index(&self, id: ClassId, version: Version) -> Option<usize> {
        match version {
            Version::K400 => (id.index() < Version::K400.num_classes()).then_some(id.index()),
            Version::K600 => self
                .k600_index
                .get(id.index())
                .copied()
                .flatten()
                .map(usize::from),
        }
    }

    /// The class of a dataset version at a label index.
    pub fn by_label_index(&self, version: Version, label: usize) -> Option<ClassId> {
        match version {
            Version::K400 => (label < Version::K400.num_classes())
                .then(|| u16::try_from(label).ok().map(ClassId))
                .flatten(),
            Version::K600 => self.k600_ids.get(label).copied().map(ClassId),
        }
    }

    /// Whether a class belongs to a dataset version.
    pub fn in_version(&self, id: ClassId, version: Version) -> bool {
        self.label_index(id, version).is_some()
    }

    /// The number of clips the Kinetics-400 paper lists for a class (appendix A), for Kinetics-400
    /// classes.
    pub fn paper_clips(&self, id: ClassId) -> Option<u32> {
        taxonomy::k400_classes()
            .get(id.index())
            .map(|&(_, clips)| clips)
    }

    /// Indices into [`taxonomy::groups`] of the groups a class is in: the groups of a Kinetics-400
    /// class, or for a Kinetics-600 class the groups of the Kinetics-400 class it continues.
    pub fn groups(&self, id: ClassId) -> Vec<usize> {
        let Some(name) = self.name(id) else {
            return Vec::new();
        };
        let k400_name = if id.index() < Version::K400.num_classes() {
            Some(name)
        } else if self.in_version(id, Version::K600) {
            taxonomy::k400_predecessor(name)
        } else {
            None
        };
        k400_name.map_or_else(Vec::new, |n| taxonomy::groups_of(n).collect())
    }

    /// `mask[class]` is true for the classes in group `group` (see [`ClassTable::groups`]): its
    /// Kinetics-400 members and their Kinetics-600 successors.
    fn group_mask(&self, group: usize) -> Vec<bool> {
        let mut mask = vec![false; self.len()];
        if let Some(group) = taxonomy::groups().get(group) {
            for version in Version::ALL {
                for name in group.members_in(version) {
                    if let Some(slot) = self.id(name).and_then(|id| mask.get_mut(id.index())) {
                        *slot = true;
                    }
                }
            }
        }
        mask
    }
}

/// Index of a source (file) in an [`Index`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct SourceId(pub u8);

/// A file loaded into an [`Index`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SourceInfo {
    /// [`Annotations::source`], usually the file name.
    pub name: String,
    /// Dataset version, given or guessed (see [`Index::insert`]).
    pub version: Option<Version>,
    /// The variant the file was.
    pub format: Format,
    /// Clips read.
    pub clips: usize,
    /// Clips with a label.
    pub labelled: usize,
    /// Rows skipped as malformed.
    pub skipped: usize,
}

/// How [`Index::insert`] treats a file whose name is already loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Merge {
    /// Add the file's clips as a new source, whatever its name.
    #[default]
    Extend,
    /// Replace the clips of the source of the same name (add them if there is none).
    Replace,
}

/// Which clips a query sees. The default sees all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this split.
    pub split: Option<Split>,
    /// Only clips of sources of this dataset version.
    pub version: Option<Version>,
    /// Only classes of this group (an index into [`taxonomy::groups`], see [`ClassTable::groups`]);
    /// unlabelled clips are then excluded.
    pub group: Option<usize>,
    /// Only clips of this source.
    pub source: Option<SourceId>,
}

/// A clip as returned by queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Clip {
    /// The video.
    pub youtube_id: YoutubeId,
    /// Where in the video.
    pub segment: Segment,
    /// The class, `None` if unlabelled.
    pub label: Option<ClassId>,
    /// The split.
    pub split: Split,
    /// The Kinetics-400 `is_cc` flag where the file had it.
    pub is_cc: Option<bool>,
    /// The file it came from.
    pub source: SourceId,
}

impl Clip {
    /// The YouTube page of the video at the clip's start (see [`YoutubeId::watch_url`]).
    pub fn watch_url(&self) -> String {
        self.youtube_id.watch_url(self.segment.start_ms)
    }

    /// An embeddable player limited to the clip (see [`YoutubeId::embed_url`]).
    pub fn embed_url(&self) -> String {
        self.youtube_id
            .embed_url(self.segment.start_ms, self.segment.end_ms)
    }
}

/// One clip in the index: 24 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Record {
    id: YoutubeId,
    split: Split,
    is_cc: Option<bool>,
    source: u8,
    class: u16,
    start_ms: u32,
    end_ms: u32,
}

impl Record {
    /// Sort key: class (unlabelled last), id, segment, then the rest for a deterministic order.
    #[allow(clippy::type_complexity)]
    fn key(&self) -> (u16, YoutubeId, u32, u32, u8, Split, Option<bool>) {
        (
            self.class,
            self.id,
            self.start_ms,
            self.end_ms,
            self.source,
            self.split,
            self.is_cc,
        )
    }

    fn clip(&self) -> Clip {
        Clip {
            youtube_id: self.id,
            segment: Segment {
                start_ms: self.start_ms,
                end_ms: self.end_ms,
            },
            label: (self.class != NO_CLASS).then_some(ClassId(self.class)),
            split: self.split,
            is_cc: self.is_cc,
            source: SourceId(self.source),
        }
    }
}

/// Clip counts per class and split: `per_class[class][split.index()]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Labelled clips, by [`ClassId`] then [`Split::index`].
    pub per_class: Vec<[u32; 3]>,
    /// Unlabelled clips by split.
    pub unlabelled: [u32; 3],
}

impl Counts {
    /// Counts of one class by split.
    pub fn class(&self, id: ClassId) -> [u32; 3] {
        self.per_class.get(id.index()).copied().unwrap_or_default()
    }

    /// Clips by split, labelled or not.
    pub fn splits(&self) -> [u32; 3] {
        let mut total = self.unlabelled;
        for counts in &self.per_class {
            for (sum, count) in total.iter_mut().zip(counts) {
                *sum += count;
            }
        }
        total
    }

    /// Labelled clips.
    pub fn labelled(&self) -> u64 {
        self.per_class
            .iter()
            .flatten()
            .map(|&count| u64::from(count))
            .sum()
    }

    /// All clips.
    pub fn total(&self) -> u64 {
        self.labelled() + self.unlabelled.iter().map(|&c| u64::from(c)).sum::<u64>()
    }

    /// Number of classes with at least one clip.
    pub fn classes_present(&self) -> usize {
        self.per_class
            .iter()
            .filter(|counts| counts.iter().any(|&c| c > 0))
            .count()
    }

    fn add(&mut self, other: &Counts) {
        if self.per_class.len() < other.per_class.len() {
            self.per_class.resize(other.per_class.len(), [0; 3]);
        }
        for (sum, counts) in self.per_class.iter_mut().zip(&other.per_class) {
            for (s, c) in sum.iter_mut().zip(counts) {
                *s += c;
            }
        }
        for (s, c) in self.unlabelled.iter_mut().zip(&other.unlabelled) {
            *s += c;
        }
    }
}

/// Clips per split, as in `kinetiscope data stats --json`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SplitCounts {
    /// Training clips.
    pub train: u64,
    /// Validation clips.
    pub val: u64,
    /// Test clips.
    pub test: u64,
}

/// Totals over the clips a [`Filter`] sees: `{"clips", "labelled", "classes", "splits": {…}}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    /// All clips.
    pub clips: u64,
    /// Clips with a label.
    pub labelled: u64,
    /// Classes with at least one clip.
    pub classes: usize,
    /// Clips per split.
    pub splits: SplitCounts,
}

/// The clips of any number of annotation files; see the module docs.
#[derive(Debug, Clone, Default)]
pub struct Index {
    classes: ClassTable,
    /// Loaded sources by [`SourceId`]; `None` marks a free slot.
    sources: Vec<Option<(SourceInfo, Counts)>>,
    /// Sorted by [`Record::key`].
    records: Vec<Record>,
    /// `records[class_starts[c]..class_starts[c + 1]]` are the clips of class `c`; the unlabelled
    /// clips follow `class_starts[classes.len()]`.
    class_starts: Vec<u32>,
}

impl Index {
    /// An empty index over the compiled-in classes.
    pub fn new() -> Self {
        let classes = ClassTable::new();
        let class_starts = vec![0; classes.len() + 1];
        Index {
            classes,
            sources: Vec::new(),
            records: Vec::new(),
            class_starts,
        }
    }

    /// Adds the clips of a file. `version` overrides the dataset version; when `None` it is guessed
    /// from the labels or the file name ([`Annotations::guess_version`]). Returns the source id.
    pub fn insert(
        &mut self,
        annotations: Annotations,
        version: Option<Version>,
        merge: Merge,
    ) -> Result<SourceId, Error> {
        let version = version.or_else(|| annotations.guess_version());
        let replaced = match merge {
            Merge::Replace => self.sources.iter().position(|slot| {
                slot.as_ref()
                    .is_some_and(|(info, _)| info.name == annotations.source)
            }),
            Merge::Extend => None,
        };
        let slot = match replaced.or_else(|| self.sources.iter().position(Option::is_none)) {
            Some(slot) => slot,
            None if self.sources.len() < MAX_SOURCES => {
                self.sources.push(None);
                self.sources.len() - 1
            }
            None => {
                return Err(Error::TooMany {
                    what: "files in one index".into(),
                    max: MAX_SOURCES,
                })
            }
        };
        let source = u8::try_from(slot).map_err(|_| Error::TooMany {
            what: "files in one index".into(),
            max: MAX_SOURCES,
        })?;
        // All of the file's classes or none: a file refused here leaves no empty classes behind.
        let classes_before = self.classes.len();
        let label_ids = match annotations
            .labels
            .iter()
            .map(|label| self.classes.intern(label).map(|id| id.0))
            .collect::<Result<Vec<u16>, Error>>()
        {
            Ok(ids) => ids,
            Err(e) => {
                self.classes.truncate(classes_before);
                return Err(e);
            }
        };
        if replaced.is_some() {
            self.records.retain(|record| record.source != source);
        }

        let mut counts = Counts {
            per_class: vec![[0; 3]; self.classes.len()],
            unlabelled: [0; 3],
        };
        let mut new: Vec<Record> = annotations
            .clips
            .iter()
            .map(|clip| {
                let class = clip
                    .label
                    .and_then(|label| label_ids.get(usize::from(label)).copied())
                    .unwrap_or(NO_CLASS);
                let split = clip.split.index();
                match counts.per_class.get_mut(usize::from(class)) {
                    Some(class_counts) => class_counts[split] += 1,
                    None => counts.unlabelled[split] += 1,
                }
                Record {
                    id: clip.youtube_id,
                    split: clip.split,
                    is_cc: clip.is_cc,
                    source,
                    class,
                    start_ms: clip.segment.start_ms,
                    end_ms: clip.segment.end_ms,
                }
            })
            .collect();
        new.sort_unstable_by_key(Record::key);
        self.merge_sorted(new);

        let info = SourceInfo {
            name: annotations.source,
            version,
            format: annotations.format,
            clips: annotations.clips.len(),
            labelled: counts.labelled() as usize,
            skipped: annotations.skipped.rows,
        };
        self.sources[slot] = Some((info, counts));
        Ok(SourceId(source))
    }

    /// Removes a source and its clips; returns its description if it was loaded.
    pub fn remove(&mut self, source: SourceId) -> Option<SourceInfo> {
        let (info, _) = self.sources.get_mut(usize::from(source.0))?.take()?;
        self.records.retain(|record| record.source != source.0);
        self.records.shrink_to_fit();
        self.rebuild_class_starts();
        Some(info)
    }

    /// Appends a sorted run to the sorted records and restores the order (the stable sort merges
    /// the two runs in linear time).
    fn merge_sorted(&mut self, new: Vec<Record>) {
        let already_sorted = match (self.records.last(), new.first()) {
            (Some(last), Some(first)) => last.key() <= first.key(),
            _ => true,
        };
        // Exact growth: the index is sized to its clips, not to the next power of two.
        self.records.reserve_exact(new.len());
        self.records.extend(new);
        if !already_sorted {
            self.records.sort_by_key(Record::key);
        }
        self.rebuild_class_starts();
    }

    fn rebuild_class_starts(&mut self) {
        let classes = self.classes.len();
        let mut starts = vec![0_u32; classes + 1];
        for record in &self.records {
            if let Some(next) = starts.get_mut(usize::from(record.class) + 1) {
                *next += 1;
            }
        }
        for c in 0..classes {
            starts[c + 1] += starts[c];
        }
        self.class_starts = starts;
    }

    /// The class table (names, versions, groups).
    pub fn classes(&self) -> &ClassTable {
        &self.classes
    }

    /// Number of clips.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// No clips?
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The loaded sources.
    pub fn sources(&self) -> impl Iterator<Item = (SourceId, &SourceInfo)> {
        (0..=u8::MAX)
            .zip(&self.sources)
            .filter_map(|(id, slot)| slot.as_ref().map(|(info, _)| (SourceId(id), info)))
    }

    /// A source by id.
    pub fn source(&self, id: SourceId) -> Option<&SourceInfo> {
        self.sources
            .get(usize::from(id.0))?
            .as_ref()
            .map(|(info, _)| info)
    }

    /// Bytes held by the clip records and the class offsets (the bulk of the index).
    pub fn heap_bytes(&self) -> usize {
        self.records.capacity() * std::mem::size_of::<Record>()
            + self.class_starts.capacity() * std::mem::size_of::<u32>()
    }

    fn source_matches(&self, source: u8, filter: &Filter) -> bool {
        if filter.source.is_some_and(|wanted| wanted.0 != source) {
            return false;
        }
        match filter.version {
            None => true,
            Some(version) => self
                .source(SourceId(source))
                .is_some_and(|info| info.version == Some(version)),
        }
    }

    /// Clip counts per class and split for the clips `filter` sees.
    pub fn counts(&self, filter: &Filter) -> Counts {
        let mut total = Counts {
            per_class: vec![[0; 3]; self.classes.len()],
            unlabelled: [0; 3],
        };
        for (id, slot) in (0..=u8::MAX).zip(&self.sources) {
            if let Some((_, counts)) = slot {
                if self.source_matches(id, filter) {
                    total.add(counts);
                }
            }
        }
        if let Some(split) = filter.split {
            let keep = split.index();
            for counts in total.per_class.iter_mut().chain([&mut total.unlabelled]) {
                for (index, count) in counts.iter_mut().enumerate() {
                    if index != keep {
                        *count = 0;
                    }
                }
            }
        }
        if let Some(group) = filter.group {
            let mask = self.classes.group_mask(group);
            for (counts, &in_group) in total.per_class.iter_mut().zip(&mask) {
                if !in_group {
                    *counts = [0; 3];
                }
            }
            total.unlabelled = [0; 3];
        }
        total
    }

    /// Totals for the clips `filter` sees.
    pub fn stats(&self, filter: &Filter) -> Stats {
        let counts = self.counts(filter);
        let [train, val, test] = counts.splits().map(u64::from);
        Stats {
            clips: counts.total(),
            labelled: counts.labelled(),
            classes: counts.classes_present(),
            splits: SplitCounts { train, val, test },
        }
    }

    fn range(&self, class: Option<ClassId>) -> Range<usize> {
        let at = |i: usize| {
            self.class_starts
                .get(i)
                .map_or(self.records.len(), |&s| s as usize)
        };
        match class {
            Some(id) if id.index() < self.classes.len() => at(id.index())..at(id.index() + 1),
            Some(_) => 0..0,
            None => at(self.classes.len())..self.records.len(),
        }
    }

    fn record_matches(&self, record: &Record, filter: &Filter) -> bool {
        filter.split.is_none_or(|split| split == record.split)
            && self.source_matches(record.source, filter)
    }

    /// The clips of a class (`None`: the unlabelled clips) that `filter` sees, sorted by YouTube id
    /// then segment. (`filter.group` is not applied here: the class is given.)
    pub fn clips<'a>(
        &'a self,
        class: Option<ClassId>,
        filter: &'a Filter,
    ) -> impl Iterator<Item = Clip> + 'a {
        self.records[self.range(class)]
            .iter()
            .filter(move |record| self.record_matches(record, filter))
            .map(Record::clip)
    }

    /// Every clip of a YouTube video (any class, split or source), by class then segment.
    pub fn clips_with_id(&self, id: YoutubeId) -> Vec<Clip> {
        let mut found = Vec::new();
        let classes = (0..self.classes.len())
            .filter_map(|c| u16::try_from(c).ok().map(|c| Some(ClassId(c))))
            .chain([None]);
        for class in classes {
            let run = &self.records[self.range(class)];
            let start = run.partition_point(|record| record.id < id);
            found.extend(
                run[start..]
                    .iter()
                    .take_while(|record| record.id == id)
                    .map(Record::clip),
            );
        }
        found
    }
}

#[cfg(test)]
mod tests;
