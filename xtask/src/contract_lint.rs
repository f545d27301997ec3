//! The site contract is defined once (`crates/protocol/src/site.rs`, the protocol's messages in
//! `crates/protocol`): these tests fail when a JavaScript file of the site (`www/`) or of a harness (`tests/`)
//! restates one of its values or a message's shape instead of reading it from the contract (the build fills it into
//! `www/`'s scripts; `tests/support/` reads it for the harnesses).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The one file allowed to name the worker's message kinds: the harnesses' protocol helper, which checks each kind
/// it names against the contract's samples.
const PROTOCOL_HELPER: &str = "tests/support/protocol.mjs";

/// Contract strings too short or too common to search for (they would match unrelated words).
const MIN_LEN: usize = 8;

/// Contract strings with another meaning in JavaScript: `credentialless` is also the attribute of an iframe
/// (headers' values are not searched either, see [`contract_strings`]).
const OTHER_MEANINGS: [&str; 2] = ["credentialless", "require-corp"];

/// Message kinds distinctive enough to be searched for as strings or properties (the others, `load`, `run`,
/// `ready`, `failed`, `progress`, … are common words, and `layer_times` is also a key of /inside's exported JSON;
/// their restatement is caught by the `kind` tag instead).
const DISTINCTIVE_KINDS: [&str; 6] = [
    "booted",
    "warming_up",
    "classified",
    "inspected",
    "unstartable",
    "time_layers",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every string of the contract's values (object keys too: the headers' names), but the short and the ambiguous.
fn contract_strings() -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            Value::Object(map) => {
                for (key, v) in map {
                    match v.as_object() {
                        // Headers: their names (`same-origin`, `no-cache`, … are words of other APIs too).
                        Some(headers) if key.ends_with("Headers") => {
                            out.extend(headers.keys().cloned());
                        }
                        // The app's routes: the addresses a test visits, as a visitor types them (their
                        // isolation is what the contract gives; no script restates that).
                        _ if key == "routes" => {}
                        _ => walk(v, out),
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&site::contract::values(), &mut out);
    out.retain(|s| s.len() >= MIN_LEN && !OTHER_MEANINGS.contains(&s.as_str()));
    out.sort();
    out.dedup();
    out
}

/// `text` without its comments (`// …` to the end of a line, when the `//` starts the line or follows a space;
/// `/* … */` and JSDoc lines): a comment may name a file of the contract, code may not.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut in_block = false;
    for line in text.lines() {
        let mut line = line.to_owned();
        if in_block {
            match line.find("*/") {
                Some(end) => {
                    line = line[end + 2..].to_owned();
                    in_block = false;
                }
                None => continue,
            }
        }
        if let Some(start) = line.find("/*") {
            match line[start..].find("*/") {
                Some(end) => line.replace_range(start..start + end + 2, ""),
                None => {
                    line.truncate(start);
                    in_block = true;
                }
            }
        }
        if line.trim_start().starts_with("//") {
            continue;
        }
        if let Some(at) = line.find(" //") {
            line.truncate(at);
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// What `text` (the file `name`, relative to the root) restates of the contract, in words; empty when nothing.
fn restatements(name: &str, text: &str) -> Vec<String> {
    let code = code_of(text);
    let mut found = Vec::new();
    for value in contract_strings() {
        if code.contains(&value) {
            found.push(format!("{name}: restates the contract's {value:?}"));
        }
    }
    // A message built by hand: its `kind` tag, or the `{ message, frames }` envelope.
    if name == PROTOCOL_HELPER {
        return found;
    }
    let tag = hand_made_tag("kind", &["'", "\"", "`"]);
    if code.lines().any(tag) {
        found.push(format!(
            "{name}: builds or reads a message's `kind` by hand (use {PROTOCOL_HELPER})"
        ));
    }
    for kind in DISTINCTIVE_KINDS {
        let quoted = ["'", "\"", "`"]
            .iter()
            .any(|q| code.contains(&format!("{q}{kind}{q}")));
        if quoted || code.contains(&format!(".{kind}")) {
            found.push(format!(
                "{name}: names the worker's message {kind:?} (use {PROTOCOL_HELPER})"
            ));
        }
    }
    found
}

/// Whether a line has `<word>` followed by `:`, `==` or `===` and then a quote: a tag written by hand.
fn hand_made_tag(word: &'static str, quotes: &'static [&'static str]) -> impl Fn(&str) -> bool {
    move |line: &str| {
        line.match_indices(word).any(|(at, _)| {
            let before = line[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                return false;
            }
            let rest = line[at + word.len()..].trim_start();
            let rest = ["===", "==", ":"]
                .iter()
                .find_map(|op| rest.strip_prefix(op))
                .map(str::trim_start);
            rest.is_some_and(|r| quotes.iter().any(|q| r.starts_with(q)))
        })
    }
}

/// The JavaScript files of the site and the harnesses: `www/**/*.js`, `tests/**/*.mjs` (not `node_modules`).
fn javascript_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root().join("www"), root().join("tests")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("node_modules") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "js" || e == "mjs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn no_javascript_file_restates_the_contract() {
    let files = javascript_files();
    assert!(files.len() > 10, "{files:?}");
    let root = root();
    let mut found = Vec::new();
    for path in files {
        let name = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        found.extend(restatements(&name, &text));
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The lint itself: what it must catch, and what it must let through.
#[test]
fn the_lint_catches_restated_values_and_hand_made_messages() {
    let caught = |code: &str| restatements("tests/e2e/x.test.mjs", code);
    assert_eq!(caught("const CACHE = 'kinetiscope-model-v1';").len(), 1);
    assert_eq!(
        caught("new Worker('/worker-mt/loader.js');").len(),
        2,
        "the folder too"
    );
    assert_eq!(
        caught("headers['cross-origin-embedder-policy'] = 'x';").len(),
        1
    );
    assert_eq!(caught("post({ kind: 'load', threads: 2 });").len(), 1);
    assert_eq!(caught("if (m.kind === \"run\") {}").len(), 1);
    assert_eq!(caught("await next('booted');").len(), 1);
    assert_eq!(caught("if (data.classified) resolve();").len(), 1);
    // Comments may name the contract's files; other words pass.
    assert!(caught("// the threaded loader, /worker-mt/loader.js\nconst kinds = 3;").is_empty());
    assert!(caught("const x = 1; // skip-waiting is the message").is_empty());
    assert!(caught("/* worker_bg.wasm */ const kind = other;").is_empty());
    assert!(caught("iframe.setAttribute('credentialless', '');").is_empty());
    assert!(caught("fetch(url, { cache: 'no-cache', credentials: 'same-origin' });").is_empty());
    // The helper may name kinds; not the contract's values.
    assert!(restatements(
        PROTOCOL_HELPER,
        "const KINDS = ['booted']; if (kind === 'failed') {}"
    )
    .is_empty());
    assert_eq!(
        restatements(PROTOCOL_HELPER, "new Worker('/worker_loader.js')").len(),
        1
    );
}

/// The site's model manifest is the file the weights' converter writes, in the folder the build puts it in.
#[test]
fn the_model_manifest_is_the_converters() {
    assert_eq!(
        protocol::site::MODEL_MANIFEST,
        format!("/model/{}", checkpoint::MANIFEST_FILE)
    );
}
