//! How results are printed: text for people (colour only on a terminal
//! and never with `NO_COLOR`, durations like `12.3 ms`, local time unless
//! `--utc`) or one JSON object per line.

use std::io::{IsTerminal, Write};

use observe::{Outcome, Timestamp};

/// The printing choices of one run.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    /// One JSON object per line.
    pub json: bool,
    /// Times in UTC.
    pub utc: bool,
    /// ANSI colours.
    pub colour: bool,
}

/// The few colours used.
#[derive(Clone, Copy, Debug)]
pub enum Colour {
    Red,
    Green,
    Yellow,
    Magenta,
    Cyan,
    Dim,
    Bold,
}

impl Output {
    /// Colour when standard output is a terminal and `NO_COLOR` is unset
    /// or empty.
    pub fn for_stdout(json: bool, utc: bool) -> Output {
        let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Output {
            json,
            utc,
            colour: !json && !no_colour && std::io::stdout().is_terminal(),
        }
    }

    /// `text` in `colour` (plain without colour).
    pub fn paint(&self, colour: Colour, text: &str) -> String {
        if !self.colour {
            return text.to_owned();
        }
        let code = match colour {
            Colour::Red => "31",
            Colour::Green => "32",
            Colour::Yellow => "33",
            Colour::Magenta => "35;1",
            Colour::Cyan => "36",
            Colour::Dim => "2",
            Colour::Bold => "1",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    /// An outcome's name padded to `width`, coloured by how bad it is.
    pub fn outcome(&self, outcome: Option<Outcome>, in_flight: bool, width: usize) -> String {
        let (text, colour) = match outcome {
            Some(Outcome::Ok) => ("ok", Colour::Green),
            Some(Outcome::Error) => ("error", Colour::Red),
            Some(Outcome::Panic) => ("panic", Colour::Magenta),
            Some(Outcome::Cancelled) => ("cancelled", Colour::Yellow),
            None if in_flight => ("in flight", Colour::Cyan),
            None => ("-", Colour::Dim),
        };
        self.paint(colour, &format!("{text:<width$}"))
    }

    /// A time for people: `2026-12-03 11:26:41.123`, local unless `--utc`
    /// (then with a `Z`).
    pub fn time(&self, at: Timestamp) -> String {
        let offset = if self.utc {
            0
        } else {
            local_offset_secs(at.unix_micros().div_euclid(1_000_000))
        };
        let shifted = Timestamp::from_unix_micros(at.unix_micros() + offset * 1_000_000)
            .unwrap_or(at)
            .to_string();
        // RFC 3339 with microseconds: keep the date, the time to the
        // millisecond.
        let text = format!("{} {}", &shifted[..10], &shifted[11..23]);
        if self.utc { text + "Z" } else { text }
    }

    /// Writes one line to standard output.
    pub fn line(&self, text: &str) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.write_all(b"\n")
    }

    /// Writes one JSON object as one line.
    pub fn json_line(&self, value: &serde_json::Value) -> std::io::Result<()> {
        self.line(&value.to_string())
    }
}

/// A duration for people: `850 µs`, `12.3 ms`, `4.21 s`.
pub fn duration(us: u64) -> String {
    if us < 1_000 {
        format!("{us} µs")
    } else if us < 1_000_000 {
        format!("{:.1} ms", us as f64 / 1_000.0)
    } else {
        format!("{:.2} s", us as f64 / 1_000_000.0)
    }
}

/// Seconds east of UTC of the local time zone at `unix_secs`.
#[cfg(unix)]
fn local_offset_secs(unix_secs: i64) -> i64 {
    // time_t is 32 bits on some targets.
    #[allow(irrefutable_let_patterns)]
    let Ok(t) = libc::time_t::try_from(unix_secs) else {
        return 0;
    };
    let mut tm = std::mem::MaybeUninit::<libc::tm>::zeroed();
    // SAFETY: `t` and `tm` are live locals for the whole call; localtime_r
    // is the reentrant form and writes only into `tm`, which it fills
    // completely when it returns non-null.
    let filled = unsafe { !libc::localtime_r(&t, tm.as_mut_ptr()).is_null() };
    if !filled {
        return 0;
    }
    // SAFETY: localtime_r returned non-null, so `tm` is initialised.
    #[allow(clippy::useless_conversion)] // tm_gmtoff is 32 bits on some targets
    i64::from(unsafe { tm.assume_init() }.tm_gmtoff)
}

#[cfg(not(unix))]
fn local_offset_secs(_unix_secs: i64) -> i64 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_writes_them() {
        assert_eq!(duration(850), "850 µs");
        assert_eq!(duration(12_345), "12.3 ms");
        assert_eq!(duration(4_210_000), "4.21 s");
    }

    #[test]
    fn utc_times_to_the_millisecond() {
        let out = Output {
            json: false,
            utc: true,
            colour: false,
        };
        let at = Timestamp::parse_rfc3339("2026-12-03T11:26:41.123456Z").unwrap();
        assert_eq!(out.time(at), "2026-12-03 11:26:41.123Z");
    }
}
