//! Event timestamps: microseconds since the Unix epoch, written as RFC 3339
//! UTC with exactly six fractional digits (`2026-11-27T11:14:15.123456Z`).

use std::fmt;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const MICROS_PER_SEC: i64 = 1_000_000;
const SECS_PER_DAY: i64 = 86_400;
/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z, the RFC 3339 range.
const MIN_MICROS: i64 = -62_167_219_200 * MICROS_PER_SEC;
const MAX_MICROS: i64 = 253_402_300_800 * MICROS_PER_SEC - 1;

/// A point in time with microsecond precision, always UTC.
///
/// ```
/// use observe::Timestamp;
///
/// let t = Timestamp::from_unix_micros(1_764_242_055_123_456).unwrap();
/// assert_eq!(t.to_string(), "2025-11-27T11:14:15.123456Z");
/// assert_eq!(Timestamp::parse_rfc3339("2025-11-27T12:14:15.123456+01:00"), Ok(t));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The current time.
    ///
    /// Read from the CPU's time-stamp counter where it is reliable (through
    /// `fastant`, the clock `fastrace` uses; the monotonic clock elsewhere),
    /// anchored to the system clock at the first call in the process: one
    /// cheap read, no system call, gives both the wall-clock time and, by
    /// difference, exact durations, and time never goes backwards between
    /// the events of one span, whatever the system clock does. The price is
    /// that a step of the system clock after the anchor is not seen until
    /// the process restarts.
    #[inline]
    pub fn now() -> Timestamp {
        static ANCHOR: OnceLock<Option<fastant::Anchor>> = OnceLock::new();
        let anchor = ANCHOR.get_or_init(|| {
            // The anchor needs a clock after 1970; without one, read the
            // system clock every time.
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .is_ok()
                .then(fastant::Anchor::new)
        });
        match anchor {
            Some(anchor) => {
                let micros = fastant::Instant::now().as_unix_nanos(anchor) / 1_000;
                Timestamp(i64::try_from(micros).unwrap_or(MAX_MICROS).min(MAX_MICROS))
            }
            None => Timestamp::from_system_time(SystemTime::now()),
        }
    }

    /// Microseconds from `earlier` to `self`, zero if `earlier` is later.
    pub fn micros_since(self, earlier: Timestamp) -> u64 {
        u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0)
    }

    /// Converts a [`SystemTime`], saturating at the RFC 3339 range.
    pub fn from_system_time(time: SystemTime) -> Timestamp {
        let micros = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
            Err(before) => i64::try_from(before.duration().as_micros())
                .map(|m| -m)
                .unwrap_or(i64::MIN),
        };
        Timestamp(micros.clamp(MIN_MICROS, MAX_MICROS))
    }

    /// A timestamp from microseconds since the Unix epoch, or `None` outside
    /// the years 0000 to 9999 that RFC 3339 can write.
    pub fn from_unix_micros(micros: i64) -> Option<Timestamp> {
        (MIN_MICROS..=MAX_MICROS)
            .contains(&micros)
            .then_some(Timestamp(micros))
    }

    /// Microseconds since the Unix epoch.
    pub fn unix_micros(self) -> i64 {
        self.0
    }

    /// Milliseconds since the Unix epoch (negative before 1970).
    pub fn unix_millis(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// Parses an RFC 3339 date-time (`T` or space between date and time,
    /// `Z` or a numeric offset, up to nine fractional digits, of which the
    /// first six are kept).
    pub fn parse_rfc3339(text: &str) -> Result<Timestamp, TimestampError> {
        parse(text.as_bytes()).ok_or_else(|| TimestampError {
            text: text.chars().take(64).collect(),
        })
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(MICROS_PER_SEC);
        let micros = self.0.rem_euclid(MICROS_PER_SEC);
        let days = secs.div_euclid(SECS_PER_DAY);
        let of_day = secs.rem_euclid(SECS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z",
            of_day / 3600,
            of_day / 60 % 60,
            of_day % 60
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Timestamp::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

/// A string that is not an RFC 3339 date-time.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an RFC 3339 date-time")]
pub struct TimestampError {
    /// The rejected text (its first 64 characters).
    pub text: String,
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day), after
/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn digits(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
}

fn parse(b: &[u8]) -> Option<Timestamp> {
    // YYYY-MM-DDTHH:MM:SS is 19 bytes; an offset takes at least one more.
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (year, month, day) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    // A leap second (60) is read as the last second of its minute.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &b[19..];
    let mut micros = 0;
    if let Some(frac) = rest.strip_prefix(b".") {
        let len = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 || len > 9 {
            return None;
        }
        micros = frac[..len]
            .iter()
            .chain(std::iter::repeat(&b'0'))
            .take(6)
            .fold(0, |n, d| n * 10 + i64::from(d - b'0'));
        rest = &frac[len..];
    }
    let offset_secs = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (oh, om) = (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let secs = oh * 3600 + om * 60;
            if *sign == b'+' { secs } else { -secs }
        }
        _ => return None,
    };
    let secs = days_from_civil(year, month, day) * SECS_PER_DAY
        + hour * 3600
        + minute * 60
        + second.min(59)
        - offset_secs;
    Timestamp::from_unix_micros(secs * MICROS_PER_SEC + micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        let cases = [
            (0, "1970-01-01T00:00:00.000000Z"),
            (-1, "1969-12-31T23:59:59.999999Z"),
            (951_782_400_000_000, "2000-02-29T00:00:00.000000Z"),
            (MAX_MICROS, "9999-12-31T23:59:59.999999Z"),
            (MIN_MICROS, "0000-01-01T00:00:00.000000Z"),
        ];
        for (micros, text) in cases {
            let t = Timestamp::from_unix_micros(micros).unwrap();
            assert_eq!(t.to_string(), text);
            assert_eq!(Timestamp::parse_rfc3339(text), Ok(t));
        }
    }

    #[test]
    fn round_trips_across_the_range() {
        let mut micros = MIN_MICROS;
        while micros < MAX_MICROS - 7_777_777_777_777 {
            let t = Timestamp(micros);
            assert_eq!(Timestamp::parse_rfc3339(&t.to_string()), Ok(t), "{micros}");
            micros += 7_777_777_777_777;
        }
    }

    #[test]
    fn reads_offsets_and_short_fractions() {
        let utc = Timestamp::parse_rfc3339("2026-01-01T00:00:00.5Z").unwrap();
        assert_eq!(utc.unix_micros() % MICROS_PER_SEC, 500_000);
        let east = Timestamp::parse_rfc3339("2026-01-01T05:30:00.5+05:30").unwrap();
        assert_eq!(east, utc);
        let west = Timestamp::parse_rfc3339("2025-12-31 23:00:00.500000000-01:00").unwrap();
        assert_eq!(west, utc);
    }

    #[test]
    fn rejects_malformed_text() {
        for bad in [
            "",
            "2026-01-01",
            "2026-01-01T00:00:00",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-01-32T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00.1234567890Z",
            "2026-01-01T00:00:00+5:30",
            "2026-01-01T00:00:00Zjunk",
            "2026-01-01X00:00:00Z",
            "20a6-01-01T00:00:00Z",
            "2026-01-01T00:00:00+24:00",
            "2026-01-01T00:00:00 Z",
            "２０２６-01-01T00:00:00Z",
        ] {
            assert!(Timestamp::parse_rfc3339(bad).is_err(), "accepted {bad:?}");
        }
    }
}
