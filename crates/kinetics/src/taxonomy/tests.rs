#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use super::*;

/// A label map of deepmind/kinetics-i3d, from the shared data (read-only, outside the repository).
fn label_map(version: u16) -> Vec<String> {
    let path = format!(
        "{}/../../../shared/data/kinetics/label_map_{version}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines().map(str::to_owned).collect()
}

#[test]
fn k400_classes_are_the_model_labels_in_order() {
    assert_eq!(Version::K400.num_classes(), 400);
    assert_eq!(Version::K400.classes(), label_map(400));
}

#[test]
fn k600_classes_are_the_model_labels_in_order() {
    assert_eq!(Version::K600.num_classes(), 600);
    assert_eq!(Version::K600.classes(), label_map(600));
}

#[test]
fn label_order_is_byte_order_so_binary_search_works() {
    for version in Version::ALL {
        let classes = version.classes();
        assert!(classes.windows(2).all(|w| w[0] < w[1]), "{version}");
        for (index, name) in classes.iter().enumerate() {
            assert_eq!(version.label_index(name), Some(index));
        }
    }
    assert_eq!(Version::K400.label_index("no such class"), None);
}

#[test]
fn appendix_a_clip_counts() {
    let counts: Vec<u32> = k400_classes().iter().map(|&(_, clips)| clips).collect();
    assert_eq!(counts.iter().sum::<u32>(), K400_TOTAL_CLIPS);
    assert_eq!(k400_clip_count("abseiling"), Some(1146));
    assert_eq!(k400_clip_count("zumba"), Some(1093));
    assert_eq!(k400_clip_count("massaging person's head"), Some(672));
    assert_eq!(k400_clip_count("dyeing hair"), None);
    // "at least 400 clips" holds for all but 5 classes in the appendix as printed.
    let below: Vec<&str> = k400_classes()
        .iter()
        .filter(|&&(_, clips)| clips < 400)
        .map(|&(name, _)| name)
        .collect();
    assert_eq!(
        below,
        [
            "sniffing",
            "taking a shower",
            "tying bow tie",
            "using segway",
            "yawning"
        ]
    );
    assert_eq!(counts.iter().max(), Some(&1150));
    assert_eq!(counts.iter().min(), Some(&378));
}

#[test]
fn paper_spellings_are_reconciled() {
    for (file_name, paper_name) in K400_PAPER_SPELLINGS {
        assert!(Version::K400.label_index(file_name).is_some());
        assert!(Version::K400.label_index(paper_name).is_none());
    }
}

#[test]
fn appendix_b_groups() {
    assert_eq!(groups().len(), 38);
    let k400: HashSet<&str> = Version::K400.classes().iter().copied().collect();
    for group in groups() {
        for member in group.members {
            assert!(k400.contains(member), "{}: {member}", group.name);
        }
        let unique: HashSet<_> = group.members.iter().collect();
        assert_eq!(unique.len(), group.members.len(), "{}", group.name);
    }
    // The printed counts that differ from the printed lists.
    let differing: Vec<(&str, u16, usize)> = groups()
        .iter()
        .filter(|g| usize::from(g.paper_count) != g.members.len())
        .map(|g| (g.name, g.paper_count, g.members.len()))
        .collect();
    assert_eq!(
        differing,
        [
            ("body motions", 16, 15),
            ("cloths", 8, 9),
            ("mobility – land", 20, 21),
            ("touching person", 11, 10)
        ]
    );
    let memberships: usize = groups().iter().map(|g| g.members.len()).sum();
    assert_eq!(memberships, 443);
    assert_eq!(group("music").unwrap().members.len(), 29);
    assert_eq!(
        group("golf").unwrap().members,
        ["golf chipping", "golf driving", "golf putting"]
    );
}

#[test]
fn a_class_may_be_in_several_groups() {
    let names = |class: &str| -> Vec<&str> { groups_of(class).map(|g| groups()[g].name).collect() };
    assert_eq!(names("air drumming"), ["body motions", "hands"]);
    assert_eq!(names("diving cliff"), ["heights", "mobility – water"]);
    assert_eq!(names("abseiling"), ["heights"]);
    assert!(names("yoga").is_empty());
    assert!(group("martial arts")
        .unwrap()
        .contains("punching person (boxing)"));
}

#[test]
fn the_changes_from_k400_to_k600() {
    let changes = k400_to_k600_changes();
    assert_eq!(changes.len(), 32);
    let count = |f: fn(&Change) -> bool| changes.iter().filter(|c| f(c)).count();
    assert_eq!(count(|c| matches!(c, Change::Renamed { .. })), 10);
    assert_eq!(count(|c| matches!(c, Change::Split { .. })), 2);
    assert_eq!(count(|c| matches!(c, Change::Removed { .. })), 20);
    // The examples the note gives.
    assert_eq!(k600_successors("dying hair"), ["dyeing hair"]);
    assert_eq!(
        k600_successors("hugging"),
        ["hugging (not baby)", "hugging baby"]
    );
    assert_eq!(
        k600_successors("opening bottle"),
        ["opening bottle (not wine)", "opening wine bottle"]
    );
    assert!(k600_successors("drinking").is_empty());
    assert_eq!(k600_successors("abseiling"), ["abseiling"]);
    assert_eq!(
        k600_change("tying tie"),
        Some(&Change::Renamed {
            from: "tying tie",
            to: "tying necktie"
        })
    );
    assert_eq!(k400_predecessor("hugging baby"), Some("hugging"));
    assert_eq!(k400_predecessor("dyeing hair"), Some("dying hair"));
    assert_eq!(k400_predecessor("abseiling"), Some("abseiling"));
    assert_eq!(k400_predecessor("acting in play"), None);
}

#[test]
fn k600_is_the_kept_k400_classes_plus_the_notes_appendix() {
    let changed: HashSet<&str> = k400_to_k600_changes().iter().map(Change::from).collect();
    let kept: Vec<&str> = Version::K400
        .classes()
        .iter()
        .copied()
        .filter(|c| !changed.contains(c))
        .collect();
    assert_eq!(
        kept.len(),
        368,
        "the note: 368 of the original 400 classes are exactly the same"
    );
    assert_eq!(new_in_k600().len(), 232);
    let mut union: Vec<&str> = kept.iter().chain(new_in_k600()).copied().collect();
    union.sort_unstable();
    assert_eq!(union, Version::K600.classes());
    // Every successor is one of the appendix's new-or-renamed classes, and each appears once.
    let successors: Vec<&str> = k400_to_k600_changes()
        .iter()
        .flat_map(|c| c.successors().iter().copied())
        .collect();
    assert_eq!(successors.len(), 14);
    assert!(successors.iter().all(|s| new_in_k600().contains(s)));
    assert_eq!(successors.iter().collect::<HashSet<_>>().len(), 14);
    assert_eq!(
        new_in_k600().len() - successors.len(),
        218,
        "classes new in Kinetics-600"
    );
}

#[test]
fn groups_in_k600_follow_renames_and_splits() {
    let hair = group("hair").unwrap();
    let k600 = hair.members_in(Version::K600);
    assert!(k600.contains(&"dyeing hair"));
    assert!(!k600.contains(&"dying hair"));
    let touching = group("touching person").unwrap().members_in(Version::K600);
    assert!(touching.contains(&"hugging baby") && touching.contains(&"hugging (not baby)"));
    let eating = group("eating + drinking").unwrap();
    assert!(!eating.members_in(Version::K600).contains(&"drinking"));
    assert_eq!(eating.members_in(Version::K400).len(), 17);
    for group in groups() {
        for name in group.members_in(Version::K600) {
            assert!(Version::K600.label_index(name).is_some(), "{name}");
        }
    }
}

#[test]
fn version_parsing() {
    for text in [
        "400",
        "k400",
        "K400",
        "kinetics-400",
        "Kinetics400",
        " kinetics_400 ",
    ] {
        assert_eq!(Version::parse(text), Some(Version::K400), "{text}");
    }
    assert_eq!(Version::parse("600"), Some(Version::K600));
    assert_eq!(Version::parse("700"), None);
    assert_eq!(Version::K600.to_string(), "Kinetics-600");
    assert_eq!(serde_json::to_string(&Version::K400).unwrap(), "\"400\"");
}
