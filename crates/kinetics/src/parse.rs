//! Reading official Kinetics annotation files, CSV or JSON, detected from the content.
//!
//! Variants read (all published by the dataset authors):
//!
//! | variant | first line / shape |
//! | --- | --- |
//! | labelled CSV (Kinetics-400, with `is_cc`) | `label,youtube_id,time_start,time_end,split,is_cc` |
//! | labelled CSV (Kinetics-600/700) | `label,youtube_id,time_start,time_end,split` |
//! | unlabelled test CSV | `youtube_id,time_start,time_end,split` |
//! | JSON map | `{"ID": {"annotations": {"label": L, "segment": [S, E]}, "duration": D, "subset": "train"\|"validate"\|"test", "url": U}, …}` |
//!
//! CSV columns are matched by name (any order, case-insensitive, surrounding spaces ignored), so a
//! header that is not one of these is an [`Error::Header`]. Quoted fields, CRLF line ends, blank lines
//! and a UTF-8 byte order mark are accepted. Times are seconds (integer or decimal) stored as `u32`
//! milliseconds. A JSON `subset` of `validate` is the [`Split::Val`] split; the JSON `duration` and
//! `url` are not kept (the URL is rebuilt from the id, see [`crate::YoutubeId`]).
//!
//! A malformed row is an [`Error::Field`] naming file, line and field, unless
//! [`ReadOptions::skip_bad_rows`] is set: then the row is counted in [`Annotations::skipped`] and the
//! first few errors are kept.
//!
//! A label that a spreadsheet would run as a formula (see [`is_formula_like`]) is such a malformed
//! row: [`crate::export`] writes labels back unchanged, so refusing them here is what keeps an
//! exported CSV free of formulas. No official Kinetics label begins that way.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::de::{DeserializeSeed, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::{shown, Error, FieldProblem};
use crate::taxonomy::Version;
use crate::youtube::YoutubeId;

/// How many bytes at the start of a file are checked for binary content.
const SNIFF_BYTES: usize = 4096;

/// Most distinct labels one file may hold (label indices are `u16`).
pub const MAX_LABELS: usize = u16::MAX as usize;

/// The characters that make a spreadsheet (Excel, LibreOffice, Google Sheets) read a cell as a formula
/// when they begin it; tab and carriage return because some spreadsheets drop them and then evaluate what
/// follows (the OWASP "CSV injection" list).
pub const FORMULA_LEADS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `label` begins with one of [`FORMULA_LEADS`], so that a spreadsheet opening an export holding
/// it would run it (`=HYPERLINK("http://…")`, `@SUM(1+1)*cmd`). Such labels are refused by [`parse()`]
/// and [`crate::asset::decode`]; no official Kinetics label begins so.
pub fn is_formula_like(label: &str) -> bool {
    label.starts_with(FORMULA_LEADS)
}

/// A dataset split.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Training split.
    Train,
    /// Validation split (`val` in CSV files, `validate` in JSON files).
    Val,
    /// Test split.
    Test,
}

impl Split {
    /// All splits in their usual order; [`Split::index`] is the position here.
    pub const ALL: [Split; 3] = [Split::Train, Split::Val, Split::Test];

