//! Bounded text for the caller's side of `emit!`: strings cut at a
//! separator so that no fragment of a token remains, and `Display` output
//! collected only up to a cap.

use std::fmt;

use crate::delivery::sanitize::TRUNCATION_MARKER;

/// Characters a string may be cut after: whitespace and the punctuation
/// that delimits values in text, JSON, URLs' query strings and code. Not
/// `.`, `-`, `_`, `/`, `+`, `=` or `:`, which occur inside tokens (JWTs,
/// provider keys, base64).
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ',' | ';' | '&' | '|' | '"' | '\'' | '<' | '>' | '(' | ')' | '[' | ']' | '{' | '}'
        )
}

/// `text` cut to at most `max_bytes` bytes, marker included, or `None` when
/// it fits. The cut falls after the last separator before the limit, so the
/// kept part never ends in a fragment of a token; text with no separator in
/// reach is replaced by the marker alone.
#[inline]
pub(crate) fn cut(text: &str, max_bytes: usize) -> Option<String> {
    if text.len() <= max_bytes {
        return None;
    }
    cut_long(text, max_bytes)
}

fn cut_long(text: &str, max_bytes: usize) -> Option<String> {
    let room = max_bytes.saturating_sub(TRUNCATION_MARKER.len());
    let mut end = room.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let keep = text[..end]
        .char_indices()
        .rev()
        .find(|&(_, c)| is_separator(c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let mut out = String::with_capacity(keep + TRUNCATION_MARKER.len());
    out.push_str(&text[..keep]);
    out.push_str(TRUNCATION_MARKER);
    Some(out)
}

/// `text` owned, cut as by [`cut`] when it is longer than `max_bytes`; the
/// flag says whether it was cut.
#[inline]
pub(crate) fn bounded(text: &str, max_bytes: usize) -> (String, bool) {
    match cut(text, max_bytes) {
        Some(short) => (short, true),
        None => (text.to_owned(), false),
    }
}

/// A `fmt::Write` that keeps at most `cap` bytes and then refuses more, so
/// a huge `Display` costs no more than the cap.
pub(crate) struct CappedWriter {
    pub(crate) text: String,
    cap: usize,
    pub(crate) overflowed: bool,
}

impl CappedWriter {
    pub(crate) fn new(cap: usize) -> CappedWriter {
        CappedWriter {
            text: String::new(),
            cap,
            overflowed: false,
        }
    }

    /// The text written, cut as by [`cut`] if more was offered than fits;
    /// the flag says whether it was cut.
    pub(crate) fn finish(self) -> (String, bool) {
        if !self.overflowed {
            return (self.text, false);
        }
        // One byte over the cap forces the cut (and its marker).
        let mut over = self.text;
        over.push(' ');
        let short = cut(&over, self.cap).unwrap_or_default();
        (short, true)
    }
}

impl fmt::Write for CappedWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.cap - self.text.len();
        if s.len() <= room {
            self.text.push_str(s);
            return Ok(());
        }
        let mut end = room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.text.push_str(&s[..end]);
        self.overflowed = true;
        Err(fmt::Error)
    }
}

/// `value` formatted with `Display`, at most `cap` bytes (cut as by
/// [`cut`]); the flag says whether it was cut. A `Display` impl that fails
/// for another reason keeps what it wrote.
pub(crate) fn display(value: &(impl fmt::Display + ?Sized), cap: usize) -> (String, bool) {
    formatted(format_args!("{value}"), cap)
}

/// `args` formatted, at most `cap` bytes (cut as by [`cut`]): the bounded
/// formatter of the caller's side (`emit!` values, bridged `tracing`
/// fields), which never keeps a fragment of a token.
pub(crate) fn formatted(args: fmt::Arguments<'_>, cap: usize) -> (String, bool) {
    let mut writer = CappedWriter::new(cap);
    let _ = fmt::write(&mut writer, args);
    writer.finish()
}

/// The first `cap` bytes (at most) of `args` formatted, cut at a character
/// boundary only: for text the worker sanitizes and cuts again before it
/// leaves the process (`#[observed]` input previews).
pub(crate) fn prefix(args: fmt::Arguments<'_>, cap: usize) -> String {
    let mut writer = CappedWriter::new(cap);
    let _ = fmt::write(&mut writer, args);
    writer.text
}

/// The message of a panic payload (`&str` or `String`), at most `cap` bytes.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send), cap: usize) -> String {
    let message = crate::delivery::isolate::payload_text(payload)
        .unwrap_or("panic with a non-string payload");
    bounded(message, cap).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_not_cut() {
        assert_eq!(cut("hello world", 11), None);
    }

    #[test]
    fn a_cut_ends_after_a_separator_and_never_inside_a_token() {
        let text = format!("user token {} end", "A".repeat(100));
        let short = cut(&text, 60).unwrap();
        assert_eq!(short, format!("user token {TRUNCATION_MARKER}"));
        assert!(short.len() <= 60);
    }

    #[test]
    fn text_without_a_separator_becomes_the_marker() {
        assert_eq!(cut(&"x".repeat(1000), 100).unwrap(), TRUNCATION_MARKER);
    }

    #[test]
    fn a_cut_respects_character_boundaries() {
        let text = "é ".repeat(100);
        for max in 14..60 {
            let short = cut(&text, max).unwrap();
            assert!(short.len() <= max, "{max}: {short}");
            assert!(short.ends_with(TRUNCATION_MARKER));
        }
    }

    #[test]
    fn display_stops_at_the_cap() {
        struct Endless;
        impl fmt::Display for Endless {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                for _ in 0..1_000_000 {
                    f.write_str("word ")?;
                }
                Ok(())
            }
        }
        let (text, cut) = display(&Endless, 100);
        assert!(cut);
        assert!(text.len() <= 100);
        assert!(text.ends_with(TRUNCATION_MARKER));
        assert_eq!(display(&42, 100), ("42".to_owned(), false));
    }
}
