//! A compact binary encoding of [`Annotations`], for the web app to load instead of CSV.
//!
//! The encoding keeps everything [`crate::parse()`] reads (file name, variant, labels, clips in file
//! order, `is_cc`, the number of skipped rows; not the skipped rows' error messages). Columns are
//! stored separately so that a generic compressor (the web server's gzip or brotli) finds the
//! repetition, and the repetitive ones are already run-length coded:
//!
//! ```text
//! magic     4 bytes  "KNTK"
//! version   u8       1
//! format    u8       bit 0: JSON; bit 1: CSV with a label column; bit 2: CSV with an is_cc column
//! unit      u8       0: times in milliseconds; 1: in whole seconds (all official files)
//! source    str      file name
//! labels    varint count, then count × str
//! clips     varint n
//! ids       n × 11 ASCII bytes (YouTube ids, validated on decoding)
//! label     varint runs, then runs × (varint label + 1 (0: unlabelled), varint run length)
//! split     varint runs, then runs × (u8 split (0 train, 1 val, 2 test), varint run length)
//! start     n × varint, in `unit`
//! length    n × varint, end − start in `unit`
//! is_cc     u8 0: none; 1: all known, then ⌈n/8⌉ bytes of values; 2: some known, then ⌈n/8⌉ bytes
//!           of "known" bits and ⌈n/8⌉ bytes of values (bit i of byte i/8, least significant first)
//! skipped   varint rows skipped when the file was read
//! ```
//!
//! `str` is a varint byte length then UTF-8; a varint is unsigned LEB128. Official files take about
//! 14 bytes per clip (11 of them the id), against about 40 in CSV.

use crate::error::Error;
use crate::parse::{is_formula_like, AnnotatedClip, Annotations, Format, Segment, Skipped, Split};
use crate::youtube::YoutubeId;

/// The first bytes of an asset.
pub const MAGIC: [u8; 4] = *b"KNTK";

/// The encoding version written by [`encode`] and read by [`decode`].
pub const VERSION: u8 = 1;

/// Encodes annotations (see the module docs for the layout).
pub fn encode(annotations: &Annotations) -> Vec<u8> {
    let clips = &annotations.clips;
    let mut out = Vec::with_capacity(64 + clips.len() * 15);
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.push(match annotations.format {
        Format::Json => 1,
        Format::Csv { labelled, is_cc } => (u8::from(labelled) << 1) | (u8::from(is_cc) << 2),
    });
    let whole_seconds = clips
        .iter()
        .all(|clip| clip.segment.start_ms % 1000 == 0 && clip.segment.end_ms % 1000 == 0);
    let unit = if whole_seconds { 1000 } else { 1 };
    out.push(u8::from(whole_seconds));
    put_str(&mut out, &annotations.source);
    put_varint(&mut out, annotations.labels.len() as u64);
    for label in &annotations.labels {
        put_str(&mut out, label);
    }
    put_varint(&mut out, clips.len() as u64);
    for clip in clips {
        out.extend_from_slice(clip.youtube_id.as_bytes());
    }
    put_runs(
        &mut out,
        clips
            .iter()
            .map(|clip| clip.label.map_or(0, |l| u64::from(l) + 1)),
        put_varint,
    );
    put_runs(
        &mut out,
        clips.iter().map(|clip| clip.split.index() as u64),
        |out, split| out.push(split as u8),
    );
    for clip in clips {
        put_varint(&mut out, u64::from(clip.segment.start_ms / unit));
    }
    for clip in clips {
        put_varint(&mut out, u64::from(clip.segment.duration_ms() / unit));
    }
    let known = clips.iter().filter(|clip| clip.is_cc.is_some()).count();
    let bits = |f: &dyn Fn(&AnnotatedClip) -> bool| {
        let mut bytes = vec![0_u8; clips.len().div_ceil(8)];
        for (i, clip) in clips.iter().enumerate() {
            if f(clip) {
                bytes[i / 8] |= 1 << (i % 8);
            }
        }
        bytes
    };
    if known == 0 {
        out.push(0);
    } else if known == clips.len() {
        out.push(1);
        out.extend(bits(&|clip| clip.is_cc == Some(true)));
    } else {
        out.push(2);
        out.extend(bits(&|clip| clip.is_cc.is_some()));
        out.extend(bits(&|clip| clip.is_cc == Some(true)));
    }
    put_varint(&mut out, annotations.skipped.rows as u64);
    out
}