    /// `train`, `val` or `test`.
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }

    /// 0, 1 or 2: the position in [`Split::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The split at position `index` of [`Split::ALL`].
    pub fn from_index(index: usize) -> Option<Split> {
        Split::ALL.get(index).copied()
    }

    /// Reads `train`, `val`, `validate`, `validation` or `test` (ASCII case-insensitive).
    pub fn parse(text: &str) -> Option<Split> {
        Self::parse_bytes(text.as_bytes())
    }

    fn parse_bytes(bytes: &[u8]) -> Option<Split> {
        match bytes {
            b"val" => Some(Split::Val),
            b"train" => Some(Split::Train),
            b"test" => Some(Split::Test),
            _ => {
                let is = |name: &str| bytes.eq_ignore_ascii_case(name.as_bytes());
                if is("val") || is("validate") || is("validation") {
                    Some(Split::Val)
                } else if is("train") {
                    Some(Split::Train)
                } else if is("test") {
                    Some(Split::Test)
                } else {
                    None
                }
            }
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A time segment of a video, in milliseconds from the start of the video; `start_ms <= end_ms`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Segment {
    /// Start, milliseconds.
    pub start_ms: u32,
    /// End, milliseconds.
    pub end_ms: u32,
}

impl Segment {
    /// The segment `start_ms..end_ms`, or `None` if it ends before it starts.
    pub fn new(start_ms: u32, end_ms: u32) -> Option<Segment> {
        (start_ms <= end_ms).then_some(Segment { start_ms, end_ms })
    }

    /// Length in milliseconds.
    pub fn duration_ms(self) -> u32 {
        self.end_ms - self.start_ms
    }

    /// Start in seconds.
    pub fn start_seconds(self) -> f64 {
        f64::from(self.start_ms) / 1000.0
    }

    /// End in seconds.
    pub fn end_seconds(self) -> f64 {
        f64::from(self.end_ms) / 1000.0
    }
}

/// Which official variant a file was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// CSV; `labelled` if it has a `label` column, `is_cc` if it has an `is_cc` column.
    Csv {
        /// Has a `label` column.
        labelled: bool,
        /// Has an `is_cc` column (Kinetics-400).
        is_cc: bool,
    },
    /// The JSON map keyed by YouTube id.
    Json,
}

/// Options for [`parse()`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// Skip malformed rows (counting them in [`Annotations::skipped`]) instead of failing on the first.
    /// Errors that concern the whole file (header, binary content, broken JSON) still fail.
    pub skip_bad_rows: bool,
    /// How many of the skipped rows' errors to keep in [`Skipped::first_errors`].
    pub keep_errors: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            skip_bad_rows: false,
            keep_errors: 5,
        }
    }
}

impl ReadOptions {
    /// Options that skip malformed rows, keeping the first five errors.
    pub fn skipping() -> Self {
        ReadOptions {
            skip_bad_rows: true,
            ..Default::default()
        }
    }
}

/// Rows skipped under [`ReadOptions::skip_bad_rows`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Skipped {
    /// Number of rows (CSV) or entries (JSON) skipped.
    pub rows: usize,
    /// The first [`ReadOptions::keep_errors`] errors, in file order.
    pub first_errors: Vec<Error>,
}

/// One annotation row: a clip of a video, with a label index into [`Annotations::labels`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AnnotatedClip {
    /// The video.
    pub youtube_id: YoutubeId,
    /// Where in the video.
    pub segment: Segment,
    /// Index into [`Annotations::labels`]; `None` for unlabelled (test) rows or an empty label.
    pub label: Option<u16>,
    /// The split.
    pub split: Split,
    /// The Kinetics-400 `is_cc` flag (Creative Commons licence), where the file has that column.
    pub is_cc: Option<bool>,
}

/// The content of one annotation file.
///
/// A video may hold several clips: a clip is (YouTube id, segment), and ids may repeat with different
/// segments and labels (the Kinetics-600 validation file has 6 such ids).
#[derive(Debug, Clone, PartialEq)]
pub struct Annotations {
    /// The file name given to [`parse()`], used in messages and as the source name in an [`crate::Index`].
    pub source: String,
    /// The variant detected.
    pub format: Format,
    /// Distinct labels in order of first appearance; [`AnnotatedClip::label`] indexes this.
    pub labels: Vec<String>,
    /// The rows, in file order.
    pub clips: Vec<AnnotatedClip>,
    /// Rows skipped as malformed (always empty unless [`ReadOptions::skip_bad_rows`]).
    pub skipped: Skipped,
}

impl Annotations {
    /// The label text of a clip.
    pub fn label(&self, clip: &AnnotatedClip) -> Option<&str> {
        clip.label
            .and_then(|index| self.labels.get(usize::from(index)))
            .map(String::as_str)
    }

    /// Number of clips with a label.
    pub fn labelled(&self) -> usize {
        self.clips
            .iter()
            .filter(|clip| clip.label.is_some())
            .count()
    }

