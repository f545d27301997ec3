//! What a static host needs beside the built site ([`extras`]), written by `cargo xtask dist DIR`:
//!
//! - `_headers`, the header file of Netlify and Cloudflare Pages: every response gets [`SITE_HEADERS`], each page
//!   its route's `Cross-Origin-Embedder-Policy` ([`ROUTES`]) and the workers' scripts `require-corp`. Each header
//!   is given by exactly one rule per path: both hosts join the values of a header that several rules give.
//!   (Written from their documentation; not tried on either host.)
//! - `ROUTE/index.html` for each route without a parameter, and `404.html`: copies of `index.html`, so that a
//!   host that only serves files (GitHub Pages, `python3 -m http.server`, a school's server) answers deep links
//!   with the app. On such a host, which sends no headers, the service worker adds them from the second visit.

use std::path::Path;

use protocol::site::{
    COEP_REQUIRE_CORP, EMBEDDER_POLICY, RELAXED_DIR, ROUTES, SINGLE_THREADED_WORKER, SITE_HEADERS,
    THREADED_DIR,
};

use crate::{read, write, Error};

/// The header file's name (Netlify, Cloudflare Pages).
pub const HEADERS_FILE: &str = "_headers";

/// The page static hosts answer unknown paths with (GitHub Pages).
pub const NOT_FOUND_PAGE: &str = "404.html";

/// The `_headers` file for this site.
pub fn headers_file() -> String {
    let mut out = String::from(
        "# Written by `cargo xtask dist` from crates/protocol/src/site.rs: the headers of the site's own server.\n",
    );
    out.push_str("/*\n");
    for (name, value) in SITE_HEADERS {
        out.push_str(&format!("  {name}: {value}\n"));
    }
    // One rule per route: both hosts join the values of a header that several matching rules give, and Netlify
    // matches a rule with or without a trailing slash (so `/classify/` needs no rule of its own). A route's
    // parameter is a placeholder (`:name`, one segment): a splat (`/classes/*`) would also match `/classes` there.
    let mut rules: Vec<(String, &str)> = ROUTES
        .iter()
        .map(|&(route, policy)| (route.replace('*', ":name"), policy))
        .collect();
    // Workers' scripts: a worker's own policy comes from its script (see `COEP_REQUIRE_CORP`).
    rules.push((SINGLE_THREADED_WORKER.to_owned(), COEP_REQUIRE_CORP));
    rules.push((format!("/{THREADED_DIR}/*"), COEP_REQUIRE_CORP));
    rules.push((format!("/{RELAXED_DIR}/*"), COEP_REQUIRE_CORP));
    for (path, policy) in rules {
        out.push_str(&format!("{path}\n  {EMBEDDER_POLICY}: {policy}\n"));
    }
    out
}

/// Adds to the site in `out` (a copy of `dist/`) what static hosts need: see the module's docs.
pub fn extras(out: &Path) -> Result<(), Error> {
    let index = read(&out.join("index.html"))?;
    write(&out.join(HEADERS_FILE), headers_file())?;
    write(&out.join(NOT_FOUND_PAGE), &index)?;
    for (route, _) in ROUTES {
        if route == "/" || route.contains('*') {
            continue;
        }
        let dir = out.join(route.trim_start_matches('/'));
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        write(&dir.join("index.html"), &index)?;
    }
    Ok(())
}
