//! The Content-Security-Policy of the site ([`protocol::site::CONTENT_SECURITY_POLICY`]) as a meta tag of
//! `index.html`, so that it holds on any static host.

use std::path::Path;

use base64::Engine as _;
use protocol::site::CONTENT_SECURITY_POLICY;
use sha2::{Digest, Sha256};

use crate::{read, write, Error};

/// The tag the policy goes after (trunk keeps `index.html`'s head as written).
const CHARSET: &str = "<meta charset=\"utf-8\" />";

/// The policy for a page whose inline scripts are `inline` (their text): [`CONTENT_SECURITY_POLICY`] on one line,
/// with the SHA-256 of each script allowed.
pub fn policy(inline: &[&str]) -> String {
    let hashes: Vec<String> = inline
        .iter()
        .map(|body| {
            let digest = Sha256::digest(body.as_bytes());
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    CONTENT_SECURITY_POLICY
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("{inline}", &hashes.join(" "))
}

/// The text of each inline `<script>` of `html` (those without `src`).
fn inline_scripts<'a>(html: &'a str, path: &Path) -> Result<Vec<&'a str>, Error> {
    let mut scripts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let open_end = after
            .find('>')
            .ok_or_else(|| Error::build(path, "unclosed <script> tag"))?;
        let body_start = open_end + 1;
        let close = after[body_start..]
            .find("</script>")
            .ok_or_else(|| Error::build(path, "<script> without </script>"))?;
        if !after[..open_end].contains(" src=") {
            scripts.push(&after[body_start..body_start + close]);
        }
        rest = &after[body_start + close..];
    }
    Ok(scripts)
}

/// Puts the [`policy`] into `dist/index.html` after its charset tag; returns how many inline scripts it allows.
pub fn add_to_index(dist: &Path) -> Result<usize, Error> {
    let path = dist.join("index.html");
    let html = read(&path)?;
    if html.contains("http-equiv=\"Content-Security-Policy\"") {
        return Err(Error::build(
            &path,
            "has a policy already (finished twice?)",
        ));
    }
    let scripts = inline_scripts(&html, &path)?;
    let meta = format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\" />",
        policy(&scripts)
    );
    let at = html
        .find(CHARSET)
        .ok_or_else(|| Error::build(&path, format!("no {CHARSET} to put the policy after")))?
        + CHARSET.len();
    write(&path, format!("{}\n    {meta}{}", &html[..at], &html[at..]))?;
    Ok(scripts.len())
}