    /// The dataset version, from the labels when they decide it, else from the file name
    /// (`…400…` or `…600…`); `None` when neither does (for example Kinetics-700 files).
    pub fn guess_version(&self) -> Option<Version> {
        let used: Vec<&str> = {
            let mut seen = vec![false; self.labels.len()];
            for clip in &self.clips {
                if let Some(slot) = clip.label.and_then(|l| seen.get_mut(usize::from(l))) {
                    *slot = true;
                }
            }
            self.labels
                .iter()
                .zip(seen)
                .filter(|(_, seen)| *seen)
                .map(|(label, _)| label.as_str())
                .collect()
        };
        if !used.is_empty() {
            let in_400 = used.iter().all(|l| Version::K400.label_index(l).is_some());
            let in_600 = used.iter().all(|l| Version::K600.label_index(l).is_some());
            match (in_400, in_600) {
                (true, false) => return Some(Version::K400),
                (false, true) => return Some(Version::K600),
                (false, false) => return None,
                (true, true) => {}
            }
        }
        let name = self.source.rsplit(['/', '\\']).next().unwrap_or_default();
        match (name.contains("400"), name.contains("600")) {
            (true, false) => Some(Version::K400),
            (false, true) => Some(Version::K600),
            _ => None,
        }
    }
}

/// Reads one annotation file of any official variant (see the module docs).
///
/// `file` names the file in errors and becomes [`Annotations::source`]; `bytes` is its content.
pub fn parse(file: &str, bytes: &[u8], options: &ReadOptions) -> Result<Annotations, Error> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    check_text(file, bytes)?;
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => Err(Error::Empty { file: file.into() }),
        Some(b'{') | Some(b'[') => parse_json(file, bytes, options),
        Some(_) => parse_csv(file, bytes, options),
    }
}

/// Rejects binary content: control bytes or invalid UTF-8 in the first [`SNIFF_BYTES`] bytes.
fn check_text(file: &str, bytes: &[u8]) -> Result<(), Error> {
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    let control = head
        .iter()
        .position(|&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f);
    let invalid = match std::str::from_utf8(head) {
        // An error at the very end may be a character cut by the sniff window.
        Err(e) if e.error_len().is_some() || head.len() == bytes.len() => Some(e.valid_up_to()),
        _ => None,
    };
    let at = match (control, invalid) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => return Ok(()),
    };
    let (line, column) = line_column(bytes, at);
    Err(Error::NotText {
        file: file.into(),
        line,
        column,
        byte: bytes.get(at).copied().unwrap_or_default(),
    })
}

/// 1-based line and byte column of `offset` in `bytes`.
fn line_column(bytes: &[u8], offset: usize) -> (u64, u64) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    (line, (before.len() - line_start) as u64 + 1)
}

/// Label text → index, with a one-entry cache (official files are grouped by label).
#[derive(Default)]
struct Interner {
    labels: Vec<String>,
    map: HashMap<Box<[u8]>, u16>,
    last: Option<u16>,
}

impl Interner {
    /// The index of `label`; `Ok(None)` for an empty label; `Err` if not UTF-8, formula-like (see
    /// [`is_formula_like`]) or too many labels.
    fn intern(&mut self, label: &[u8]) -> Result<Option<u16>, InternError> {
        if label.is_empty() {
            return Ok(None);
        }
        if let Some(last) = self.last {
            if self.labels.get(usize::from(last)).map(String::as_bytes) == Some(label) {
                return Ok(Some(last));
            }
        }
        let index = match self.map.get(label) {
            Some(&index) => index,
            None => {
                let text = std::str::from_utf8(label).map_err(|_| InternError::NotUtf8)?;
                // Checked once per distinct label: a refused one is never added, so never cached.
                if is_formula_like(text) {
                    return Err(InternError::FormulaLike);
                }
                let index = u16::try_from(self.labels.len())
                    .ok()
                    .filter(|&i| usize::from(i) < MAX_LABELS)
                    .ok_or(InternError::TooMany)?;
                self.labels.push(text.to_owned());
                self.map.insert(label.into(), index);
                index
            }
        };
        self.last = Some(index);
        Ok(Some(index))
    }
}

