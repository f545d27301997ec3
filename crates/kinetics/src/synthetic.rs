//! A large annotation file made from real rows, for measuring how fast files are read: the native benches and the
//! browser's speed test both build their 545,000-row file (the size of the Kinetics-700-2020 train split) here.
//! Its clips do not exist on YouTube: the ids are made up, valid in form only.

use crate::{Annotations, Error};

/// An 11-character YouTube id made from `n`, scattered (multiplied by an odd constant) so that consecutive `n`
/// do not give ids in sorted order.
pub fn fresh_id(n: u64) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut x = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (0..11)
        .map(|_| {
            let c = ALPHABET[(x & 63) as usize] as char;
            x = x.rotate_right(6);
            c
        })
        .collect()
}

/// A `label,youtube_id,time_start,time_end,split` CSV of `rows` train rows: the labelled clips of `sources` (real,
/// parsed annotation files) cycled in order, each with a [`fresh_id`], times in whole seconds.
///
/// Empty (header only) when `sources` holds no labelled clip.
pub fn train_split_csv(sources: &[Annotations], rows: usize) -> Result<Vec<u8>, Error> {
    let clips: Vec<(&str, u32, u32)> = sources
        .iter()
        .flat_map(|annotations| {
            annotations.clips.iter().filter_map(|clip| {
                let label = annotations.label(clip)?;
                Some((
                    label,
                    clip.segment.start_ms / 1000,
                    clip.segment.end_ms / 1000,
                ))
            })
        })
        .collect();
    let csv_error = |line: usize, e: csv::Error| Error::Csv {
        file: "synthetic.csv".into(),
        line: line as u64,
        message: e.to_string(),
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(["label", "youtube_id", "time_start", "time_end", "split"])
        .map_err(|e| csv_error(1, e))?;
    for (n, (label, start, end)) in clips.iter().cycle().take(rows).enumerate() {
        writer
            .write_record([
                *label,
                &fresh_id(n as u64),
                &start.to_string(),
                &end.to_string(),
                "train",
            ])
            .map_err(|e| csv_error(n + 2, e))?;
    }
    writer
        .into_inner()
        .map_err(|e| csv_error(rows + 1, e.into_error().into()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{parse, ReadOptions};

    #[test]
    fn the_synthetic_file_reads_back_with_the_real_labels_and_fresh_ids() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/kinetics/kinetics-400_val.csv"
        );
        let real = parse(
            "kinetics-400_val.csv",
            &std::fs::read(path).unwrap(),
            &ReadOptions::default(),
        )
        .unwrap();
        let rows = real.clips.len() + 10;
        let csv = train_split_csv(std::slice::from_ref(&real), rows).unwrap();
        let synthetic = parse("synthetic.csv", &csv, &ReadOptions::default()).unwrap();
        assert_eq!(synthetic.clips.len(), rows);
        // Cycled: row `len` has the label of row 0 again, with its own id.
        let (first, again) = (&synthetic.clips[0], &synthetic.clips[real.clips.len()]);
        assert_eq!(synthetic.label(first), real.label(&real.clips[0]));
        assert_eq!(synthetic.label(again), synthetic.label(first));
        assert_ne!(first.youtube_id, again.youtube_id);
    }
}
