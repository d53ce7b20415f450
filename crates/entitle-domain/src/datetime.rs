//! Date-times on the wire: accepted in every rendering Adapty's docs show, emitted as RFC 3339
//! in UTC with a `+00:00` offset (DESIGN.md §3.7). Precision is the microsecond, which is what
//! Adapty emits and what both storage backends keep exactly.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// An instant in UTC, microsecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_offset(OffsetDateTime::now_utc())
    }

    pub fn from_unix_micros(micros: i64) -> Self {
        Self(micros)
    }

    pub fn unix_micros(self) -> i64 {
        self.0
    }

    pub fn unix_millis(self) -> i64 {
        self.0.div_euclid(1000)
    }

    pub fn from_offset(at: OffsetDateTime) -> Self {
        let nanos = at.unix_timestamp_nanos();
        Self((nanos.div_euclid(1000)) as i64)
    }

    pub fn to_offset(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    pub fn plus_micros(self, micros: i64) -> Self {
        Self(self.0.saturating_add(micros))
    }

    /// Parses any of the renderings the docs use:
    /// `2024-01-15T10:30:00Z`, `2024-12-24T10:50:23+00:00`,
    /// `2025-01-05T13:27:47.461425+00:00`, `2022-10-12T09:42:50.000000+0000`;
    /// a rendering without an offset is read as UTC.
    pub fn parse(text: &str) -> Option<Self> {
        if let Some(at) = Self::parse_canonical(text.as_bytes()) {
            return Some(at);
        }
        let text = text.trim();
        if text.len() < 19 || !text.is_ascii() {
            return None;
        }
        // RFC 3339 allows a lower-case `t` and `z`.
        let upper = text.to_ascii_uppercase();
        let text = upper.as_str();
        let normalised = with_colon_in_offset(text);
        if let Ok(at) = OffsetDateTime::parse(&normalised, &Rfc3339) {
            return in_supported_range(at);
        }
        let naive = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
        );
        PrimitiveDateTime::parse(text, naive)
            .ok()
            .and_then(|at| in_supported_range(at.assume_utc()))
    }

    /// Exactly [`Self::to_rfc3339`]'s own rendering (`YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`), read
    /// without allocating: stored documents hold dozens of these. Anything else is `None` and
    /// goes to the general parser, which agrees on every string this accepts.
    fn parse_canonical(text: &[u8]) -> Option<Self> {
        let micros = match text.len() {
            25 => 0,
            32 if text[19] == b'.' => number(&text[20..26])?,
            _ => return None,
        };
        let tail = &text[text.len() - 6..];
        let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
        if tail != b"+00:00" || separators.iter().any(|&(at, byte)| text[at] != byte) {
            return None;
        }
        let year = i32::try_from(number(&text[..4])?)
            .ok()
            .filter(|&year| year >= 1)?;
        let month = Month::try_from(u8::try_from(number(&text[5..7])?).ok()?).ok()?;
        let day = u8::try_from(number(&text[8..10])?).ok()?;
        let date = Date::from_calendar_date(year, month, day).ok()?;
        let (hour, minute, second) = (
            number(&text[11..13])?,
            number(&text[14..16])?,
            number(&text[17..19])?,
        );
        if hour >= 24 || minute >= 60 || second >= 60 {
            return None;
        }
        let days = i64::from(date.to_julian_day() - UNIX_EPOCH_DAY);
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
        Some(Self(seconds * 1_000_000 + micros))
    }

    /// The rendering of Adapty's webhook payloads: `2026-01-10T12:00:00.000000+0000`.
    pub fn to_event_format(self) -> String {
        let at = self.to_offset().to_offset(UtcOffset::UTC);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+0000",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second(),
            at.microsecond()
        )
    }

    /// RFC 3339 in UTC with `+00:00`; microseconds only when there are any.
    pub fn to_rfc3339(self) -> String {
        let mut out = [0u8; RFC3339_MAX];
        match self.write_rfc3339(&mut out) {
            Some(text) => text.to_owned(),
            None => self.to_rfc3339_general(),
        }
    }

    /// [`Self::to_rfc3339`] into a buffer, without allocating: a profile response renders
    /// a dozen of these. `None` outside the years 1..=9999, which
    /// [`Self::to_rfc3339_general`] renders as the `time` crate does.
    pub fn write_rfc3339(self, out: &mut [u8; RFC3339_MAX]) -> Option<&str> {
        const MICROS_PER_DAY: i64 = 86_400_000_000;
        let days = i32::try_from(self.0.div_euclid(MICROS_PER_DAY)).ok()?;
        let of_day = self.0.rem_euclid(MICROS_PER_DAY);
        let date = Date::from_julian_day(days.checked_add(UNIX_EPOCH_DAY)?).ok()?;
        let (year, month, day) = (date.year(), u8::from(date.month()), date.day());
        if !(1..=9999).contains(&year) {
            return None;
        }
        let seconds = of_day / 1_000_000;
        let micros = of_day % 1_000_000;
        let mut at = 0;
        let mut put = |value: i64, width: usize, then: &[u8]| {
            let mut rest = value;
            for place in (0..width).rev() {
                out[at + place] = b'0' + (rest % 10) as u8;
                rest /= 10;
            }
            at += width;
            out[at..at + then.len()].copy_from_slice(then);
            at += then.len();
        };
        put(i64::from(year), 4, b"-");
        put(i64::from(month), 2, b"-");
        put(i64::from(day), 2, b"T");
        put(seconds / 3600, 2, b":");
        put(seconds / 60 % 60, 2, b":");
        if micros == 0 {
            put(seconds % 60, 2, b"+00:00");
        } else {
            put(seconds % 60, 2, b".");
            put(micros, 6, b"+00:00");
        }
        // Digits and separators only: always ASCII.
        std::str::from_utf8(&out[..at]).ok()
    }

    fn to_rfc3339_general(self) -> String {
        let at = self.to_offset().to_offset(UtcOffset::UTC);
        let (year, month, day) = (at.year(), u8::from(at.month()), at.day());
        let (hour, minute, second) = (at.hour(), at.minute(), at.second());
        let micros = at.microsecond();
        if micros == 0 {
            format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}+00:00")
        } else {
            format!(
                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{micros:06}+00:00"
            )
        }
    }
}