enum InternError {
    NotUtf8,
    FormulaLike,
    TooMany,
}

/// Collects clips and skipped rows, and turns row problems into errors.
struct Sink<'a> {
    file: &'a str,
    options: &'a ReadOptions,
    interner: Interner,
    clips: Vec<AnnotatedClip>,
    skipped: Skipped,
}

impl<'a> Sink<'a> {
    fn new(file: &'a str, options: &'a ReadOptions, capacity: usize) -> Self {
        Sink {
            file,
            options,
            interner: Interner::default(),
            clips: Vec::with_capacity(capacity),
            skipped: Skipped::default(),
        }
    }

    /// Records a bad row: skipped if the options say so, else the error to return.
    fn bad_row(
        &mut self,
        line: u64,
        field: &'static str,
        problem: FieldProblem,
    ) -> Result<(), Error> {
        let error = Error::Field {
            file: self.file.into(),
            line,
            field,
            problem,
        };
        if !self.options.skip_bad_rows {
            return Err(error);
        }
        self.skipped.rows += 1;
        if self.skipped.first_errors.len() < self.options.keep_errors {
            self.skipped.first_errors.push(error);
        }
        Ok(())
    }

    /// The index of the (trimmed) `label` read from `field`; `entry` is the JSON entry's key, named in a
    /// formula-like label's error because official JSON files are a single line.
    fn label(
        &mut self,
        field: &'static str,
        label: &[u8],
        entry: Option<YoutubeId>,
    ) -> Result<Option<u16>, RowError> {
        self.interner.intern(label).map_err(|e| match e {
            InternError::NotUtf8 => RowError::Field(field, FieldProblem::NotUtf8),
            InternError::FormulaLike => RowError::Field(
                field,
                FieldProblem::FormulaLabel {
                    label: shown(label),
                    entry,
                },
            ),
            InternError::TooMany => RowError::Fatal(Error::TooMany {
                what: format!("labels in {}", self.file),
                max: MAX_LABELS,
            }),
        })
    }

    fn finish(self, format: Format) -> Annotations {
        Annotations {
            source: self.file.into(),
            format,
            labels: self.interner.labels,
            clips: self.clips,
            skipped: self.skipped,
        }
    }
}

