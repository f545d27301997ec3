#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `kinetiscope train`, `features` and `classify --head` end to end: a head trained on a folder made from the
//! shared cricket clip and ffmpeg's generated patterns names the right class for clips held out of training,
//! and its file is refused when it was made for other weights or is damaged. Needs the weights and ffmpeg: skips
//! (printing why) without them in a plain `cargo test`, fails under `cargo xtask test`.

use std::path::Path;
use std::process::{Command, Output};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");

fn ready() -> bool {
    let weights = match i3d_core::manifest::resolve_weights_dir(None) {
        Ok(dir) if dir.is_dir() => true,
        Ok(dir) => {
            i3d_core::reference::missing(&format!("no weights at {}", dir.display()));
            false
        }
        Err(e) => {
            i3d_core::reference::missing(&e.to_string());
            false
        }
    };
    let ffmpeg = Command::new("ffmpeg").arg("-version").output().is_ok();
    if !ffmpeg {
        i3d_core::reference::missing("ffmpeg is not installed");
    }
    weights && ffmpeg
}

fn kinetiscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kinetiscope"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn ffmpeg(args: &[&str], out: &Path) {
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .args(["-c:v", "libvpx-vp9", "-pix_fmt", "yuv420p", "-an"])
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg {args:?}");
}

/// Frames `from..from + count` of the cricket GIF (79 frames at 25 fps) as a WebM.
fn cricket(from: usize, count: usize, out: &Path) {
    let gif = format!("{SHARED}/data/video/v_CricketShot_g04_c01_rgb.gif");
    let filter = format!("fps=25,trim=start_frame={from}:end_frame={}", from + count);
    ffmpeg(&["-i", &gif, "-vf", &filter], out);
}

/// `seconds` of one of ffmpeg's generated sources (e.g. `testsrc2`, `mandelbrot`) from `start` s, 320×240.
fn pattern(source: &str, start: f64, seconds: f64, out: &Path) {
    let input = format!("{source}=size=320x240:rate=25");
    let trim = format!("trim=start={start}:duration={seconds},setpts=PTS-STARTPTS");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &input,
            "-t",
            &format!("{}", start + seconds),
            "-vf",
            &trim,
        ],
        out,
    );
}

