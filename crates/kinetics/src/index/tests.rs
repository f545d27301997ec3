#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::parse::{parse, ReadOptions};

fn annotations(name: &str, text: &str) -> Annotations {
    parse(name, text.as_bytes(), &ReadOptions::default()).unwrap()
}

const VAL: &str = "label,youtube_id,time_start,time_end,split,is_cc\n\
                   playing guitar,ccccccccccc,1,11,val,0\n\
                   abseiling,bbbbbbbbbbb,5,15,val,1\n\
                   abseiling,aaaaaaaaaaa,0,10,val,0\n\
                   dying hair,ddddddddddd,3,13,train,0\n";

#[test]
fn records_are_24_bytes() {
    assert_eq!(std::mem::size_of::<Record>(), 24);
}

#[test]
fn class_table_numbering() {
    let table = ClassTable::new();
    assert_eq!(table.len(), 632);
    assert_eq!(table.id("abseiling"), Some(ClassId(0)));
    assert_eq!(table.id("zumba"), Some(ClassId(399)));
    let dyeing = table.id("dyeing hair").unwrap();
    assert!(dyeing.index() >= 400);
    assert_eq!(
        table.label_index(dyeing, Version::K600),
        Version::K600.label_index("dyeing hair")
    );
    assert_eq!(table.label_index(dyeing, Version::K400), None);
    let dying = table.id("dying hair").unwrap();
    assert!(!table.in_version(dying, Version::K600));
    for version in Version::ALL {
        for (label, name) in version.classes().iter().enumerate() {
            let id = table.by_label_index(version, label).unwrap();
            assert_eq!(table.name(id), Some(*name));
            assert_eq!(table.label_index(id, version), Some(label));
        }
    }
    assert_eq!(table.paper_clips(ClassId(0)), Some(1146));
    assert_eq!(table.paper_clips(dyeing), None);
    let group = |name: &str| {
        taxonomy::groups()
            .iter()
            .position(|g| g.name == name)
            .unwrap()
    };
    assert_eq!(table.groups(dying), [group("hair"), group("makeup")]);
    assert_eq!(
        table.groups(dyeing),
        [group("hair"), group("makeup")],
        "through the rename"
    );
}

#[test]
fn counts_and_sorted_clips() {
    let mut index = Index::new();
    let source = index
        .insert(
            annotations("kinetics-400_val.csv", VAL),
            None,
            Merge::Extend,
        )
        .unwrap();
    assert_eq!(index.source(source).unwrap().version, Some(Version::K400));
    assert_eq!(index.len(), 4);
    let stats = index.stats(&Filter::default());
    assert_eq!(
        stats,
        Stats {
            clips: 4,
            labelled: 4,
            classes: 3,
            splits: SplitCounts {
                train: 1,
                val: 3,
                test: 0
            }
        }
    );
    let abseiling = index.classes().id("abseiling").unwrap();
    let counts = index.counts(&Filter::default());
    assert_eq!(counts.class(abseiling), [0, 2, 0]);
    let ids: Vec<String> = index
        .clips(Some(abseiling), &Filter::default())
        .map(|c| c.youtube_id.to_string())
        .collect();
    assert_eq!(ids, ["aaaaaaaaaaa", "bbbbbbbbbbb"], "sorted by YouTube id");
    let clip = index
        .clips(Some(abseiling), &Filter::default())
        .nth(1)
        .unwrap();
    assert_eq!(clip.is_cc, Some(true));
    assert_eq!(
        clip.watch_url(),
        "https://www.youtube.com/watch?v=bbbbbbbbbbb&t=5s"
    );
    assert_eq!(
        clip.embed_url(),
        "https://www.youtube-nocookie.com/embed/bbbbbbbbbbb?start=5&end=15"
    );
}

#[test]
fn filters() {
    let mut index = Index::new();
    index
        .insert(
            annotations("kinetics-400_val.csv", VAL),
            None,
            Merge::Extend,
        )
        .unwrap();
    let test =
        "youtube_id,time_start,time_end,split\neeeeeeeeeee,0,10,test\naaaaaaaaaaa,30,40,test\n";
    let test_source = index
        .insert(
            annotations("kinetics-600_test.csv", test),
            None,
            Merge::Extend,
        )
        .unwrap();

    let val = Filter {
        split: Some(Split::Val),
        ..Default::default()
    };
    assert_eq!(index.stats(&val).clips, 3);
    let k600 = Filter {
        version: Some(Version::K600),
        ..Default::default()
    };
    assert_eq!(
        index.stats(&k600),
        Stats {
            clips: 2,
            labelled: 0,
            classes: 0,
            splits: SplitCounts {
                train: 0,
                val: 0,
                test: 2
            }
        }
    );
    let k400 = Filter {
        version: Some(Version::K400),
        ..Default::default()
    };
    assert_eq!(index.stats(&k400).clips, 4);
    let hair = taxonomy::groups()
        .iter()
        .position(|g| g.name == "hair")
        .unwrap();
    let in_hair = Filter {
        group: Some(hair),
        ..Default::default()
    };
    assert_eq!(index.stats(&in_hair).clips, 1);
    let music = taxonomy::groups()
        .iter()
        .position(|g| g.name == "music")
        .unwrap();
    assert_eq!(
        index
            .stats(&Filter {
                group: Some(music),
                split: Some(Split::Train),
                ..Default::default()
            })
            .clips,
        0
    );
    let by_source = Filter {
        source: Some(test_source),
        ..Default::default()
    };
    assert_eq!(index.clips(None, &by_source).count(), 2);
    assert_eq!(index.clips(None, &val).count(), 0);
}

