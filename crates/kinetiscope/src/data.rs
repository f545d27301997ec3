//! `kinetiscope data`: statistics and search over Kinetics annotation files.
//!
//! - `kinetiscope data stats FILE... [--json] [--skip-bad-rows] [--per-class]`: clips, labelled clips,
//!   classes and clips per split over all files (any official CSV or JSON variant); with `--json`,
//!   `{"clips":…,"labelled":…,"classes":…,"splits":{"train":…,"val":…,"test":…}}`.
//! - `kinetiscope data search QUERY... [--dataset 400|600] [--limit N] [--json]`: the Kinetics-400 and
//!   Kinetics-600 classes and Kinetics-400 groups matching a query, with the paper's clip counts.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use kinetics::search::SearchOptions;
use kinetics::{
    parse, taxonomy, ClassTable, Filter, Format, Index, Merge, ReadOptions, Target, Version,
};

/// Subcommands of `kinetiscope data`.
#[derive(Debug, clap::Subcommand)]
pub enum DataCommand {
    /// Count clips, labelled clips, classes and clips per split in annotation files.
    Stats(StatsArgs),
    /// Search the Kinetics-400/600 class names and the Kinetics-400 groups (prefix, then fuzzy).
    Search(SearchArgs),
}

/// Arguments of `kinetiscope data stats`.
#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// Annotation files: official Kinetics CSV (labelled or test) or JSON.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Print the totals as one JSON object.
    #[arg(long)]
    json: bool,
    /// Skip malformed rows (counted, and the first ones shown on stderr) instead of failing.
    #[arg(long)]
    skip_bad_rows: bool,
    /// Also list the clips per class and split (text output only).
    #[arg(long)]
    per_class: bool,
}

/// Arguments of `kinetiscope data search`.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// Words to look for (case-insensitive), e.g. `playing gui` or `jugling`.
    #[arg(required = true, value_name = "QUERY")]
    query: Vec<String>,
    /// Only classes of this dataset version: 400 or 600.
    #[arg(long = "dataset", value_name = "400|600", value_parser = parse_version)]
    dataset: Option<Version>,
    /// Show at most this many matches.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Print the matches as a JSON array.
    #[arg(long)]
    json: bool,
}

fn parse_version(text: &str) -> Result<Version, String> {
    Version::parse(text).ok_or_else(|| format!("{text:?} is not a dataset version: use 400 or 600"))
}

/// Runs a `kinetiscope data` subcommand.
pub fn run(command: DataCommand) -> anyhow::Result<()> {
    let output = match command {
        DataCommand::Stats(args) => stats(&args)?,
        DataCommand::Search(args) => search(&args)?,
    };
    print!("{output}");
    Ok(())
}

/// Reads the files into one index and renders the totals.
fn stats(args: &StatsArgs) -> anyhow::Result<String> {
    let options = ReadOptions {
        skip_bad_rows: args.skip_bad_rows,
        ..ReadOptions::default()
    };
    let mut index = Index::new();
    for path in &args.files {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {name}"))?;
        let annotations = parse(&name, &bytes, &options)?;
        if annotations.skipped.rows > 0 {
            eprintln!(
                "{name}: skipped {} malformed rows",
                annotations.skipped.rows
            );
            for error in &annotations.skipped.first_errors {
                eprintln!("  {error}");
            }
        }
        index.insert(annotations, None, Merge::Extend)?;
    }
    let all = Filter::default();
    let totals = index.stats(&all);
    if args.json {
        return Ok(serde_json::to_string(&totals)? + "\n");
    }
    let mut out = String::new();
    for (_, source) in index.sources() {
        let variant = match source.format {
            Format::Csv {
                labelled: true,
                is_cc: true,
            } => "labelled CSV with is_cc",
            Format::Csv { labelled: true, .. } => "labelled CSV",
            Format::Csv {
                labelled: false, ..
            } => "unlabelled CSV",
            Format::Json => "JSON",
        };
        let version = source
            .version
            .map_or_else(|| "version unknown".to_owned(), |v| v.to_string());
        writeln!(
            out,
            "{}: {} clips, {} labelled ({variant}, {version})",
            source.name, source.clips, source.labelled
        )?;
    }
    writeln!(
        out,
        "total: {} clips, {} labelled, {} classes",
        totals.clips, totals.labelled, totals.classes
    )?;
    writeln!(
        out,
        "splits: train {}, val {}, test {}",
        totals.splits.train, totals.splits.val, totals.splits.test
    )?;
    if args.per_class {
        let counts = index.counts(&all);
        writeln!(out, "\n{:>6} {:>6} {:>6}  class", "train", "val", "test")?;
        for (id, name) in index.classes().iter() {
            let [train, val, test] = counts.class(id);
            if train + val + test > 0 {
                writeln!(out, "{train:>6} {val:>6} {test:>6}  {name}")?;
            }
        }
        let [train, val, test] = counts.unlabelled;
        if train + val + test > 0 {
            writeln!(out, "{train:>6} {val:>6} {test:>6}  (unlabelled)")?;
        }
    }
    Ok(out)
}

