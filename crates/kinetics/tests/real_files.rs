//! Acceptance tests on the real annotation files in `../shared/data/kinetics`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{HashMap, HashSet};

use common::{shared, shared_bytes, to_official_json, FILES};
use kinetics::{
    asset, parse, taxonomy, Annotations, Change, Error, FieldProblem, Filter, Format, Index, Merge,
    ReadOptions, Split, Version,
};

fn distinct_labels(annotations: &Annotations) -> usize {
    annotations
        .clips
        .iter()
        .filter_map(|clip| clip.label)
        .collect::<HashSet<_>>()
        .len()
}

#[test]
fn k400_val() {
    let val = shared("kinetics-400_val.csv");
    assert_eq!(
        val.format,
        Format::Csv {
            labelled: true,
            is_cc: true
        }
    );
    assert_eq!(val.clips.len(), 19_906);
    assert_eq!(val.labelled(), 19_906);
    assert_eq!(distinct_labels(&val), 400);
    assert!(val.clips.iter().all(|c| c.split == Split::Val));
    assert_eq!(
        val.clips.iter().filter(|c| c.is_cc == Some(true)).count(),
        519
    );
    assert_eq!(val.guess_version(), Some(Version::K400));
    let mut labels = val.labels.clone();
    labels.sort();
    assert_eq!(
        labels,
        Version::K400.classes(),
        "the file's labels are the taxonomy's"
    );
    assert!(val.clips.iter().all(|c| c.segment.duration_ms() == 10_000));
}

#[test]
fn k600_val_has_videos_with_two_clips() {
    let val = shared("kinetics-600_val.csv");
    assert_eq!(
        val.format,
        Format::Csv {
            labelled: true,
            is_cc: false
        }
    );
    assert_eq!(
        (val.clips.len(), val.labelled(), distinct_labels(&val)),
        (30_000, 30_000, 600)
    );
    assert_eq!(val.guess_version(), Some(Version::K600));
    let mut per_id: HashMap<_, Vec<_>> = HashMap::new();
    for clip in &val.clips {
        per_id.entry(clip.youtube_id).or_default().push(*clip);
    }
    assert_eq!(per_id.len(), 29_994);
    let repeated: Vec<_> = per_id.values().filter(|clips| clips.len() > 1).collect();
    assert_eq!(repeated.len(), 6);
    for clips in repeated {
        assert_eq!(clips.len(), 2);
        assert_ne!(clips[0].segment, clips[1].segment);
        assert_ne!(clips[0].label, clips[1].label);
    }
    let mut index = Index::new();
    index.insert(val, None, Merge::Extend).unwrap();
    assert_eq!(
        index.len(),
        30_000,
        "the index keeps both clips of each such video"
    );
    let id = kinetics::YoutubeId::parse("xnC3nngvLCo").unwrap();
    let names: Vec<_> = index
        .clips_with_id(id)
        .iter()
        .map(|c| index.classes().name(c.label.unwrap()).unwrap().to_owned())
        .collect();
    assert_eq!(names, ["cracking neck", "cracking knuckles"]);
}

#[test]
fn test_files_are_unlabelled() {
    for (name, rows) in [
        ("kinetics-400_test.csv", 38_685),
        ("kinetics-600_test.csv", 72_924),
    ] {
        let test = shared(name);
        assert_eq!(
            test.format,
            Format::Csv {
                labelled: false,
                is_cc: false
            }
        );
        assert_eq!((test.clips.len(), test.labelled()), (rows, 0), "{name}");
        assert!(test.clips.iter().all(|c| c.split == Split::Test));
    }
}

#[test]
fn index_of_all_four_files() {
    let mut index = Index::new();
    for (name, _) in FILES {
        index.insert(shared(name), None, Merge::Extend).unwrap();
    }
    let all = index.stats(&Filter::default());
    assert_eq!(all.clips, 161_515);
    assert_eq!(all.labelled, 49_906);
    assert_eq!(
        all.classes, 632,
        "400 + 232 classes new or renamed in Kinetics-600"
    );
    assert_eq!(
        (all.splits.train, all.splits.val, all.splits.test),
        (0, 49_906, 111_609)
    );

    let k400 = index.stats(&Filter {
        version: Some(Version::K400),
        ..Default::default()
    });
    assert_eq!(
        (k400.clips, k400.labelled, k400.classes),
        (58_591, 19_906, 400)
    );
    let k600_val = Filter {
        version: Some(Version::K600),
        split: Some(Split::Val),
        ..Default::default()
    };
    let k600 = index.stats(&k600_val);
    assert_eq!((k600.clips, k600.classes), (30_000, 600));

    let counts = index.counts(&Filter {
        version: Some(Version::K600),
        ..Default::default()
    });
    for label in 0..600 {
        let class = index
            .classes()
            .by_label_index(Version::K600, label)
            .unwrap();
        assert_eq!(
            counts.class(class),
            [0, 50, 0],
            "50 validation clips per Kinetics-600 class"
        );
    }
    let music = taxonomy::groups()
        .iter()
        .position(|g| g.name == "music")
        .unwrap();
    let in_music = index.stats(&Filter {
        group: Some(music),
        version: Some(Version::K400),
        ..Default::default()
    });
    assert_eq!(in_music.classes, 29);

    let abseiling = index.classes().id("abseiling").unwrap();
    let clips: Vec<_> = index.clips(Some(abseiling), &Filter::default()).collect();
    assert_eq!(clips.len(), 100, "50 in each validation file");
    assert!(clips.windows(2).all(|w| w[0].youtube_id <= w[1].youtube_id));
    assert!(
        index.heap_bytes() < 161_515 * 25 + 4 * 1024,
        "{}",
        index.heap_bytes()
    );
}

