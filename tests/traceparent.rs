//! W3C `traceparent`: valid headers round-trip, every malformed form is an
//! `Err` (never a panic), and a context survives a hop.

use observe::{CorrelationContext, SpanId, TraceParent, TraceParentError};

const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[test]
fn a_valid_header_parses_and_formats_back() {
    let parent = TraceParent::parse(VALID).unwrap();
    assert_eq!(
        parent.trace_id.as_u128(),
        0x4bf92f3577b34da6a3ce929d0e0e4736
    );
    assert_eq!(parent.parent_id, SpanId::new(0x00f067aa0ba902b7).unwrap());
    assert!(parent.sampled());
    assert_eq!(parent.to_string(), VALID);
    let unsampled = TraceParent::parse(&VALID.replace("-01", "-00")).unwrap();
    assert!(!unsampled.sampled());
    // Blanks around a header value are allowed by HTTP.
    assert_eq!(TraceParent::parse(&format!(" \t{VALID} ")), Ok(parent));
}

#[test]
fn a_context_survives_a_hop() {
    let caller = CorrelationContext::new_root().child();
    let header = TraceParent::from_context(&caller).to_string();
    let callee = TraceParent::parse(&header).unwrap().child_context();
    assert_eq!(callee.correlation_id, caller.correlation_id);
    assert_eq!(callee.parent_span_id, Some(caller.span_id));
    assert_ne!(callee.span_id, caller.span_id);
}

#[test]
fn malformed_headers_are_errors() {
    let long = "0".repeat(10_000);
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "empty"),
        ("00".into(), "version only"),
        (VALID[..54].into(), "one character short"),
        (format!("{VALID}0"), "one character long"),
        (format!("{VALID}-extra"), "extra field"),
        (format!("{VALID}\n"), "trailing newline"),
        (VALID.replace("00-4bf", "ff-4bf"), "forbidden version ff"),
        (
            format!("{}-extra", VALID.replace("00-4bf", "ff-4bf")),
            "version ff, longer",
        ),
        (
            format!("{}extra", VALID.replace("00-4bf", "cc-4bf")),
            "later version, no `-` after the flags",
        ),
        (
            VALID.replace("00-4bf", "cc-4bf")[..54].into(),
            "later version, too short",
        ),
        (
            "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7".into(),
            "later version, no flags",
        ),
        (
            "cc-00000000000000000000000000000000-00f067aa0ba902b7-01-x".into(),
            "later version, zero trace id",
        ),
        (VALID.replace("00-4bf", "CC-4bf"), "upper-case version"),
        (VALID.replace("00-4bf", "0x-4bf"), "non-hex version"),
        (VALID.replace("4bf92f", "4BF92F"), "upper-case trace id"),
        (VALID.replace("4bf92f", "4bg92f"), "non-hex trace id"),
        (VALID.replace("00f067", "00f0z7"), "non-hex parent id"),
        (VALID.replace("-01", "-0g"), "non-hex flags"),
        (
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01".into(),
            "zero trace id",
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01".into(),
            "zero parent id",
        ),
        (
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01".into(),
            "wrong delimiter",
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e47360-0f067aa0ba902b7-01".into(),
            "trace id too long",
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01".into(),
            "trace id too short",
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-701".into(),
            "parent id too short",
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1".into(),
            "one flag digit",
        ),
        (VALID.replace("4bf92f", "4bf92é"), "multibyte character"),
        (format!("{}€", &VALID[..52]), "multibyte at the end"),
        (long, "very long"),
        (
            "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
            "sign character",
        ),
    ];
    assert!(cases.len() >= 15);
    for (header, why) in cases {
        let result = TraceParent::parse(&header);
        assert!(result.is_err(), "{why}: accepted {header:?}");
    }
}

#[test]
fn errors_say_what_is_wrong() {
    assert_eq!(TraceParent::parse("00"), Err(TraceParentError::Length(2)));
    assert_eq!(
        TraceParent::parse(&VALID.replace("00-4bf", "ff-4bf")),
        Err(TraceParentError::Version(0xff))
    );
    let zero = "00-00000000000000000000000000000000-00f067aa0ba902b7-01";
    assert_eq!(TraceParent::parse(zero), Err(TraceParentError::ZeroTraceId));
    let message = TraceParent::parse(&VALID.replace("-01", "-0g"))
        .unwrap_err()
        .to_string();
    assert!(message.contains("flags"), "{message}");
}

#[test]
fn later_versions_are_read_up_to_the_fields_of_version_00() {
    let later = VALID.replace("00-4bf", "cc-4bf");
    let expected = TraceParent::parse(VALID).unwrap();
    assert_eq!(
        TraceParent::parse(&later),
        Ok(expected),
        "exactly the known fields"
    );
    for rest in ["-extra", "-", "-what-comes-next-0123", "-ü"] {
        let header = format!("{later}{rest}");
        assert_eq!(TraceParent::parse(&header), Ok(expected), "{header}");
    }
    assert_eq!(
        TraceParent::parse(&VALID.replace("00-4bf", "01-4bf")),
        Ok(expected)
    );
    // Of a later version's flags only the sampled bit is known.
    let flags = TraceParent::parse(&format!("{}-x", later.replace("-01", "-ff"))).unwrap();
    assert_eq!(flags.flags, 0x01);
    let unsampled = TraceParent::parse(&format!("{}-x", later.replace("-01", "-fe"))).unwrap();
    assert!(!unsampled.sampled());
    // Formatting writes the version this crate speaks.
    assert_eq!(TraceParent::parse(&later).unwrap().to_string(), VALID);
}

#[test]
fn version_00_flags_are_kept_as_received() {
    for flags in ["00", "01", "02", "03", "ff"] {
        let header = VALID.replace("-01", &format!("-{flags}"));
        let parent = TraceParent::parse(&header).unwrap();
        assert_eq!(parent.to_string(), header);
    }
    assert!(
        TraceParent::parse(&format!("{VALID}-extra")).is_err(),
        "version 00 is exactly 55 characters"
    );
}
