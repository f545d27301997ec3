#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `kinetiscope classify` and `kinetiscope bench` end to end, on the real cricket clip and the
//! real weights. Tests that need the weights skip (printing why) when the weights directory does not
//! exist, except under `cargo xtask test`, which creates it and where a missing one is a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use i3d_core::manifest::{F32_FILE, MANIFEST_FILE};
use i3d_core::postprocess::top_indices;
use i3d_core::reference::{rel_l2, Fixture};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");

fn gif() -> String {
    format!("{SHARED}/data/video/v_CricketShot_g04_c01_rgb.gif")
}

fn weights_dir() -> Option<PathBuf> {
    match i3d_core::manifest::resolve_weights_dir(None) {
        Ok(dir) if dir.is_dir() => Some(dir),
        Ok(dir) => {
            i3d_core::reference::missing(&format!(
                "no weights directory at {} (run `cargo xtask weights`)",
                dir.display()
            ));
            None
        }
        Err(e) => {
            i3d_core::reference::missing(&e.to_string());
            None
        }
    }
}

fn kinetiscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kinetiscope"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs `classify --json`, returns the parsed output.
fn classify_json(input: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["classify", "--json", input];
    args.extend_from_slice(extra);
    let output = kinetiscope(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn assert_cricket_first(json: &serde_json::Value, min_prob: f64) {
    let top = &json["top"][0];
    assert_eq!(top["label"], "playing cricket", "{json}");
    assert_eq!(top["index"], 227);
    let p = top["prob"].as_f64().unwrap();
    assert!(p > min_prob, "p = {p}");
    assert_eq!(json["logits"].as_array().unwrap().len(), 400);
    assert_eq!(json["backend"], "cpu");
}

fn ffmpeg_available() -> bool {
    let ok = Command::new("ffmpeg").arg("-version").output().is_ok();
    if !ok {
        i3d_core::reference::missing("ffmpeg is not installed");
    }
    ok
}

fn ffmpeg(args: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn cricket_gif_is_playing_cricket() {
    if weights_dir().is_none() {
        return;
    }
    let json = classify_json(&gif(), &["--top", "5"]);
    assert_eq!(json["frames"], 79);
    assert_eq!(json["top"].as_array().unwrap().len(), 5);
    // With the full pipeline (224 → 256 → centre 224) the reference gives 0.9947.
    assert_cricket_first(&json, 0.98);
    let p = json["top"][0]["prob"].as_f64().unwrap();
    assert!((p - 0.9947).abs() < 2e-3, "p = {p}");
}

#[test]
fn cricket_webm_is_playing_cricket() {
    if weights_dir().is_none() || !ffmpeg_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let webm = dir.path().join("cricket.webm");
    ffmpeg(&["-i", &gif(), "-c:v", "libvpx-vp9", webm.to_str().unwrap()]);
    let json = classify_json(webm.to_str().unwrap(), &[]);
    assert_eq!(json["frames"], 79);
    assert_cricket_first(&json, 0.98);
}

#[test]
fn file_names_are_never_options_or_protocols() {
    if weights_dir().is_none() || !ffmpeg_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Not `cricket.webm`: `concat:cricket.webm` read as a protocol would find no file of that name.
    let webm = dir.path().join("source.webm");
    ffmpeg(&[
        "-i",
        &gif(),
        "-frames:v",
        "20",
        "-c:v",
        "libvpx-vp9",
        "-pix_fmt",
        "yuv420p",
        webm.to_str().unwrap(),
    ]);
    // Names ffmpeg would otherwise read as an option (`-…`) or a protocol (`concat:…`).
    for name in ["-cricket.webm", "concat:cricket.webm"] {
        std::fs::copy(&webm, dir.path().join(name)).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_kinetiscope"))
            .args(["classify", "--json", "--", name])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(json["frames"], 20, "{name}");
    }
}

#[test]
fn text_output_and_frame_limit() {
    if weights_dir().is_none() {
        return;
    }
    let output = kinetiscope(&["classify", &gif(), "--frames", "40", "--top", "3"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("40 frames"), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[1].contains("playing cricket"), "{text}");
}

#[test]
fn preprocessed_safetensors_clip_matches_the_reference() {
    if weights_dir().is_none() {
        return;
    }
    // The fixture's `input` is already pre-processed; its reference top-5 is 327, 328, 35, 21, 31.
    let json = classify_json(
        &format!("{SHARED}/fixtures/i3d_ref_smooth16.safetensors"),
        &["--top", "5"],
    );
    assert_eq!(json["frames"], 16);
    let top: Vec<u64> = json["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["index"].as_u64().unwrap())
        .collect();
    assert_eq!(top, vec![327, 328, 35, 21, 31]);
    assert_eq!(json["top"][0]["label"], "spray painting");
    let logit = json["logits"][327].as_f64().unwrap();
    assert!((logit - 62.965).abs() < 0.01, "{logit}");
}

/// The logits of `classify --json` as f32.
fn logits(json: &serde_json::Value) -> Vec<f32> {
    json["logits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

/// Whether a wgpu adapter exists (lavapipe under `cargo xtask test`), else [`missing`].
fn wgpu_available() -> bool {
    let output = kinetiscope(&["classify", &gif(), "--backend", "wgpu", "--frames", "9"]);
    let err = stderr(&output);
    if !output.status.success() && err.contains("cannot be used") {
        i3d_core::reference::missing(&format!("no wgpu adapter: {err}"));
        return false;
    }
    true
}

#[test]
fn wgpu_precision_is_the_users_choice_and_each_matches_the_reference() {
    if weights_dir().is_none() || !wgpu_available() {
        return;
    }
    let path = format!("{SHARED}/fixtures/i3d_ref_smooth16.safetensors");
    let fixture = Fixture::from_bytes(&std::fs::read(&path).unwrap()).unwrap();
    let reference_top5 = top_indices(&fixture.logits, 5);
    for (precision, tolerance) in [("f32", 1e-4), ("f16", 5e-3)] {
        let output = kinetiscope(&[
            "classify",
            "--json",
            &path,
            "--backend",
            "wgpu",
            "--precision",
            precision,
        ]);
        let err = stderr(&output);
        if precision == "f16" && !output.status.success() && err.contains("shader-f16") {
            i3d_core::reference::missing(&format!("the adapter has no shader-f16: {err}"));
            continue;
        }
        assert!(output.status.success(), "{err}");
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(json["backend"], "wgpu", "{err}");
        assert_eq!(json["precision"], precision, "{err}");
        assert!(
            err.contains(&format!("backend wgpu ({precision})")),
            "{err}"
        );
        let ours = logits(&json);
        let rel = rel_l2(&ours, &fixture.logits);
        eprintln!("wgpu {precision}: rel L2 vs reference {rel:.2e}");
        assert!(
            rel < tolerance,
            "{precision}: rel L2 {rel:.2e} ≥ {tolerance:e}"
        );
        assert_eq!(top_indices(&ours, 5), reference_top5, "{precision}");
    }
    // The CPU path computes in f32 only: asking it for f16 is an error that says so.
    assert_fails(
        &["classify", &path, "--backend", "cpu", "--precision", "f16"],
        "the CPU path computes in f32",
    );
    assert_fails(
        &["classify", &path, "--precision", "bf16"],
        "expected auto, f32 or f16",
    );
}

fn assert_fails(args: &[&str], message: &str) {
    let output = kinetiscope(args);
    assert!(!output.status.success(), "{args:?} succeeded");
    let err = stderr(&output);
    assert!(err.contains(message), "{args:?}: {err}");
}

#[test]
fn not_a_video_is_refused() {
    if !ffmpeg_available() {
        return;
    }
    // A text file (ffmpeg alone would "play" it through its tty demuxer) and a Python script.
    assert_fails(
        &[
            "classify",
            &format!("{SHARED}/data/kinetics/label_map_400.txt"),
        ],
        "is not a video",
    );
    assert_fails(
        &["classify", &format!("{SHARED}/fixtures/make_reference.py")],
        "is not a video",
    );
    assert_fails(&["classify", "/nonexistent/clip.mp4"], "no such file");
}

#[test]
fn too_few_frames_is_refused() {
    assert_fails(&["classify", &gif(), "--frames", "5"], "at least 9");
    if !ffmpeg_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let short = dir.path().join("short.webm");
    ffmpeg(&[
        "-i",
        &gif(),
        "-frames:v",
        "5",
        "-c:v",
        "libvpx-vp9",
        short.to_str().unwrap(),
    ]);
    assert_fails(
        &["classify", short.to_str().unwrap()],
        "5 frames at 25 fps; I3D needs at least 9",
    );
}

#[test]
fn wrong_tensor_is_refused() {
    // A safetensors file without `input`.
    assert_fails(
        &[
            "classify",
            &format!("{SHARED}/fixtures/cricket_gif_ref.safetensors"),
        ],
        "has no tensor `input`",
    );
    // `input` with the wrong shape: the fixture's clip cut to 1×16×224×112×3.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("narrow.safetensors");
    let tensors = candle_core::safetensors::load(
        format!("{SHARED}/fixtures/i3d_ref_smooth16.safetensors"),
        &candle_core::Device::Cpu,
    )
    .unwrap();
    let narrow = tensors["input"]
        .narrow(3, 0, 112)
        .unwrap()
        .contiguous()
        .unwrap();
    candle_core::safetensors::save(
        &std::collections::HashMap::from([("input".to_string(), narrow)]),
        &path,
    )
    .unwrap();
    assert_fails(
        &["classify", path.to_str().unwrap()],
        "has shape [1, 16, 224, 112, 3]; expected 1×T×224×224×3",
    );
}

#[test]
fn missing_weights_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none");
    assert_fails(
        &["classify", &gif(), "--weights", missing.to_str().unwrap()],
        "run `cargo xtask weights`",
    );
    assert_fails(
        &["bench", "--weights", missing.to_str().unwrap()],
        "run `cargo xtask weights`",
    );
}

fn copy_weights(from: &Path, to: &Path) {
    for name in [MANIFEST_FILE, F32_FILE] {
        std::fs::copy(from.join(name), to.join(name)).unwrap();
    }
}

#[test]
fn corrupt_weights_say_what_to_do() {
    let Some(weights) = weights_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    copy_weights(&weights, dir.path());
    let f32_file = dir.path().join(F32_FILE);
    // Truncated.
    let bytes = std::fs::read(&f32_file).unwrap();
    std::fs::write(&f32_file, &bytes[..bytes.len() / 2]).unwrap();
    let d = dir.path().to_str().unwrap();
    assert_fails(&["classify", &gif(), "--weights", d], "truncated");
    assert_fails(&["classify", &gif(), "--weights", d], "cargo xtask weights");
    // Same size, one byte altered.
    let mut altered = bytes.clone();
    let mid = altered.len() / 2;
    altered[mid] ^= 0x40;
    std::fs::write(&f32_file, &altered).unwrap();
    assert_fails(&["classify", &gif(), "--weights", d], "SHA-256 mismatch");
    // Missing file.
    std::fs::remove_file(&f32_file).unwrap();
    assert_fails(&["classify", &gif(), "--weights", d], "missing");
}

#[test]
fn bench_reports_time_flops_and_memory() {
    if weights_dir().is_none() {
        return;
    }
    let output = kinetiscope(&[
        "bench",
        "--frames",
        "9",
        "--threads",
        "1",
        "--runs",
        "1",
        "--json",
        "--layers",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["frames"], 9);
    assert_eq!(json["threads"], 1);
    assert!(json["median_ms"].as_f64().unwrap() > 0.0);
    // 2 FLOP per multiply-add of the architecture's count.
    let gflop = json["gflop_per_clip"].as_f64().unwrap();
    assert!((gflop - 2.0 * i3d_core::arch::macs(9).unwrap() as f64 / 1e9).abs() < 1e-9);
    assert!(json["peak_rss_mb"].as_f64().unwrap() > 50.0);
    assert_eq!(
        json["layers"].as_array().unwrap().len(),
        i3d_core::arch::I3D_LAYERS.len()
    );
    assert_fails(&["bench", "--frames", "8"], "at least 9");
}