/// Why a row was not read.
enum RowError {
    /// A field problem: the row can be skipped.
    Field(&'static str, FieldProblem),
    /// Cannot go on.
    Fatal(Error),
}

impl From<(&'static str, FieldProblem)> for RowError {
    fn from((field, problem): (&'static str, FieldProblem)) -> Self {
        RowError::Field(field, problem)
    }
}

// ---------------------------------------------------------------------------------------------- CSV

/// Column positions of a CSV header.
struct Columns {
    label: Option<usize>,
    youtube_id: usize,
    time_start: usize,
    time_end: usize,
    split: usize,
    is_cc: Option<usize>,
    /// Column name at each position.
    names: Vec<&'static str>,
}

const COLUMN_NAMES: [&str; 6] = [
    "label",
    "youtube_id",
    "time_start",
    "time_end",
    "split",
    "is_cc",
];

impl Columns {
    fn from_header(header: &csv::ByteRecord) -> Result<Columns, String> {
        let mut positions = [None::<usize>; 6];
        let mut names = Vec::with_capacity(header.len());
        for (position, raw) in header.iter().enumerate() {
            let name = String::from_utf8_lossy(raw.trim_ascii()).to_ascii_lowercase();
            let Some(column) = COLUMN_NAMES.iter().position(|&known| known == name) else {
                return Err(format!("unknown column {name:?}"));
            };
            if positions[column].replace(position).is_some() {
                return Err(format!("column {name:?} appears twice"));
            }
            names.push(COLUMN_NAMES[column]);
        }
        let required = |column: usize| {
            positions[column].ok_or_else(|| format!("no {:?} column", COLUMN_NAMES[column]))
        };
        Ok(Columns {
            label: positions[0],
            youtube_id: required(1)?,
            time_start: required(2)?,
            time_end: required(3)?,
            split: required(4)?,
            is_cc: positions[5],
            names,
        })
    }
}

fn parse_csv(file: &str, bytes: &[u8], options: &ReadOptions) -> Result<Annotations, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    let csv_error = |e: csv::Error| Error::Csv {
        file: file.into(),
        line: e.position().map_or(0, csv::Position::line),
        message: e.to_string(),
    };
    if !reader.read_byte_record(&mut record).map_err(csv_error)? {
        return Err(Error::Empty { file: file.into() });
    }
    let header_line = line_of(&record);
    let columns = Columns::from_header(&record).map_err(|reason| {
        let found: Vec<Cow<'_, str>> = record.iter().map(String::from_utf8_lossy).collect();
        Error::Header {
            file: file.into(),
            line: header_line,
            found: shown(found.join(",").as_bytes()),
            reason,
        }
    })?;
    let format = Format::Csv {
        labelled: columns.label.is_some(),
        is_cc: columns.is_cc.is_some(),
    };
    // Official rows are about 40 bytes long.
    let mut sink = Sink::new(file, options, bytes.len() / 40 + 1);
    while reader.read_byte_record(&mut record).map_err(csv_error)? {
        match csv_row(&columns, &record, &mut sink) {
            Ok(clip) => sink.clips.push(clip),
            Err(RowError::Field(field, problem)) => {
                sink.bad_row(line_of(&record), field, problem)?
            }
            Err(RowError::Fatal(error)) => return Err(error),
        }
    }
    Ok(sink.finish(format))
}

fn line_of(record: &csv::ByteRecord) -> u64 {
    record.position().map_or(0, csv::Position::line)
}

/// Reads one data row.
fn csv_row(
    columns: &Columns,
    record: &csv::ByteRecord,
    sink: &mut Sink<'_>,
) -> Result<AnnotatedClip, RowError> {
    let expected = columns.names.len();
    if record.len() < expected {
        let field = columns.names[record.len()];
        let found = record.len();
        return Err((field, FieldProblem::Missing { found, expected }).into());
    }
    if record.len() > expected {
        let found = record.len();
        return Err(("row", FieldProblem::Extra { found, expected }).into());
    }
    let field = |position: usize| record.get(position).unwrap_or_default().trim_ascii();
    let raw_id = field(columns.youtube_id);
    let youtube_id = YoutubeId::try_from_bytes(raw_id)
        .ok_or_else(|| ("youtube_id", FieldProblem::InvalidYoutubeId(shown(raw_id))))?;
    let segment = segment(
        parse_time(field(columns.time_start)).map_err(|p| ("time_start", p))?,
        parse_time(field(columns.time_end)).map_err(|p| ("time_end", p))?,
    )?;
    let raw_split = field(columns.split);
    let split = Split::parse_bytes(raw_split)
        .ok_or_else(|| ("split", FieldProblem::UnknownSplit(shown(raw_split))))?;
    let is_cc = match columns.is_cc.map(field) {
        None | Some(b"") => None,
        Some(b"0") => Some(false),
        Some(b"1") => Some(true),
        Some(other) => return Err(("is_cc", FieldProblem::InvalidFlag(shown(other))).into()),
    };
    // Last, so that only rows that are read add labels.
    let label = match columns.label {
        Some(position) => sink.label("label", field(position), None)?,
        None => None,
    };
    Ok(AnnotatedClip {
        youtube_id,
        segment,
        label,
        split,
        is_cc,
    })
}

fn segment(start_ms: u32, end_ms: u32) -> Result<Segment, RowError> {
    Segment::new(start_ms, end_ms).ok_or_else(|| {
        (
            "time_end",
            FieldProblem::EndBeforeStart { start_ms, end_ms },
        )
            .into()
    })
}

/// Seconds (`417`, `12.5`) → milliseconds.
fn parse_time(bytes: &[u8]) -> Result<u32, FieldProblem> {
    if !bytes.is_empty() && bytes.len() <= 9 && bytes.iter().all(u8::is_ascii_digit) {
        let seconds = bytes
            .iter()
            .fold(0_u64, |n, &d| n * 10 + u64::from(d - b'0'));
        return u32::try_from(seconds * 1000).map_err(|_| FieldProblem::OutOfRange(shown(bytes)));
    }
    let seconds: f64 = std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| FieldProblem::NotANumber(shown(bytes)))?;
    seconds_to_ms(seconds).ok_or_else(|| FieldProblem::OutOfRange(shown(bytes)))
}

