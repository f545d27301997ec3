//! The crate's error type: every failure names the file, and where it can, the line and field.

use std::fmt;

use crate::youtube::YoutubeId;

/// Longest value (in characters) quoted in an error message; longer values are cut with `…`.
const MAX_QUOTED_CHARS: usize = 40;

/// Everything that can go wrong while reading annotations or assets.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A field of a row (CSV) or entry (JSON) is malformed.
    ///
    /// Displays as `kinetics-400_val.csv line 17, field time_start: "abc" is not a number`.
    #[error("{file} line {line}, field {field}: {problem}")]
    Field {
        /// File name as given to [`crate::parse()`].
        file: String,
        /// 1-based line where the row or JSON entry starts.
        line: u64,
        /// Column name (`label`, `youtube_id`, `time_start`, `time_end`, `split`, `is_cc`), a JSON path
        /// (`annotations.segment`, `subset`), or `row` for a row with too many fields.
        field: &'static str,
        /// What is wrong with it.
        problem: FieldProblem,
    },
    /// The first line of a CSV file is not one of the official headers.
    #[error(
        "{file} line {line}: unrecognised header {found:?}: {reason}; expected \
         label,youtube_id,time_start,time_end,split[,is_cc] or youtube_id,time_start,time_end,split"
    )]
    Header {
        /// File name.
        file: String,
        /// 1-based line of the header (after any blank lines).
        line: u64,
        /// The header as found (cut if long).
        found: String,
        /// Which column is unknown, duplicated or missing.
        reason: String,
    },
    /// The file is not text: a NUL or control byte, or bytes that are not UTF-8, near its start.
    #[error("{file} line {line}: not a text file (byte 0x{byte:02x} at column {column}); expected a Kinetics CSV or JSON file")]
    NotText {
        /// File name.
        file: String,
        /// 1-based line of the first offending byte.
        line: u64,
        /// 1-based byte column of it.
        column: u64,
        /// The byte.
        byte: u8,
    },
    /// The file has no header and no data.
    #[error("{file}: empty file, expected a Kinetics CSV or JSON file")]
    Empty {
        /// File name.
        file: String,
    },
    /// The JSON is not well formed, or not the official layout (an object keyed by YouTube id).
    #[error("{file} line {line}, column {column}: {message}")]
    Json {
        /// File name.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// What the JSON parser or layout check says.
        message: String,
    },
    /// The CSV reader itself failed (it reads from memory, so this should not happen).
    #[error("{file} line {line}: {message}")]
    Csv {
        /// File name.
        file: String,
        /// 1-based line.
        line: u64,
        /// What the CSV reader says.
        message: String,
    },
    /// A value is not a YouTube id: 11 characters from `A-Z a-z 0-9 _ -`.
    #[error("{} is not a YouTube id (11 characters from A-Z, a-z, 0-9, _ and -)", Quoted(.value))]
    InvalidYoutubeId {
        /// The value (cut if long).
        value: String,
    },
    /// A binary asset (see [`crate::asset`]) is malformed.
    #[error("asset byte {offset}: {problem}")]
    Asset {
        /// Byte offset where decoding failed.
        offset: usize,
        /// What is wrong.
        problem: &'static str,
    },
    /// More distinct classes than a `u16` class index holds, or more files than a `u8` source index.
    #[error("{what}: at most {max} allowed")]
    TooMany {
        /// What overflowed (`classes`, `sources`, `labels in file.csv`).
        what: String,
        /// The limit.
        max: usize,
    },
}