#[test]
fn a_video_with_several_clips() {
    let mut index = Index::new();
    index
        .insert(
            annotations("kinetics-400_val.csv", VAL),
            None,
            Merge::Extend,
        )
        .unwrap();
    let test = "youtube_id,time_start,time_end,split\naaaaaaaaaaa,30,40,test\n";
    index
        .insert(annotations("t.csv", test), None, Merge::Extend)
        .unwrap();
    let id = YoutubeId::parse("aaaaaaaaaaa").unwrap();
    let clips = index.clips_with_id(id);
    assert_eq!(clips.len(), 2);
    assert_eq!(
        (clips[0].segment.start_ms, clips[0].label),
        (0, index.classes().id("abseiling"))
    );
    assert_eq!((clips[1].segment.start_ms, clips[1].label), (30_000, None));
    assert!(index
        .clips_with_id(YoutubeId::parse("zzzzzzzzzzz").unwrap())
        .is_empty());
}

#[test]
fn extend_replace_and_remove() {
    let mut index = Index::new();
    let first = index
        .insert(annotations("a.csv", VAL), None, Merge::Extend)
        .unwrap();
    index
        .insert(annotations("a.csv", VAL), None, Merge::Extend)
        .unwrap();
    assert_eq!((index.len(), index.sources().count()), (8, 2));

    let smaller = "label,youtube_id,time_start,time_end,split\nyoga,fffffffffff,0,10,train\n";
    let replaced = index
        .insert(annotations("a.csv", smaller), None, Merge::Replace)
        .unwrap();
    assert_eq!(
        replaced, first,
        "the first source of that name is replaced, in place"
    );
    assert_eq!(index.len(), 5);
    let yoga = index.classes().id("yoga").unwrap();
    assert_eq!(index.counts(&Filter::default()).class(yoga), [1, 0, 0]);

    let other = index
        .insert(annotations("b.csv", smaller), None, Merge::Replace)
        .unwrap();
    assert_eq!(index.sources().count(), 3, "replace adds a new name");
    assert_eq!(index.remove(other).unwrap().name, "b.csv");
    assert_eq!(index.remove(other), None);
    assert_eq!(index.len(), 5);
    let reused = index
        .insert(annotations("c.csv", smaller), None, Merge::Extend)
        .unwrap();
    assert_eq!(reused, other, "a free slot is reused");
    // Records stay sorted by class, then id.
    let keys: Vec<_> = index.records.iter().map(Record::key).collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn unknown_labels_get_new_classes() {
    let mut index = Index::new();
    let k700 = "label,youtube_id,time_start,time_end,split\nsome new class,aaaaaaaaaaa,0,10,train\nabseiling,bbbbbbbbbbb,0,10,train\n";
    let source = index
        .insert(annotations("k700.csv", k700), None, Merge::Extend)
        .unwrap();
    assert_eq!(index.source(source).unwrap().version, None);
    let id = index.classes().id("some new class").unwrap();
    assert_eq!(id, ClassId(632));
    assert_eq!(index.clips(Some(id), &Filter::default()).count(), 1);
    assert_eq!(index.stats(&Filter::default()).classes, 2);
    assert!(index.classes().groups(id).is_empty());
}

#[test]
fn a_file_refused_for_want_of_a_slot_adds_no_classes() {
    let mut index = Index::new();
    for n in 0..MAX_SOURCES {
        index
            .insert(
                annotations(&format!("part-{n}.csv"), VAL),
                None,
                Merge::Extend,
            )
            .unwrap();
    }
    let classes = index.classes().len();
    let extra = "label,youtube_id,time_start,time_end,split\n\
                 juggling chainsaws,eeeeeeeeeee,0,10,train\n";
    let error = index
        .insert(annotations("one-too-many.csv", extra), None, Merge::Extend)
        .unwrap_err();
    assert!(matches!(error, Error::TooMany { .. }), "{error}");
    assert_eq!(index.classes().len(), classes);
    assert_eq!(index.classes().id("juggling chainsaws"), None);
    assert_eq!(index.len(), MAX_SOURCES * 4);
}

#[test]
fn a_file_with_too_many_classes_adds_none_of_them() {
    let mut index = Index::new();
    let mut csv = String::from("label,youtube_id,time_start,time_end,split\n");
    for n in 0..MAX_CLASSES {
        csv.push_str(&format!("made-up class {n},eeeeeeeeeee,0,10,train\n"));
    }
    let error = index
        .insert(annotations("huge.csv", &csv), None, Merge::Extend)
        .unwrap_err();
    assert!(matches!(error, Error::TooMany { .. }), "{error}");
    assert_eq!(index.classes().len(), ClassTable::new().len());
    assert_eq!(index.classes().id("made-up class 0"), None);
    assert!(index.is_empty());
    // The index still takes files afterwards.
    index
        .insert(annotations("val.csv", VAL), None, Merge::Extend)
        .unwrap();
    assert_eq!(index.len(), 4);
}