/// Seconds → milliseconds, rounded; `None` if negative, not finite or above `u32::MAX` ms.
fn seconds_to_ms(seconds: f64) -> Option<u32> {
    let ms = (seconds * 1000.0).round();
    // The range check makes the cast exact.
    (ms.is_finite() && (0.0..=f64::from(u32::MAX)).contains(&ms)).then_some(ms as u32)
}

// --------------------------------------------------------------------------------------------- JSON

fn parse_json(file: &str, bytes: &[u8], options: &ReadOptions) -> Result<Annotations, Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_column(bytes, e.valid_up_to());
        Error::NotText {
            file: file.into(),
            line,
            column,
            byte: bytes.get(e.valid_up_to()).copied().unwrap_or_default(),
        }
    })?;
    let json_error = |e: serde_json::Error| Error::Json {
        file: file.into(),
        line: e.line() as u64,
        column: e.column() as u64,
        message: strip_position(&e.to_string()),
    };
    // Official entries are about 170 bytes long when pretty-printed.
    let mut state = JsonState {
        sink: Sink::new(file, options, text.len() / 170 + 1),
        text,
        cursor: (0, 1),
        fatal: None,
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let result = JsonSeed(&mut state).deserialize(&mut deserializer);
    if let Some(fatal) = state.fatal.take() {
        return Err(fatal);
    }
    result.map_err(json_error)?;
    deserializer.end().map_err(json_error)?;
    Ok(state.sink.finish(Format::Json))
}

/// serde_json appends ` at line L column C`; the position is kept in fields instead.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_owned(),
        None => message.to_owned(),
    }
}

struct JsonState<'a, 'de> {
    sink: Sink<'a>,
    text: &'de str,
    /// A byte offset in `text` and its 1-based line, advanced as entries are read.
    cursor: (usize, u64),
    /// A row error that stops reading (the serde error returned alongside is a placeholder).
    fatal: Option<Error>,
}

impl JsonState<'_, '_> {
    /// The line of `offset`, counting newlines from the last offset asked for.
    fn line_at(&mut self, offset: usize) -> u64 {
        let (from, line) = self.cursor;
        let newlines = self
            .text
            .as_bytes()
            .get(from..offset)
            .map_or(0, |gap| gap.iter().filter(|&&b| b == b'\n').count());
        let line = line + newlines as u64;
        self.cursor = (offset.max(from), line);
        line
    }

    fn entry(&mut self, id: Result<YoutubeId, String>, raw: &RawValue) -> Result<(), Error> {
        let offset = (raw.get().as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize);
        let line = self.line_at(offset);
        match json_entry(id, raw, &mut self.sink) {
            Ok(clip) => {
                self.sink.clips.push(clip);
                Ok(())
            }
            Err(RowError::Field(field, problem)) => self.sink.bad_row(line, field, problem),
            Err(RowError::Fatal(error)) => Err(error),
        }
    }
}

/// Deserializes the top-level map, handing each entry to [`JsonState::entry`] as it is read (so
/// repeated ids are all kept, and nothing but the clips is held in memory).
struct JsonSeed<'s, 'a, 'de>(&'s mut JsonState<'a, 'de>);

impl<'de> DeserializeSeed<'de> for JsonSeed<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for JsonSeed<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object mapping YouTube ids to {\"annotations\": {\"label\", \"segment\"}, \"subset\", …}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(IdKey(id)) = map.next_key()? {
            let raw: &'de RawValue = map.next_value()?;
            if let Err(error) = self.0.entry(id, raw) {
                self.0.fatal = Some(error);
                return Err(serde::de::Error::custom("stopped at a malformed entry"));
            }
        }
        Ok(())
    }
}

