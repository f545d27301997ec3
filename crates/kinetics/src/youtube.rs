//! [`YoutubeId`]: a validated YouTube video id, and the only place where YouTube URLs are built.

use std::fmt;
use std::str::FromStr;

use crate::error::{shown, Error};

/// A YouTube video id: exactly 11 characters from `A-Z a-z 0-9 _ -`, stored as 11 ASCII bytes.
///
/// It can only be constructed validated ([`YoutubeId::parse`], [`YoutubeId::from_bytes`], `FromStr`,
/// serde), so [`YoutubeId::as_str`] and the URL builders never see anything else. Ordering is the
/// byte order of the id (`-` < digits < upper case < `_` < lower case).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YoutubeId([u8; YoutubeId::LEN]);

impl YoutubeId {
    /// Length of every YouTube id, in bytes.
    pub const LEN: usize = 11;

    /// Validates `text` as a YouTube id.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::from_bytes(text.as_bytes())
    }

    /// Validates raw bytes (for example a CSV field) as a YouTube id.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        Self::try_from_bytes(bytes).ok_or_else(|| Error::InvalidYoutubeId {
            value: shown(bytes),
        })
    }

    /// Like [`YoutubeId::from_bytes`], without building an error.
    pub(crate) fn try_from_bytes(bytes: &[u8]) -> Option<Self> {
        let id: [u8; Self::LEN] = bytes.try_into().ok()?;
        id.iter().all(|&b| is_id_byte(b)).then_some(Self(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Always valid: every byte was checked to be ASCII on construction.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The id as its 11 ASCII bytes.
    pub fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    /// `https://www.youtube.com/watch?v=ID&t=STARTs`, the video page starting at `start_ms`
    /// (milliseconds, rounded down to whole seconds as YouTube expects).
    pub fn watch_url(&self, start_ms: u32) -> String {
        format!(
            "https://www.youtube.com/watch?v={}&t={}s",
            self.as_str(),
            start_ms / 1000
        )
    }

    /// `https://www.youtube-nocookie.com/embed/ID?start=S&end=E`, an embeddable player (privacy-enhanced
    /// mode, no cookies until played) limited to the segment `start_ms..end_ms` in milliseconds; the
    /// start is rounded down and the end up to whole seconds, so the segment is always inside.
    pub fn embed_url(&self, start_ms: u32, end_ms: u32) -> String {
        format!(
            "https://www.youtube-nocookie.com/embed/{}?start={}&end={}",
            self.as_str(),
            start_ms / 1000,
            end_ms.div_ceil(1000)
        )
    }
    /// `https://i.ytimg.com/vi/ID/mqdefault.jpg`, the video's 320×180 still image (loaded by the
    /// explorer only after the visitor turns thumbnails on).
    pub fn thumbnail_url(&self) -> String {
        format!("https://i.ytimg.com/vi/{}/mqdefault.jpg", self.as_str())
    }
}

/// `A-Z a-z 0-9 _ -`.
fn is_id_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

impl fmt::Display for YoutubeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for YoutubeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "YoutubeId({})", self.as_str())
    }
}

impl FromStr for YoutubeId {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Self::parse(text)
    }
}

impl TryFrom<&str> for YoutubeId {
    type Error = Error;

    fn try_from(text: &str) -> Result<Self, Error> {
        Self::parse(text)
    }
}

impl serde::Serialize for YoutubeId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for YoutubeId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn accepts_the_youtube_alphabet() {
        for text in ["0wR5jVB-WPk", "---QUuC4vJs", "__________A", "zZ09_-aA9z-"] {
            assert_eq!(YoutubeId::parse(text).unwrap().as_str(), text);
        }
    }

    #[test]
    fn rejects_wrong_length_and_characters() {
        for text in [
            "",
            "0wR5jVB-WP",
            "0wR5jVB-WPkk",
            "0wR5jVB WPk",
            "0wR5jVB+WPk",
            "0wR5jVB-WPé",
        ] {
            let error = YoutubeId::parse(text).unwrap_err();
            assert!(
                matches!(&error, Error::InvalidYoutubeId { value } if value == text),
                "{error}"
            );
        }
        assert_eq!(
            YoutubeId::parse("abc").unwrap_err().to_string(),
            r#""abc" is not a YouTube id (11 characters from A-Z, a-z, 0-9, _ and -)"#
        );
    }

    #[test]
    fn urls() {
        let id = YoutubeId::parse("0wR5jVB-WPk").unwrap();
        assert_eq!(
            id.watch_url(417_000),
            "https://www.youtube.com/watch?v=0wR5jVB-WPk&t=417s"
        );
        assert_eq!(
            id.embed_url(417_500, 427_200),
            "https://www.youtube-nocookie.com/embed/0wR5jVB-WPk?start=417&end=428"
        );
    }

    #[test]
    fn serde_round_trip_validates() {
        let id = YoutubeId::parse("--3ouPhoy2A").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, r#""--3ouPhoy2A""#);
        assert_eq!(serde_json::from_str::<YoutubeId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<YoutubeId>(r#""short""#).is_err());
    }

    #[test]
    fn orders_by_bytes() {
        let mut ids: Vec<_> = ["b0000000000", "-0000000000", "A0000000000", "_0000000000"]
            .into_iter()
            .map(|t| YoutubeId::parse(t).unwrap())
            .collect();
        ids.sort();
        let texts: Vec<_> = ids.iter().map(YoutubeId::as_str).collect();
        assert_eq!(
            texts,
            ["-0000000000", "A0000000000", "_0000000000", "b0000000000"]
        );
    }
}