/// One search match, as printed with `--json`.
#[derive(Debug, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Match {
    Class {
        name: String,
        #[serde(rename = "match")]
        matched: kinetics::MatchKind,
        /// Label index (model output) in Kinetics-400.
        k400_label: Option<usize>,
        /// Clips in Kinetics-400 according to the paper (appendix A).
        k400_clips: Option<u32>,
        /// Label index in Kinetics-600.
        k600_label: Option<usize>,
        /// What became of it in Kinetics-600, or what it was in Kinetics-400.
        note: Option<String>,
        groups: Vec<&'static str>,
    },
    Group {
        name: String,
        #[serde(rename = "match")]
        matched: kinetics::MatchKind,
        members: &'static [&'static str],
    },
}

fn search(args: &SearchArgs) -> anyhow::Result<String> {
    let query = args.query.join(" ");
    if query.trim().is_empty() {
        bail!("empty query: give a word to look for, e.g. `kinetiscope data search guitar`");
    }
    let table = ClassTable::new();
    let options = SearchOptions {
        version: args.dataset,
        limit: Some(args.limit),
        ..SearchOptions::default()
    };
    let matches: Vec<Match> = kinetics::search(&table, &query, &options)
        .into_iter()
        .map(|hit| describe(&table, hit))
        .collect();
    if args.json {
        return Ok(serde_json::to_string_pretty(&matches)? + "\n");
    }
    if matches.is_empty() {
        return Ok(format!("no class or group matches {query:?}\n"));
    }
    let mut out = String::new();
    for found in &matches {
        match found {
            Match::Class {
                name,
                k400_label,
                k400_clips,
                k600_label,
                note,
                groups,
                ..
            } => {
                let k400 = match (k400_label, k400_clips) {
                    (Some(label), Some(clips)) => format!("K400 #{label:<3} {clips:>5} clips"),
                    _ => String::new(),
                };
                let k600 = k600_label.map_or_else(String::new, |label| format!("K600 #{label}"));
                let mut line = format!("{name:<42} {k400:<22} {k600:<9}");
                if !groups.is_empty() {
                    write!(line, "  groups: {}", groups.join(", "))?;
                }
                if let Some(note) = note {
                    write!(line, "  ({note})")?;
                }
                writeln!(out, "{}", line.trim_end())?;
            }
            Match::Group { name, members, .. } => {
                writeln!(out, "{:<42} group of {} classes", name, members.len())?;
            }
        }
    }
    Ok(out)
}

fn describe(table: &ClassTable, hit: kinetics::Hit) -> Match {
    match hit.target {
        Target::Class(id) => {
            let name = hit.name;
            let note = if let Some(change) = taxonomy::k600_change(&name) {
                Some(match change {
                    kinetics::Change::Renamed { to, .. } => format!("renamed {to:?} in K600"),
                    kinetics::Change::Split { into, .. } => {
                        format!("split into {} in K600", quoted(into))
                    }
                    kinetics::Change::Removed { .. } => "removed in K600".to_owned(),
                })
            } else {
                match taxonomy::k400_predecessor(&name) {
                    Some(old) if old != name => Some(format!("was {old:?} in K400")),
                    None => Some("new in K600".to_owned()),
                    Some(_) => None,
                }
            };
            Match::Class {
                k400_label: table.label_index(id, Version::K400),
                k400_clips: table.paper_clips(id),
                k600_label: table.label_index(id, Version::K600),
                note,
                groups: table
                    .groups(id)
                    .into_iter()
                    .filter_map(|g| taxonomy::groups().get(g).map(|g| g.name))
                    .collect(),
                matched: hit.kind,
                name,
            }
        }
        Target::Group(index) => Match::Group {
            members: taxonomy::groups().get(index).map_or(&[], |g| g.members),
            matched: hit.kind,
            name: hit.name,
        },
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("{name:?}"))
        .collect::<Vec<_>>()
        .join(" and ")
}