/// A map key read as a YouTube id without allocating; `Err` holds the invalid key for the message.
struct IdKey(Result<YoutubeId, String>);

impl<'de> serde::Deserialize<'de> for IdKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = IdKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a YouTube id")
            }
            fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<IdKey, E> {
                let bytes = key.as_bytes();
                Ok(IdKey(
                    YoutubeId::try_from_bytes(bytes).ok_or_else(|| shown(bytes)),
                ))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Reads one `{annotations: {label, segment}, subset, …}` entry.
fn json_entry(
    id: Result<YoutubeId, String>,
    raw: &RawValue,
    sink: &mut Sink<'_>,
) -> Result<AnnotatedClip, RowError> {
    let youtube_id = id.map_err(|key| ("youtube_id", FieldProblem::InvalidYoutubeId(key)))?;
    // The raw entry is well-formed JSON (the outer parse checked it); reading it as a value fails only on a number
    // beyond f64 (`1e400`) or nesting deeper than serde_json's 128 levels: a bad entry, skippable like any other.
    let entry: Value = serde_json::from_str(raw.get()).map_err(|_| {
        (
            "entry",
            FieldProblem::WrongType {
                expected:
                    "an entry whose numbers fit in 64-bit floats, nested at most 128 levels deep",
            },
        )
    })?;
    let Value::Object(entry) = entry else {
        return Err((
            "entry",
            FieldProblem::WrongType {
                expected: "an object",
            },
        )
            .into());
    };
    let annotations = match entry.get("annotations") {
        Some(Value::Object(annotations)) => annotations,
        _ => {
            let expected = "an object {\"label\": …, \"segment\": [start, end]}";
            return Err(("annotations", FieldProblem::WrongType { expected }).into());
        }
    };
    let segment = match annotations.get("segment") {
        Some(Value::Array(pair)) if pair.len() == 2 => {
            let start = json_time(&pair[0]).map_err(|p| ("annotations.segment", p))?;
            let end = json_time(&pair[1]).map_err(|p| ("annotations.segment", p))?;
            Segment::new(start, end).ok_or((
                "annotations.segment",
                FieldProblem::EndBeforeStart {
                    start_ms: start,
                    end_ms: end,
                },
            ))?
        }
        _ => {
            let expected = "an array [start, end] of two numbers of seconds";
            return Err(("annotations.segment", FieldProblem::WrongType { expected }).into());
        }
    };
    let split = match entry.get("subset") {
        Some(Value::String(subset)) => Split::parse(subset.trim()).ok_or_else(|| {
            (
                "subset",
                FieldProblem::UnknownSplit(shown(subset.as_bytes())),
            )
        })?,
        _ => {
            let expected = "a string: train, validate or test";
            return Err(("subset", FieldProblem::WrongType { expected }).into());
        }
    };
    // Last, so that only entries that are read add labels.
    let label = match annotations.get("label") {
        None | Some(Value::Null) => None,
        Some(Value::String(label)) => sink.label(
            "annotations.label",
            label.trim().as_bytes(),
            Some(youtube_id),
        )?,
        Some(_) => {
            let expected = "a string";
            return Err(("annotations.label", FieldProblem::WrongType { expected }).into());
        }
    };
    Ok(AnnotatedClip {
        youtube_id,
        segment,
        label,
        split,
        is_cc: None,
    })
}

/// A JSON number of seconds (a numeric string is accepted too) → milliseconds.
fn json_time(value: &Value) -> Result<u32, FieldProblem> {
    match value {
        Value::Number(number) => {
            let seconds = number.as_f64().unwrap_or(f64::NAN);
            seconds_to_ms(seconds).ok_or_else(|| FieldProblem::OutOfRange(number.to_string()))
        }
        Value::String(text) => parse_time(text.trim().as_bytes()),
        other => Err(FieldProblem::NotANumber(shown(
            other.to_string().as_bytes(),
        ))),
    }
}

#[cfg(test)]
mod tests;