/// The longest rendering: `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`.
pub const RFC3339_MAX: usize = 32;

/// The Julian day number of 1970-01-01, where [`Timestamp`] counts from.
const UNIX_EPOCH_DAY: i32 = OffsetDateTime::UNIX_EPOCH.date().to_julian_day();

/// ASCII digits as a number; `None` for anything else.
fn number(digits: &[u8]) -> Option<i64> {
    digits.iter().try_fold(0i64, |value, &digit| {
        digit
            .is_ascii_digit()
            .then(|| value * 10 + i64::from(digit - b'0'))
    })
}

/// Years outside 1..=9999 cannot be rendered in RFC 3339; refusing them keeps every stored
/// value printable.
fn in_supported_range(at: OffsetDateTime) -> Option<Timestamp> {
    (1..=9999)
        .contains(&at.to_offset(UtcOffset::UTC).year())
        .then(|| Timestamp::from_offset(at))
}

/// `+0000` → `+00:00`, so the RFC 3339 parser accepts Python's `%z` rendering.
fn with_colon_in_offset(text: &str) -> String {
    let bytes = text.as_bytes();
    let n = bytes.len();
    if n >= 5
        && (bytes[n - 5] == b'+' || bytes[n - 5] == b'-')
        && bytes[n - 4..].iter().all(u8::is_ascii_digit)
        && bytes[n - 6].is_ascii_digit()
    {
        format!("{}:{}", &text[..n - 2], &text[n - 2..])
    } else {
        text.to_owned()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// Text formats (JSON on the wire, in events and in stored documents) carry the RFC 3339
/// rendering; binary formats, which no person reads, carry the microseconds since the epoch.
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if !serializer.is_human_readable() {
            return serializer.serialize_i64(self.0);
        }
        let mut out = [0u8; RFC3339_MAX];
        match self.write_rfc3339(&mut out) {
            Some(text) => serializer.serialize_str(text),
            None => serializer.serialize_str(&self.to_rfc3339_general()),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            deserializer.deserialize_str(TimestampVisitor)
        } else {
            i64::deserialize(deserializer).map(Self)
        }
    }
}

/// Reads the text in place when the format lends it (no copy per date-time).
struct TimestampVisitor;

impl serde::de::Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 date-time")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Timestamp, E> {
        Timestamp::parse(text).ok_or_else(|| E::custom("invalid date-time"))
    }
}

/// A calendar date (`birthday`), `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarDate(Date);

impl CalendarDate {
    pub fn parse(text: &str) -> Option<Self> {
        let format = format_description!("[year]-[month]-[day]");
        if text.len() != 10 {
            return None;
        }
        Date::parse(text, format).ok().map(Self)
    }

    pub fn to_iso(self) -> String {
        format!(
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

impl Serialize for CalendarDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_iso())
    }
}

impl<'de> Deserialize<'de> for CalendarDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        CalendarDate::parse(&text).ok_or_else(|| serde::de::Error::custom("invalid date"))
    }
}

#[cfg(test)]
mod tests;
