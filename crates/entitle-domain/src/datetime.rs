//! Date-times on the wire: accepted in every rendering Adapty's docs show, emitted as RFC 3339
//! in UTC with a `+00:00` offset (DESIGN.md §3.7). Precision is the microsecond, which is what
//! Adapty emits and what both storage backends keep exactly.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

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
        let (year, month, day) = (
            number(&text[..4])?,
            number(&text[5..7])?,
            number(&text[8..10])?,
        );
        let (hour, minute, second) = (
            number(&text[11..13])?,
            number(&text[14..16])?,
            number(&text[17..19])?,
        );
        let valid = year >= 1
            && (1..=12).contains(&month)
            && (1..=days_in_month(year, month)).contains(&day)
            && hour < 24
            && minute < 60
            && second < 60;
        if !valid {
            return None;
        }
        let seconds =
            days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
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
    fn write_rfc3339(self, out: &mut [u8; RFC3339_MAX]) -> Option<&str> {
        const MICROS_PER_DAY: i64 = 86_400_000_000;
        let days = self.0.div_euclid(MICROS_PER_DAY);
        let of_day = self.0.rem_euclid(MICROS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
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
        put(year, 4, b"-");
        put(month, 2, b"-");
        put(day, 2, b"T");
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
const RFC3339_MAX: usize = 32;

/// The proleptic Gregorian (year, month, day) of a count of days since 1970-01-01
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the inverse of [`civil_from_days`]).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

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
mod tests {
    use super::*;

    #[test]
    fn accepts_every_documented_rendering() {
        let cases = [
            ("2024-01-15T10:30:00Z", "2024-01-15T10:30:00+00:00"),
            ("2024-12-24T10:50:23+00:00", "2024-12-24T10:50:23+00:00"),
            (
                "2025-01-05T13:27:47.461425+00:00",
                "2025-01-05T13:27:47.461425+00:00",
            ),
            (
                "2022-10-12T09:42:50.000000+0000",
                "2022-10-12T09:42:50+00:00",
            ),
            ("2022-10-12T11:42:50+0200", "2022-10-12T09:42:50+00:00"),
            ("2022-10-12T09:42:50", "2022-10-12T09:42:50+00:00"),
            ("2022-10-12t09:42:50z", "2022-10-12T09:42:50+00:00"),
            (
                "2022-10-12T09:42:50.5-01:00",
                "2022-10-12T10:42:50.500000+00:00",
            ),
        ];
        for (input, expected) in cases {
            let parsed = Timestamp::parse(input).unwrap_or_else(|| panic!("{input} rejected"));
            assert_eq!(parsed.to_rfc3339(), expected, "{input}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_date_time() {
        for input in [
            "",
            "yesterday",
            "2024-13-01T00:00:00Z",
            "2024-01-15",
            "2024-01-15T25:00:00Z",
            "2024-01-15T10:30:00+99:00",
        ] {
            assert_eq!(Timestamp::parse(input), None, "{input}");
        }
    }

    #[test]
    fn renders_the_edges_of_the_calendar() {
        for text in [
            "0001-01-01T00:00:00+00:00",
            "9999-12-31T23:59:59.999999+00:00",
            "1969-12-31T23:59:59.999999+00:00",
            "1970-01-01T00:00:00.000001+00:00",
            "2000-02-29T12:00:00+00:00",
            "2024-02-29T23:59:59+00:00",
            "2100-03-01T00:00:00+00:00",
        ] {
            let at = Timestamp::parse(text).unwrap();
            assert_eq!(at.to_rfc3339(), text);
            assert_eq!(at.to_rfc3339(), at.to_rfc3339_general());
        }
    }

    /// `Timestamp::parse` without its fast path.
    fn general_parse(text: &str) -> Option<Timestamp> {
        let normalised = with_colon_in_offset(text);
        OffsetDateTime::parse(&normalised, &Rfc3339)
            .ok()
            .and_then(in_supported_range)
    }

    #[test]
    fn the_fast_parse_reads_the_calendar_like_the_general_one() {
        for text in [
            "0001-01-01T00:00:00+00:00",
            "9999-12-31T23:59:59.999999+00:00",
            "2000-02-29T12:00:00+00:00",
            "2024-02-29T23:59:59.000001+00:00",
            "1969-12-31T23:59:59.999999+00:00",
        ] {
            let fast = Timestamp::parse_canonical(text.as_bytes());
            assert!(fast.is_some(), "{text}");
            assert_eq!(fast, general_parse(text), "{text}");
        }
        for text in [
            "2023-02-29T00:00:00+00:00",
            "1900-02-29T00:00:00+00:00",
            "2024-04-31T00:00:00+00:00",
            "2024-01-01T24:00:00+00:00",
            "2024-01-01T00:60:00+00:00",
            "0000-01-01T00:00:00+00:00",
            "2024-01-01T00:00:00+01:00",
            "2024-01-01T00:00:00.12345+00:00",
            "+024-01-01T00:00:00+00:00",
        ] {
            assert_eq!(Timestamp::parse_canonical(text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn a_binary_format_carries_the_microseconds() {
        let at = Timestamp::from_unix_micros(1_700_000_000_123_456);
        let bytes = postcard::to_allocvec(&at).unwrap();
        assert_eq!(
            bytes,
            postcard::to_allocvec(&1_700_000_000_123_456i64).unwrap()
        );
        assert_eq!(postcard::from_bytes::<Timestamp>(&bytes).unwrap(), at);
    }

    #[test]
    fn dates() {
        assert_eq!(
            CalendarDate::parse("1991-04-17").unwrap().to_iso(),
            "1991-04-17"
        );
        assert!(CalendarDate::parse("1991-02-30").is_none());
        assert!(CalendarDate::parse("17.04.1991").is_none());
        assert!(CalendarDate::parse("1991-4-17").is_none());
    }

    proptest::proptest! {
        #[test]
        fn the_fast_rendering_is_the_general_one(
            micros in proptest::prop_oneof![
                // Years 1..=9999 (the fast path), a second either side of them, and beyond.
                -62_135_596_801_000_000i64..253_402_300_801_000_000i64,
                i64::MIN..i64::MAX,
            ]
        ) {
            let at = Timestamp::from_unix_micros(micros);
            proptest::prop_assert_eq!(at.to_rfc3339(), at.to_rfc3339_general());
            let json = serde_json::to_string(&at).unwrap();
            proptest::prop_assert_eq!(json, format!("\"{}\"", at.to_rfc3339_general()));
        }

        #[test]
        fn emitted_form_parses_back(micros in -30_000_000_000_000_000i64..200_000_000_000_000_000i64) {
            let at = Timestamp::from_unix_micros(micros);
            proptest::prop_assert_eq!(Timestamp::parse(&at.to_rfc3339()), Some(at));
            let json = serde_json::to_string(&at).unwrap();
            proptest::prop_assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), at);
        }

        #[test]
        fn the_fast_parse_agrees_with_the_general_one(
            micros in -62_135_596_800_000_000i64..253_402_300_800_000_000i64,
            // Damage one byte of the rendering, or none.
            at_byte in 0usize..40,
            byte in proptest::prop_oneof![b'0'..=b'9', proptest::num::u8::ANY],
        ) {
            let mut text = Timestamp::from_unix_micros(micros).to_rfc3339().into_bytes();
            if let Some(slot) = text.get_mut(at_byte) {
                *slot = byte;
            }
            if let Some(fast) = Timestamp::parse_canonical(&text) {
                let text = std::str::from_utf8(&text).unwrap();
                proptest::prop_assert_eq!(Some(fast), general_parse(text), "{}", text);
            }
        }
    }
}