/// Every rename and split in the taxonomy is backed by Kinetics-400 validation clips that reappear in
/// the Kinetics-600 validation file under the new name; no removed class has more than a handful of
/// clips that moved to any one Kinetics-600 class.
#[test]
fn changes_are_backed_by_clips_shared_between_the_val_files() {
    let k400 = shared("kinetics-400_val.csv");
    let k600 = shared("kinetics-600_val.csv");
    let old: HashMap<_, &str> = k400
        .clips
        .iter()
        .map(|c| (c.youtube_id, k400.label(c).unwrap()))
        .collect();
    let mut moved: HashMap<(&str, &str), usize> = HashMap::new();
    for clip in &k600.clips {
        if let Some(&from) = old.get(&clip.youtube_id) {
            *moved.entry((from, k600.label(clip).unwrap())).or_default() += 1;
        }
    }
    for change in taxonomy::k400_to_k600_changes() {
        match change {
            Change::Renamed { from, to } => {
                let n = moved.get(&(*from, *to)).copied().unwrap_or(0);
                assert!(n >= 20, "{from} -> {to}: {n} shared clips");
            }
            Change::Split { from, into } => {
                let n: usize = into
                    .iter()
                    .map(|to| moved.get(&(*from, *to)).copied().unwrap_or(0))
                    .sum();
                assert!(n >= 20, "{from} -> {into:?}: {n} shared clips");
            }
            Change::Removed { from } => {
                let most = moved
                    .iter()
                    .filter(|((f, _), _)| f == from)
                    .map(|(_, &n)| n)
                    .max()
                    .unwrap_or(0);
                assert!(most < 10, "{from}: {most} clips moved to one class");
            }
        }
    }
    // Kept classes keep their clips under the same name.
    let same: usize = moved
        .iter()
        .filter(|((f, t), _)| f == t)
        .map(|(_, &n)| n)
        .sum();
    assert!(same > 13_000, "{same}");
}

#[test]
fn official_json_layout_gives_the_same_counts() {
    let dir = tempfile::tempdir().unwrap();
    for (name, rows) in FILES {
        let csv = shared(name);
        let json_path = dir.path().join(name.replace(".csv", ".json"));
        std::fs::write(&json_path, to_official_json(&csv)).unwrap();
        let bytes = std::fs::read(&json_path).unwrap();
        let json = parse("k.json", &bytes, &ReadOptions::default()).unwrap();
        assert_eq!(json.format, Format::Json);
        assert_eq!(json.clips.len(), rows, "{name}");
        assert_eq!(json.labelled(), csv.labelled(), "{name}");
        assert_eq!(distinct_labels(&json), distinct_labels(&csv), "{name}");
        assert_eq!(json.labels, csv.labels, "{name}");
        let strip_cc: Vec<_> = csv
            .clips
            .iter()
            .map(|c| kinetics::AnnotatedClip { is_cc: None, ..*c })
            .collect();
        assert_eq!(json.clips, strip_cc, "{name}: same clips in the same order");
    }
}

#[test]
fn asset_round_trip_and_size() {
    for (name, _) in FILES {
        let csv_bytes = shared_bytes(name);
        let annotations = shared(name);
        let encoded = asset::encode(&annotations);
        assert_eq!(asset::decode(&encoded).unwrap(), annotations, "{name}");
        let per_clip = encoded.len() as f64 / annotations.clips.len() as f64;
        println!(
            "{name}: CSV {} bytes, asset {} bytes ({per_clip:.2} bytes/clip, {:.1}% of the CSV)",
            csv_bytes.len(),
            encoded.len(),
            100.0 * encoded.len() as f64 / csv_bytes.len() as f64
        );
        assert!(per_clip < 14.5, "{name}: {per_clip}");
    }
}

