//! Cutting text to a number of characters, on a character boundary, with a
//! visible marker; and the `error_occurred` limits of the specification.

use std::borrow::Cow;

use serde_json::Value;

use super::SanitizeReport;
use crate::Payload;
use crate::model::error_payload::{
    MAX_ERROR_MESSAGE_CHARS, MAX_INPUT_PREVIEW_CHARS, MAX_STACK_FRAMES,
};

/// What ends a string that was cut.
pub const TRUNCATION_MARKER: &str = "…[truncated]";

/// Number of characters in [`TRUNCATION_MARKER`].
pub(crate) const MARKER_CHARS: usize = 12;

/// `text` cut to at most `max_chars` characters, the marker included.
/// Borrowed when it already fits.
///
/// When `max_chars` is too small for the whole marker, the cut ends with a
/// bare ellipsis instead; with `max_chars == 0` the result is empty.
pub(crate) fn truncate_chars(text: &str, max_chars: usize) -> Cow<'_, str> {
    let Some((cut, marker)) = cut_point(text, max_chars) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(cut + marker.len());
    out.push_str(&text[..cut]);
    out.push_str(marker);
    Cow::Owned(out)
}

/// Where [`truncate_chars`] cuts `text`: the byte offset of the cut and the
/// marker that follows it, or `None` when the text already fits. One pass
/// over at most `max_chars + 1` characters, no allocation (the size limit
/// sizes cut strings with it without building them).
pub(crate) fn cut_point(text: &str, max_chars: usize) -> Option<(usize, &'static str)> {
    // Fewer bytes than characters allowed means it fits.
    if text.len() <= max_chars {
        return None;
    }
    if max_chars == 0 {
        return Some((0, ""));
    }
    let (keep, marker) = if max_chars > MARKER_CHARS {
        (max_chars - MARKER_CHARS, TRUNCATION_MARKER)
    } else {
        (max_chars - 1, "…")
    };
    let mut starts = text.char_indices().map(|(i, _)| i);
    let cut = starts.nth(keep)?;
    // Cut only if there is a character past the limit (`keep < max_chars`).
    starts.nth(max_chars - keep - 1)?;
    Some((cut, marker))
}

/// Applies the `ErrorPayload` limits to a payload that was already scrubbed:
/// error message and input preview cut to their character limits, stack
/// frames cut to the first [`MAX_STACK_FRAMES`] with the rest counted in
/// `stack_frames_omitted`.
pub(crate) fn apply_error_limits(payload: &mut Payload, report: &mut SanitizeReport) {
    for (field, max) in [
        ("error_message", MAX_ERROR_MESSAGE_CHARS),
        ("input_preview", MAX_INPUT_PREVIEW_CHARS),
    ] {
        if let Some(Value::String(text)) = payload.get_mut(field)
            && let Cow::Owned(cut) = truncate_chars(text, max)
        {
            *text = cut;
            report.mark_truncated();
        }
    }
    let dropped = match payload.get_mut("stack_frames") {
        Some(Value::Array(frames)) if frames.len() > MAX_STACK_FRAMES => {
            let dropped = frames.len() - MAX_STACK_FRAMES;
            for frame in frames.drain(MAX_STACK_FRAMES..) {
                super::walk::drop_deep(frame);
            }
            dropped
        }
        _ => 0,
    };
    if dropped > 0 {
        let before = payload
            .get("stack_frames_omitted")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let total = before.saturating_add(dropped as u64);
        payload.insert("stack_frames_omitted".to_owned(), Value::from(total));
        report.mark_truncated();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_text_is_borrowed() {
        assert!(matches!(truncate_chars("hello", 5), Cow::Borrowed("hello")));
        assert!(matches!(truncate_chars("héllo", 5), Cow::Borrowed(_)));
    }

    #[test]
    fn cut_counts_characters_and_keeps_the_marker_within_the_limit() {
        let text = "é".repeat(600);
        let cut = truncate_chars(&text, 500);
        assert_eq!(cut.chars().count(), 500);
        assert!(cut.ends_with(TRUNCATION_MARKER));
        assert_eq!(TRUNCATION_MARKER.chars().count(), MARKER_CHARS);
    }

    #[test]
    fn cut_falls_on_char_boundaries_for_any_width() {
        let text = "a€😀b".repeat(50);
        for max in 0..60 {
            let cut = truncate_chars(&text, max);
            assert!(cut.chars().count() <= max, "max {max}: {cut}");
        }
        assert_eq!(truncate_chars(&text, 5), "a€😀b…");
        assert_eq!(truncate_chars(&text, 0), "");
    }

    #[test]
    fn error_limits_apply_to_each_field() {
        let mut payload = json!({
            "error_type": "Boom",
            "error_message": "x".repeat(501),
            "stack_frames": (0..13).map(|i| format!("frame {i}")).collect::<Vec<_>>(),
            "stack_frames_omitted": 2,
            "input_preview": "y".repeat(101),
        })
        .as_object()
        .cloned()
        .unwrap_or_default();
        let mut report = SanitizeReport::default();
        apply_error_limits(&mut payload, &mut report);
        assert!(report.truncated());
        let msg = payload["error_message"].as_str().unwrap_or_default();
        assert_eq!(msg.chars().count(), 500);
        assert!(msg.ends_with(TRUNCATION_MARKER));
        assert_eq!(payload["stack_frames"].as_array().map(Vec::len), Some(10));
        assert_eq!(payload["stack_frames"][9], "frame 9");
        assert_eq!(payload["stack_frames_omitted"], 5);
        assert_eq!(
            payload["input_preview"].as_str().map(|s| s.chars().count()),
            Some(100)
        );
    }

    #[test]
    fn error_limits_leave_fitting_fields_alone() {
        let mut payload = json!({
            "error_message": "x".repeat(500),
            "stack_frames": vec!["a"; 10],
            "input_preview": "y".repeat(100),
        })
        .as_object()
        .cloned()
        .unwrap_or_default();
        let before = payload.clone();
        let mut report = SanitizeReport::default();
        apply_error_limits(&mut payload, &mut report);
        assert_eq!(payload, before);
        assert!(!report.truncated());
    }
}
