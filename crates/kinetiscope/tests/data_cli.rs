//! `kinetiscope data stats` and `kinetiscope data search`, run as a user would, on the real annotation
//! files in `../shared/data/kinetics`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shared(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/kinetics")
        .join(name)
}

fn kinetiscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kinetiscope"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stats_json(files: &[&Path]) -> serde_json::Value {
    let mut args = vec!["data", "stats", "--json"];
    args.extend(files.iter().map(|p| path(p)));
    let output = kinetiscope(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap()
}

#[test]
fn stats_json_k400_val() {
    let stats = stats_json(&[&shared("kinetics-400_val.csv")]);
    assert_eq!(
        stats,
        serde_json::json!({
            "clips": 19906, "labelled": 19906, "classes": 400,
            "splits": {"train": 0, "val": 19906, "test": 0}
        })
    );
}

#[test]
fn stats_json_k600_val_and_test_files() {
    let stats = stats_json(&[&shared("kinetics-600_val.csv")]);
    assert_eq!(
        (stats["clips"].as_u64(), stats["classes"].as_u64()),
        (Some(30_000), Some(600))
    );
    for (name, clips) in [
        ("kinetics-400_test.csv", 38_685),
        ("kinetics-600_test.csv", 72_924),
    ] {
        let stats = stats_json(&[&shared(name)]);
        assert_eq!(
            stats,
            serde_json::json!({
                "clips": clips, "labelled": 0, "classes": 0,
                "splits": {"train": 0, "val": 0, "test": clips}
            }),
            "{name}"
        );
    }
}

#[test]
fn stats_text_over_all_files() {
    let files = [
        "kinetics-400_val.csv",
        "kinetics-400_test.csv",
        "kinetics-600_val.csv",
        "kinetics-600_test.csv",
    ]
    .map(shared);
    let mut args = vec!["data", "stats"];
    args.extend(files.iter().map(|p| path(p)));
    let output = kinetiscope(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("kinetics-400_val.csv: 19906 clips, 19906 labelled (labelled CSV with is_cc, Kinetics-400)"), "{text}");
    assert!(
        text.contains(
            "kinetics-600_test.csv: 72924 clips, 0 labelled (unlabelled CSV, Kinetics-600)"
        ),
        "{text}"
    );
    assert!(
        text.contains("total: 161515 clips, 49906 labelled, 632 classes"),
        "{text}"
    );
    assert!(
        text.contains("splits: train 0, val 49906, test 111609"),
        "{text}"
    );
}