#[test]
fn a_head_trained_on_a_folder_names_held_out_clips() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let classes = dir.path().join("classes");
    for class in ["cricket", "pattern"] {
        std::fs::create_dir_all(classes.join(class)).unwrap();
    }
    // Training: the cricket clip's first 48 frames in two overlapping parts; two generated patterns.
    cricket(0, 32, &classes.join("cricket/a.webm"));
    // A hidden file (as a file manager leaves them) is not an example.
    std::fs::write(classes.join("cricket/.DS_Store"), b"not a video").unwrap();
    cricket(16, 32, &classes.join("cricket/b.webm"));
    pattern("testsrc2", 0.0, 2.0, &classes.join("pattern/testsrc2.webm"));
    pattern(
        "mandelbrot",
        0.0,
        2.0,
        &classes.join("pattern/mandelbrot.webm"),
    );
    // Held out: the cricket clip's last 31 frames (none seen in training), and later seconds of the patterns.
    let held_out = dir.path().join("held-out");
    std::fs::create_dir_all(&held_out).unwrap();
    cricket(48, 31, &held_out.join("cricket.webm"));
    pattern("testsrc2", 6.0, 1.5, &held_out.join("testsrc2.webm"));

    let head = dir.path().join("mine.kinetiscope-head.json");
    let text = ok(kinetiscope(&[
        "train",
        classes.to_str().unwrap(),
        "--out",
        head.to_str().unwrap(),
        "--keep-examples",
    ]));
    eprintln!("{text}");
    assert!(text.contains("leave-one-out"), "{text}");
    for class in ["cricket", "pattern"] {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(class))
            .unwrap();
        assert!(line.trim_end().ends_with("100.0%"), "{line}");
    }
    // The head file: the app's format, both classes, the examples' features kept.
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&head).unwrap()).unwrap();
    assert_eq!(file["format"], heads::FORMAT_VERSION);
    assert_eq!(file["classes"], serde_json::json!(["cricket", "pattern"]));
    assert!(!file["examples"].as_array().unwrap().is_empty());
    let read = heads::Head::from_json(&std::fs::read_to_string(&head).unwrap(), None).unwrap();
    assert_eq!(read.linear.dim, 1024);

    for (clip, class) in [("cricket.webm", "cricket"), ("testsrc2.webm", "pattern")] {
        let clip = held_out.join(clip);
        let json: serde_json::Value = serde_json::from_str(&ok(kinetiscope(&[
            "classify",
            "--json",
            clip.to_str().unwrap(),
            "--head",
            head.to_str().unwrap(),
        ])))
        .unwrap();
        let custom = json["custom"].as_array().unwrap();
        assert_eq!(custom.len(), 2, "{json}");
        assert_eq!(custom[0]["label"], class, "{json}");
        assert!(custom[0]["prob"].as_f64().unwrap() > 0.9, "{json}");
        assert_eq!(custom[0]["index"], if class == "cricket" { 0 } else { 1 });
        // Kinetics' own answer is still there.
        assert_eq!(json["top"].as_array().unwrap().len(), 5);
    }
    // The text output lists the custom classes after Kinetics' own: the head adds, it does not replace.
    let text = ok(kinetiscope(&[
        "classify",
        held_out.join("cricket.webm").to_str().unwrap(),
        "--head",
        head.to_str().unwrap(),
    ]));
    assert!(text.contains("custom classes:"), "{text}");

    // `features`: one clip feature per 16-frame window every 8 frames.
    let features = dir.path().join("features.json");
    ok(kinetiscope(&[
        "features",
        held_out.join("cricket.webm").to_str().unwrap(),
        "--out",
        features.to_str().unwrap(),
    ]));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&features).unwrap()).unwrap();
    let windows = json["videos"][0]["windows"].as_array().unwrap();
    assert_eq!(windows.len(), heads::window_starts(31).len());
    assert_eq!(windows[0]["feature"].as_array().unwrap().len(), 1024);
    assert_eq!(json["model_sha256"], file["model_sha256"]);

    // Refused: a head for other weights, another format, a truncated file; each says so.
    let text = std::fs::read_to_string(&head).unwrap();
    let other = dir.path().join("other.kinetiscope-head.json");
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["model_sha256"] = serde_json::json!("0".repeat(64));
    std::fs::write(&other, value.to_string()).unwrap();
    value["model_sha256"] = file["model_sha256"].clone();
    let newer = dir.path().join("newer.kinetiscope-head.json");
    value["format"] = serde_json::json!(heads::FORMAT_VERSION + 1);
    std::fs::write(&newer, value.to_string()).unwrap();
    let cut = dir.path().join("cut.kinetiscope-head.json");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let clip = held_out.join("cricket.webm");
    for (bad, says) in [(&other, "weights"), (&newer, "version"), (&cut, "line")] {
        let output = kinetiscope(&[
            "classify",
            clip.to_str().unwrap(),
            "--head",
            bad.to_str().unwrap(),
        ]);
        assert!(!output.status.success());
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(err.contains(says), "{bad:?}: {err}");
    }
}

#[test]
fn a_folder_that_cannot_train_is_refused_before_any_video_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("only/")).unwrap();
    std::fs::write(dir.path().join("only/a.webm"), b"not read").unwrap();
    let out = dir.path().join("h.json");
    let output = kinetiscope(&[
        "train",
        dir.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("2 to 20"), "{err}");
    std::fs::create_dir_all(dir.path().join("empty")).unwrap();
    let output = kinetiscope(&[
        "train",
        dir.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("“empty” has no examples"), "{err}");
    assert!(!out.exists());
}
