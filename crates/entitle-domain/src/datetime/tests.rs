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