/// What is wrong with one field. Displayed after `field NAME: ` in [`Error::Field`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldProblem {
    /// `"abc" is not a number`.
    NotANumber(String),
    /// A time that is negative, not finite, or too large for `u32` milliseconds.
    OutOfRange(String),
    /// The segment ends before it starts.
    EndBeforeStart {
        /// Start in milliseconds.
        start_ms: u32,
        /// End in milliseconds.
        end_ms: u32,
    },
    /// Not `[A-Za-z0-9_-]{11}`.
    InvalidYoutubeId(String),
    /// Not `train`, `val`/`validate`/`validation` or `test`.
    UnknownSplit(String),
    /// `is_cc` other than `0` or `1`.
    InvalidFlag(String),
    /// The field is missing: the row is shorter than the header (for example a truncated last line).
    Missing {
        /// Fields in the row.
        found: usize,
        /// Fields in the header.
        expected: usize,
    },
    /// The row has more fields than the header.
    Extra {
        /// Fields in the row.
        found: usize,
        /// Fields in the header.
        expected: usize,
    },
    /// The label is not UTF-8 text.
    NotUtf8,
    /// The label begins with `=`, `+`, `-`, `@`, a tab or a carriage return, so a spreadsheet opening an
    /// export of it would run it as a formula (see [`crate::parse::is_formula_like`]).
    FormulaLabel {
        /// The label (cut if long).
        label: String,
        /// The JSON entry's key; `None` in a CSV file, where the line already names the row.
        entry: Option<YoutubeId>,
    },
    /// A JSON value of the wrong type.
    WrongType {
        /// What was expected, e.g. `an array [start, end] of two numbers`.
        expected: &'static str,
    },
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotANumber(value) => write!(f, "{} is not a number", Quoted(value)),
            Self::OutOfRange(value) => write!(
                f,
                "{} is not a time in seconds from 0 to 4294967",
                Quoted(value)
            ),
            Self::EndBeforeStart { start_ms, end_ms } => write!(
                f,
                "the segment ends at {} s, before it starts at {} s",
                Millis(*end_ms),
                Millis(*start_ms)
            ),
            Self::InvalidYoutubeId(value) => write!(
                f,
                "{} is not a YouTube id (11 characters from A-Z, a-z, 0-9, _ and -)",
                Quoted(value)
            ),
            Self::UnknownSplit(value) => write!(
                f,
                "{} is not a split (train, val, validate or test)",
                Quoted(value)
            ),
            Self::InvalidFlag(value) => write!(f, "{} is not 0 or 1", Quoted(value)),
            Self::Missing { found, expected } => write!(
                f,
                "missing: the row has {found} of {expected} fields (truncated line?)"
            ),
            Self::Extra { found, expected } => {
                write!(f, "the row has {found} fields, the header {expected}")
            }
            Self::NotUtf8 => write!(f, "not UTF-8 text"),
            Self::FormulaLabel { label, entry } => {
                write!(f, "{}", Quoted(label))?;
                if let Some(entry) = entry {
                    write!(f, " (entry \"{entry}\")")?;
                }
                write!(
                    f,
                    ": a label may not begin with =, +, -, @, a tab or a carriage return \
                     (a spreadsheet would run it as a formula); no official Kinetics label does"
                )
            }
            Self::WrongType { expected } => write!(f, "expected {expected}"),
        }
    }
}

/// A value quoted with `{:?}` and cut to [`MAX_QUOTED_CHARS`] characters.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.char_indices().nth(MAX_QUOTED_CHARS) {
            Some((cut, _)) => write!(f, "{:?}…", &self.0[..cut]),
            None => write!(f, "{:?}", self.0),
        }
    }
}

/// Milliseconds shown as seconds without trailing zeros (`417`, `0.5`).
struct Millis(u32);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (seconds, millis) = (self.0 / 1000, self.0 % 1000);
        if millis == 0 {
            write!(f, "{seconds}")
        } else {
            let fraction = format!("{millis:03}");
            write!(f, "{seconds}.{}", fraction.trim_end_matches('0'))
        }
    }
}

/// Cuts a lossy rendering of raw bytes to a short, printable value for an error message.
pub(crate) fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().nth(MAX_QUOTED_CHARS * 2) {
        Some((cut, _)) => text[..cut].to_owned(),
        None => text.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_error_reads_like_the_issue() {
        let error = Error::Field {
            file: "kinetics-400_val.csv".into(),
            line: 17,
            field: "time_start",
            problem: FieldProblem::NotANumber("abc".into()),
        };
        assert_eq!(
            error.to_string(),
            r#"kinetics-400_val.csv line 17, field time_start: "abc" is not a number"#
        );
    }

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(100);
        let text = FieldProblem::NotANumber(long).to_string();
        assert!(
            text.starts_with(&format!("\"{}\"…", "x".repeat(40))),
            "{text}"
        );
    }

    #[test]
    fn millis_display() {
        let text = FieldProblem::EndBeforeStart {
            start_ms: 10_500,
            end_ms: 2_000,
        }
        .to_string();
        assert_eq!(text, "the segment ends at 2 s, before it starts at 10.5 s");
    }
}