/// Decodes an asset written by [`encode`], validating everything (ids, labels as [`crate::parse()`]
/// does, label indices, run lengths, times); a malformed asset is an [`Error::Asset`] with the byte offset.
pub fn decode(bytes: &[u8]) -> Result<Annotations, Error> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(4)? != MAGIC {
        return Err(r.error_at(0, "not a Kinetiscope annotation asset (bad magic)"));
    }
    if r.u8()? != VERSION {
        return Err(r.error_at(4, "unsupported asset version"));
    }
    let format = match r.u8()? {
        1 => Format::Json,
        bits if bits & 1 == 0 && bits < 8 => Format::Csv {
            labelled: bits & 2 != 0,
            is_cc: bits & 4 != 0,
        },
        _ => return Err(r.error("unknown format byte")),
    };
    let unit = match r.u8()? {
        0 => 1,
        1 => 1000,
        _ => return Err(r.error("unknown time unit")),
    };
    let source = r.string()?;
    let label_count = r.count(1)?;
    let mut labels = Vec::with_capacity(label_count);
    for _ in 0..label_count {
        let start = r.at;
        let label = r.string()?;
        // The same rule as `parse`: an asset is written from parsed files, but one that was not (edited,
        // or of another build) must not bring in what `export` would write as a formula.
        if is_formula_like(&label) {
            return Err(r.error_at(
                start,
                "a label begins with =, +, -, @, a tab or a carriage return (a spreadsheet would run it as a formula)",
            ));
        }
        labels.push(label);
    }
    let n = r.count(YoutubeId::LEN + 2)?;
    let id_bytes = r.take(n * YoutubeId::LEN)?;
    let mut ids = Vec::with_capacity(n);
    for (i, raw) in id_bytes.chunks_exact(YoutubeId::LEN).enumerate() {
        let id = YoutubeId::try_from_bytes(raw).ok_or_else(|| {
            r.error_at(
                r.at - id_bytes.len() + i * YoutubeId::LEN,
                "invalid YouTube id",
            )
        })?;
        ids.push(id);
    }
    let label_runs = r.runs(n, |r| r.varint())?;
    let split_runs = r.runs(n, |r| r.u8().map(u64::from))?;
    let mut starts = Vec::with_capacity(n);
    for _ in 0..n {
        starts.push(r.time(unit)?);
    }
    let mut clips = Vec::with_capacity(n);
    let mut labels_iter = label_runs
        .iter()
        .flat_map(|&(v, len)| std::iter::repeat_n(v, len));
    let mut splits_iter = split_runs
        .iter()
        .flat_map(|&(v, len)| std::iter::repeat_n(v, len));
    for (&youtube_id, &start_ms) in ids.iter().zip(&starts) {
        let length = r.time(unit)?;
        let end_ms = start_ms
            .checked_add(length)
            .ok_or_else(|| r.error("segment end beyond u32 milliseconds"))?;
        let label = match labels_iter.next().unwrap_or_default() {
            0 => None,
            l if l <= label_count as u64 => {
                Some(u16::try_from(l - 1).map_err(|_| r.error("label index beyond u16"))?)
            }
            _ => return Err(r.error("label index beyond the label table")),
        };
        let split = splits_iter
            .next()
            .and_then(|s| Split::from_index(s as usize))
            .ok_or_else(|| r.error("unknown split"))?;
        clips.push(AnnotatedClip {
            youtube_id,
            segment: Segment { start_ms, end_ms },
            label,
            split,
            is_cc: None,
        });
    }
    let bitset_len = n.div_ceil(8);
    let bit = |bytes: &[u8], i: usize| bytes[i / 8] & (1 << (i % 8)) != 0;
    match r.u8()? {
        0 => {}
        1 => {
            let values = r.take(bitset_len)?;
            for (i, clip) in clips.iter_mut().enumerate() {
                clip.is_cc = Some(bit(values, i));
            }
        }
        2 => {
            let known = r.take(bitset_len)?;
            let values = r.take(bitset_len)?;
            for (i, clip) in clips.iter_mut().enumerate() {
                clip.is_cc = bit(known, i).then(|| bit(values, i));
            }
        }
        _ => return Err(r.error("unknown is_cc tag")),
    }
    let skipped = usize::try_from(r.varint()?).map_err(|_| r.error("skipped count too large"))?;
    if r.at != bytes.len() {
        return Err(r.error("trailing bytes after the asset"));
    }
    Ok(Annotations {
        source,
        format,
        labels,
        clips,
        skipped: Skipped {
            rows: skipped,
            first_errors: Vec::new(),
        },
    })
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_varint(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

/// Run-length codes `values`: run count, then (value, length) pairs.
fn put_runs(
    out: &mut Vec<u8>,
    values: impl Iterator<Item = u64>,
    put_value: impl Fn(&mut Vec<u8>, u64),
) {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for value in values {
        match runs.last_mut() {
            Some((last, length)) if *last == value => *length += 1,
            _ => runs.push((value, 1)),
        }
    }
    put_varint(out, runs.len() as u64);
    for (value, length) in runs {
        put_value(out, value);
        put_varint(out, length);
    }
}

/// A cursor over the asset bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn error(&self, problem: &'static str) -> Error {
        self.error_at(self.at, problem)
    }

    fn error_at(&self, offset: usize, problem: &'static str) -> Error {
        Error::Asset { offset, problem }
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], Error> {
        let end = self
            .at
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len());
        let end = end.ok_or_else(|| self.error("truncated"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }

    fn varint(&mut self) -> Result<u64, Error> {
        let start = self.at;
        let mut value = 0_u64;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.error_at(start, "varint longer than 64 bits"))
    }

    /// A count of items of at least `min_bytes` each, checked against the bytes left (so a corrupt
    /// count cannot make us allocate gigabytes).
    fn count(&mut self, min_bytes: usize) -> Result<usize, Error> {
        let start = self.at;
        let value = self.varint()?;
        let left = (self.bytes.len() - self.at) / min_bytes.max(1);
        usize::try_from(value)
            .ok()
            .filter(|&count| count <= left)
            .ok_or_else(|| self.error_at(start, "count larger than the asset"))
    }

    fn string(&mut self) -> Result<String, Error> {
        let len = self.count(1)?;
        let start = self.at;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.error_at(start, "text is not UTF-8"))
    }

    /// Runs of values covering exactly `n` items.
    fn runs(
        &mut self,
        n: usize,
        value: impl Fn(&mut Self) -> Result<u64, Error>,
    ) -> Result<Vec<(u64, usize)>, Error> {
        let count = self.count(2)?;
        let mut runs = Vec::with_capacity(count);
        let mut covered = 0_usize;
        for _ in 0..count {
            let v = value(self)?;
            let start = self.at;
            let length = usize::try_from(self.varint()?)
                .ok()
                .filter(|&length| length <= n - covered)
                .ok_or_else(|| self.error_at(start, "runs longer than the clip count"))?;
            covered += length;
            runs.push((v, length));
        }
        if covered != n {
            return Err(self.error("runs shorter than the clip count"));
        }
        Ok(runs)
    }

    /// A time in `unit` milliseconds, as milliseconds.
    fn time(&mut self, unit: u32) -> Result<u32, Error> {
        let start = self.at;
        let value = self.varint()?;
        u32::try_from(value)
            .ok()
            .and_then(|v| v.checked_mul(unit))
            .ok_or_else(|| self.error_at(start, "time beyond u32 milliseconds"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::parse::{parse, ReadOptions};

    fn sample() -> Annotations {
        let csv = "label,youtube_id,time_start,time_end,split,is_cc\n\
                   abseiling,0wR5jVB-WPk,417,427,val,0\n\
                   abseiling,3caPS4FHFF8,36,46,val,1\n\
                   \"air drumming\",--nQbRBEz2s,104,114,train,\n\
                   ,--nQbRBEz2s,0,10,test,0\n";
        parse("sample.csv", csv.as_bytes(), &ReadOptions::default()).unwrap()
    }

    #[test]
    fn round_trip() {
        let annotations = sample();
        assert_eq!(
            annotations.clips[2].is_cc, None,
            "mixed is_cc exercises tag 2"
        );
        let bytes = encode(&annotations);
        assert_eq!(decode(&bytes).unwrap(), annotations);
    }

    #[test]
    fn round_trip_milliseconds_and_json() {
        let json = r#"{"0wR5jVB-WPk": {"annotations": {"label": "x", "segment": [1.5, 11.25]}, "subset": "validate"}}"#;
        let annotations = parse("a.json", json.as_bytes(), &ReadOptions::default()).unwrap();
        let bytes = encode(&annotations);
        assert_eq!(bytes[6], 0, "unit is milliseconds");
        assert_eq!(decode(&bytes).unwrap(), annotations);
    }

    #[test]
    fn empty_round_trip() {
        let annotations = parse(
            "t.csv",
            b"youtube_id,time_start,time_end,split\n",
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(decode(&encode(&annotations)).unwrap(), annotations);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = encode(&sample());
        for len in 0..bytes.len() {
            let error = decode(&bytes[..len]).unwrap_err();
            assert!(matches!(error, Error::Asset { .. }), "{len}: {error}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer)
            .unwrap_err()
            .to_string()
            .contains("trailing bytes"));
    }

    #[test]
    fn corrupt_bytes_are_errors_not_panics() {
        let bytes = encode(&sample());
        for at in 0..bytes.len() {
            for value in [0x00, 0x7f, 0xff, b'#'] {
                let mut corrupt = bytes.clone();
                corrupt[at] = value;
                let _ = decode(&corrupt);
            }
        }
        assert_eq!(
            decode(b"KNTX\x01").unwrap_err(),
            Error::Asset {
                offset: 0,
                problem: "not a Kinetiscope annotation asset (bad magic)"
            }
        );
        let mut bad_id = bytes.clone();
        let first_id = bytes.windows(11).position(|w| w == b"0wR5jVB-WPk").unwrap();
        bad_id[first_id] = b'!';
        assert_eq!(
            decode(&bad_id).unwrap_err(),
            Error::Asset {
                offset: first_id,
                problem: "invalid YouTube id"
            }
        );
    }

    #[test]
    fn formula_like_labels_are_refused() {
        // `parse` refuses these, so the asset is written from annotations built by hand; labels are
        // not trimmed in an asset, so a leading tab or carriage return reaches the check here.
        for bad in [
            "=HYPERLINK(\"http://x\")",
            "@SUM(1+1)*cmd",
            "+1+1",
            "-2+3",
            "\tx",
            "\rx",
        ] {
            let mut annotations = sample();
            annotations.labels[1] = bad.to_owned();
            let bytes = encode(&annotations);
            let at = bytes
                .windows(bad.len())
                .position(|w| w == bad.as_bytes())
                .unwrap();
            assert_eq!(
                decode(&bytes).unwrap_err(),
                Error::Asset {
                    offset: at - 1,
                    problem: "a label begins with =, +, -, @, a tab or a carriage return (a spreadsheet would run it as a formula)"
                },
                "{bad:?}"
            );
        }
    }

    #[test]
    fn varints() {
        for value in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            let mut r = Reader { bytes: &out, at: 0 };
            assert_eq!(r.varint().unwrap(), value);
            assert_eq!(r.at, out.len());
        }
    }
}
