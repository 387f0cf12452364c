//! Spans of time on the command line: `90s`, `15m`, `1h`, `7d`, `2w`, and
//! the time that far back from now.

use std::time::Duration;

use observe::Timestamp;

use crate::error::CliError;

/// Parses `N` followed by a unit: `s`, `m`, `h`, `d` or `w`.
pub fn parse_span(text: &str) -> Result<Duration, CliError> {
    let bad = || {
        CliError::usage(format!(
            "`{text}` is not a span of time: write a number and a unit, such as 90s, 15m, 1h, 7d or 2w"
        ))
    };
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &text[digits.len()..];
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(secs).map(Duration::from_secs).ok_or_else(bad)
}

/// The time `span` before now.
pub fn ago(span: Duration) -> Timestamp {
    let now = Timestamp::now().unix_micros();
    let back = i64::try_from(span.as_micros()).unwrap_or(i64::MAX);
    Timestamp::from_unix_micros(now.saturating_sub(back))
        .or_else(|| Timestamp::from_unix_micros(0))
        .unwrap_or_else(Timestamp::now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_mistakes() {
        assert_eq!(parse_span("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_span("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_span("7d").unwrap(), Duration::from_secs(604_800));
        for bad in ["", "h", "1", "1y", "-1h", "1.5h", "99999999999999999w"] {
            assert!(parse_span(bad).is_err(), "{bad}");
        }
    }
}