// ------------------------------------------------------------------------------ malformed inputs

fn k400_val_with(edit: impl FnOnce(&mut Vec<String>)) -> Vec<u8> {
    let text = String::from_utf8(shared_bytes("kinetics-400_val.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    edit(&mut lines);
    lines.join("\n").into_bytes()
}

fn strict(bytes: &[u8]) -> Error {
    parse("kinetics-400_val.csv", bytes, &ReadOptions::default()).unwrap_err()
}

#[test]
fn bad_number() {
    // Line 17 is `abseiling,CBL6uetTPHg,89,99,val,0`.
    let bytes = k400_val_with(|lines| lines[16] = lines[16].replace(",89,", ",abc,"));
    assert_eq!(
        strict(&bytes).to_string(),
        r#"kinetics-400_val.csv line 17, field time_start: "abc" is not a number"#
    );
}

#[test]
fn truncated_line() {
    let bytes = shared_bytes("kinetics-400_val.csv");
    // Cut the file in the middle of its last row, in its third field: `zumba,ID,3`.
    let last_row_start = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 1;
    let commas: Vec<usize> = (last_row_start..bytes.len())
        .filter(|&i| bytes[i] == b',')
        .collect();
    let cut = &bytes[..commas[1] + 2];
    assert!(
        cut.ends_with(b",3"),
        "{:?}",
        String::from_utf8_lossy(&cut[last_row_start..])
    );
    let error = strict(cut);
    assert_eq!(
        error,
        Error::Field {
            file: "kinetics-400_val.csv".into(),
            line: 19_907,
            field: "time_end",
            problem: FieldProblem::Missing {
                found: 3,
                expected: 6
            }
        },
        "{error}"
    );
}

#[test]
fn bad_id() {
    let bytes = k400_val_with(|lines| lines[99] = lines[99].replacen(',', ",x", 1));
    match strict(&bytes) {
        Error::Field {
            line: 100,
            field: "youtube_id",
            problem: FieldProblem::InvalidYoutubeId(value),
            ..
        } => {
            assert_eq!(value.len(), 12);
        }
        other => panic!("{other}"),
    }
}

#[test]
fn wrong_header() {
    let bytes =
        k400_val_with(|lines| lines[0] = "class,youtube_id,time_start,time_end,split,is_cc".into());
    let error = strict(&bytes);
    assert!(
        matches!(&error, Error::Header { line: 1, reason, .. } if reason == "unknown column \"class\""),
        "{error}"
    );
    // A file without its header line.
    let bytes = k400_val_with(|lines| {
        lines.remove(0);
    });
    assert!(matches!(strict(&bytes), Error::Header { line: 1, .. }));
}

#[test]
fn binary_garbage() {
    // Deterministic pseudo-random bytes (xorshift), as a corrupted or wrong file would be.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let garbage: Vec<u8> = (0..10_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    assert!(matches!(strict(&garbage), Error::NotText { line: 1, .. }));
    // A gzip file (what an unexpanded download looks like).
    let gzip = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03];
    assert!(matches!(
        strict(&gzip),
        Error::NotText {
            line: 1,
            column: 1,
            byte: 0x1f,
            ..
        }
    ));
}

#[test]
fn skipping_bad_rows_in_a_real_file() {
    let bytes = k400_val_with(|lines| {
        lines[16] = lines[16].replace(",89,", ",abc,");
        lines[99] = lines[99].replacen(',', ",x", 1);
        lines[5000] = lines[5000].replace(",val,", ",holdout,");
    });
    let read = parse("kinetics-400_val.csv", &bytes, &ReadOptions::skipping()).unwrap();
    assert_eq!(read.clips.len(), 19_903);
    assert_eq!(read.skipped.rows, 3);
    let shown: Vec<String> = read
        .skipped
        .first_errors
        .iter()
        .map(Error::to_string)
        .collect();
    assert_eq!(
        shown[0],
        r#"kinetics-400_val.csv line 17, field time_start: "abc" is not a number"#
    );
    assert!(
        shown[2].starts_with("kinetics-400_val.csv line 5001, field split:"),
        "{}",
        shown[2]
    );
}

#[test]
fn crlf_and_bom_versions_of_a_real_file_read_the_same() {
    let plain = shared("kinetics-600_val.csv");
    let text = String::from_utf8(shared_bytes("kinetics-600_val.csv")).unwrap();
    let windows = format!("\u{feff}{}", text.replace('\n', "\r\n"));
    let read = parse(
        "kinetics-600_val.csv",
        windows.as_bytes(),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(read, plain);
}
