//! The diagnostics stream: one human-readable line per breaker transition,
//! sink failure, fallback failure or caught panic, sanitized before it is
//! written, and written so that the writer's own panic cannot hurt the
//! worker.

use std::io::Write;
use std::sync::atomic::AtomicU64;

use super::stats::Counters;
use crate::delivery::isolate::isolate;
use crate::delivery::sanitize::Sanitizer;

/// Most characters of one diagnostics line (after sanitizing).
const MAX_LINE_CHARS: usize = 1000;

/// Things reported on the first occurrence only.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Once {
    /// The fallback writer failed or panicked.
    FallbackFailed = 1,
    /// A sink future panicked in its drop.
    SinkDropPanic = 2,
    /// Preparing an event (sanitizing, resolving its stack) panicked.
    PreparePanic = 4,
}

/// The configured diagnostics writer and what it needs to write safely.
pub(crate) struct Diagnostics {
    /// `None` once the writer panicked: it is not used again.
    out: Option<Box<dyn Write + Send>>,
    sanitizer: Sanitizer,
    service_name: String,
    panics: &'static AtomicU64,
    reported: u8,
}

impl Diagnostics {
    /// Writes to `out`, through `sanitizer`; counts the writer's own panic
    /// in `panics`.
    pub(crate) fn new(
        out: Box<dyn Write + Send>,
        sanitizer: Sanitizer,
        service_name: String,
        panics: &'static AtomicU64,
    ) -> Diagnostics {
        Diagnostics {
            out: Some(out),
            sanitizer,
            service_name,
            panics,
            reported: 0,
        }
    }

    /// Writes one line, sanitized and cut to [`MAX_LINE_CHARS`]. An I/O
    /// error is ignored (there is nowhere to report it); a panic is counted
    /// and the writer is not used again.
    pub(crate) fn line(&mut self, message: std::fmt::Arguments<'_>) {
        let Some(out) = self.out.as_mut() else {
            return;
        };
        let text = format!("observe[{}]: {message}", self.service_name);
        let clean = self.sanitizer.preview(&text, MAX_LINE_CHARS);
        let wrote = isolate(|| {
            let _ = writeln!(out, "{clean}");
            let _ = out.flush();
        });
        if wrote.is_err() {
            Counters::add(self.panics, 1);
            if let Some(out) = self.out.take() {
                // Its drop is the application's code too.
                let _ = isolate(move || drop(out));
            }
        }
    }

    /// Writes the line if `what` was not reported before.
    pub(crate) fn once(&mut self, what: Once, message: std::fmt::Arguments<'_>) {
        let bit = what as u8;
        if self.reported & bit == 0 {
            self.reported |= bit;
            self.line(message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    struct Panicking;

    impl Write for Panicking {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            panic!("diagnostics writer exploded")
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    static PANICS: AtomicU64 = AtomicU64::new(0);

    #[test]
    fn lines_are_sanitized_cut_and_reported_once_when_asked() {
        let out = Shared::default();
        let mut d = Diagnostics::new(
            Box::new(out.clone()),
            Sanitizer::new(),
            "svc".into(),
            &PANICS,
        );
        d.line(format_args!("the sink failed: api_key=abc123def456ghi"));
        d.line(format_args!("{}", "x".repeat(5000)));
        d.once(Once::FallbackFailed, format_args!("first"));
        d.once(Once::FallbackFailed, format_args!("second"));
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(!text.contains("abc123def456ghi"), "{text}");
        assert!(text.starts_with("observe[svc]: the sink failed"), "{text}");
        assert!(text.lines().all(|l| l.chars().count() <= MAX_LINE_CHARS));
        assert_eq!(text.matches("first").count(), 1);
        assert_eq!(text.matches("second").count(), 0);
    }

    #[test]
    fn a_panicking_writer_is_counted_once_and_not_used_again() {
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let mut d = Diagnostics::new(Box::new(Panicking), Sanitizer::new(), "s".into(), &COUNT);
        d.line(format_args!("one"));
        d.line(format_args!("two"));
        assert_eq!(COUNT.load(std::sync::atomic::Ordering::Relaxed), 1);
    }
}
