//! The site contract's routes (`protocol::site::ROUTES`, from which the host and the service worker give each page
//! its isolation) are exactly the app router's.
#![allow(clippy::unwrap_used)]

use protocol::site::ROUTES;

/// The paths of the app's `<Route path=path!("…")>`s, `:param` segments written `*`.
fn router_paths() -> Vec<String> {
    let app = include_str!("../../app/src/lib.rs");
    app.split("path=path!(\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(path, _)| path))
        .map(|path| {
            path.split('/')
                .map(|segment| {
                    if segment.starts_with(':') {
                        "*"
                    } else {
                        segment
                    }
                })
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect()
}

#[test]
fn the_contract_names_every_route_of_the_router() {
    let mut router = router_paths();
    let mut contract: Vec<String> = ROUTES.iter().map(|(path, _)| (*path).to_owned()).collect();
    assert!(
        router.len() > 10,
        "the router's routes were not found: {router:?}"
    );
    router.sort();
    contract.sort();
    assert_eq!(router, contract);
}

#[test]
fn the_header_file_gives_each_path_one_embedder_policy() {
    use protocol::site::{embedder_policy, EMBEDDER_POLICY, SITE_HEADERS};
    let file = site::deploy::headers_file();
    println!("{file}");
    // Every rule: a path, then its headers indented.
    let mut rules: Vec<(String, Vec<String>)> = Vec::new();
    for line in file.lines().filter(|l| !l.starts_with('#')) {
        match line.strip_prefix("  ") {
            Some(header) => rules.last_mut().unwrap().1.push(header.to_owned()),
            None => rules.push((line.to_owned(), Vec::new())),
        }
    }
    let all = &rules[0];
    assert_eq!(all.0, "/*");
    let expected: Vec<String> = SITE_HEADERS
        .iter()
        .map(|(n, v)| format!("{n}: {v}"))
        .collect();
    assert_eq!(all.1, expected);
    // No other rule repeats those; each gives the embedder policy the site's server gives its path, once.
    let paths: Vec<&String> = rules.iter().map(|(path, _)| path).collect();
    assert!(
        paths.iter().all(|p| !p.ends_with('/') || p.len() == 1),
        "{paths:?}"
    );
    let mut unique = paths.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), paths.len());
    for (path, headers) in &rules[1..] {
        assert_eq!(headers.len(), 1, "{path}");
        let concrete = path
            .replace(":name", "some-name")
            .replace('*', "some-name.js");
        assert_eq!(
            headers[0],
            format!("{EMBEDDER_POLICY}: {}", embedder_policy(&concrete)),
            "{path}"
        );
    }
    for page in [
        "/",
        "/classify",
        "/classes",
        "/classes/:name",
        "/train",
        "/worker_loader.js",
        "/worker-mt/*",
    ] {
        assert!(
            rules.iter().any(|(path, _)| path == page),
            "{page} has no rule"
        );
    }
}

#[test]
fn a_static_host_finds_a_page_for_every_route() {
    let out = std::env::temp_dir().join(format!("kinetiscope-deploy-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("index.html"), "<!doctype html><title>app</title>").unwrap();
    site::deploy::extras(&out).unwrap();
    for page in [
        "404.html",
        "classify/index.html",
        "train/index.html",
        "classes/index.html",
    ] {
        assert_eq!(
            std::fs::read_to_string(out.join(page)).unwrap(),
            "<!doctype html><title>app</title>",
            "{page}"
        );
    }
    assert!(std::fs::read_to_string(out.join("_headers"))
        .unwrap()
        .contains("/classify\n"));
    std::fs::remove_dir_all(&out).unwrap();
}