#[test]
fn stats_per_class() {
    let output = kinetiscope(&[
        "data",
        "stats",
        "--per-class",
        path(&shared("kinetics-600_val.csv")),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("     0     50      0  abseiling\n"), "{text}");
    assert!(
        text.contains("     0     50      0  dyeing hair\n"),
        "{text}"
    );
}

/// The official JSON layout, written from the CSV, gives the same totals.
#[test]
fn stats_on_the_json_layout() {
    let dir = tempfile::tempdir().unwrap();
    let csv = std::fs::read_to_string(shared("kinetics-400_val.csv")).unwrap();
    let mut reader = csv.lines();
    reader.next();
    let mut json = String::from("{\n");
    for (i, line) in reader.enumerate() {
        // Labels with commas are quoted; K400 val labels have none, but some are quoted anyway.
        let fields: Vec<&str> = line.split(',').collect();
        let label = fields[0].trim_matches('"');
        let (id, start, end) = (fields[1], fields[2], fields[3]);
        let sep = if i == 0 { "" } else { ",\n" };
        json.push_str(&format!(
            "{sep}  \"{id}\": {{\"annotations\": {{\"label\": \"{label}\", \"segment\": [{start}.0, {end}.0]}}, \"duration\": 10.0, \"subset\": \"validate\", \"url\": \"https://www.youtube.com/watch?v={id}\"}}"
        ));
    }
    json.push_str("\n}\n");
    let file = dir.path().join("kinetics_400_validate.json");
    std::fs::write(&file, json).unwrap();
    assert_eq!(
        stats_json(&[&file]),
        stats_json(&[&shared("kinetics-400_val.csv")])
    );
}

#[test]
fn malformed_file_fails_with_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let csv = std::fs::read_to_string(shared("kinetics-400_val.csv")).unwrap();
    let mut lines: Vec<String> = csv.lines().map(str::to_owned).collect();
    lines[16] = lines[16].replace(",89,", ",abc,");
    let file = dir.path().join("kinetics-400_val.csv");
    std::fs::write(&file, lines.join("\n")).unwrap();

    let output = kinetiscope(&["data", "stats", path(&file)]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message
            .contains(r#"kinetics-400_val.csv line 17, field time_start: "abc" is not a number"#),
        "{message}"
    );

    let output = kinetiscope(&["data", "stats", "--skip-bad-rows", "--json", path(&file)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("skipped 1 malformed rows"),
        "{}",
        stderr(&output)
    );
    let stats: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(stats["clips"], 19_905);
}

#[test]
fn bad_inputs_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.csv");
    std::fs::write(&garbage, [0x1f, 0x8b, 0x08, 0x00, 0xff, 0x00]).unwrap();
    let output = kinetiscope(&["data", "stats", path(&garbage)]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("not a text file"),
        "{}",
        stderr(&output)
    );

    let header = dir.path().join("header.csv");
    std::fs::write(&header, "name,id\nx,y\n").unwrap();
    let output = kinetiscope(&["data", "stats", path(&header)]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("unrecognised header"),
        "{}",
        stderr(&output)
    );

    let missing = dir.path().join("missing.csv");
    let output = kinetiscope(&["data", "stats", path(&missing)]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("cannot read"),
        "{}",
        stderr(&output)
    );

    let output = kinetiscope(&["data", "stats"]);
    assert!(!output.status.success(), "a file is required");
}

#[test]
fn search_lists_classes_with_counts() {
    let output = kinetiscope(&["data", "search", "playing", "gui"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("playing guitar "), "{text}");
    assert!(first.contains("K400 #232  1135 clips"), "{first}");
    assert!(first.contains("K600 #345"), "{first}");
    assert!(first.contains("groups: music"), "{first}");
}

#[test]
fn search_both_versions_and_renames() {
    let text = stdout(&kinetiscope(&["data", "search", "hugging"]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].contains("split into \"hugging (not baby)\" and \"hugging baby\" in K600"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("hugging baby") && lines[1].contains("was \"hugging\" in K400"),
        "{text}"
    );

    let output = kinetiscope(&["data", "search", "--dataset", "600", "--json", "dyeing"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let hits: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(hits[0]["name"], "dyeing hair");
    assert_eq!(hits[0]["kind"], "class");
    assert_eq!(hits[0]["match"], "Prefix");
    assert_eq!(hits[0]["k400_label"], serde_json::Value::Null);
    assert_eq!(hits[0]["k600_label"], 157);
    assert_eq!(hits[0]["note"], "was \"dying hair\" in K400");
}

#[test]
fn search_groups_and_typos() {
    let text = stdout(&kinetiscope(&[
        "data",
        "search",
        "athletics",
        "-",
        "jumping",
    ]));
    assert!(text.starts_with("athletics – jumping"), "{text}");
    assert!(
        text.lines().next().unwrap().contains("group of 6 classes"),
        "{text}"
    );
    let text = stdout(&kinetiscope(&["data", "search", "jugling", "--limit", "3"]));
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains("juggling"), "{text}");
}

#[test]
fn search_bad_input() {
    let output = kinetiscope(&["data", "search", "  "]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("empty query"),
        "{}",
        stderr(&output)
    );
    let output = kinetiscope(&["data", "search", "--dataset", "700", "x"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("use 400 or 600"),
        "{}",
        stderr(&output)
    );
    let output = kinetiscope(&["data", "search", "qqqqzzzz"]);
    assert!(output.status.success());
    assert_eq!(stdout(&output), "no class or group matches \"qqqqzzzz\"\n");
}
