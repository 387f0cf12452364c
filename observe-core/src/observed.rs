//! The runtime behind `#[observed]`: a span per call that emits the started
//! event, then exactly one terminal event (complete, error, panic or
//! cancelled), whatever way the call ends.
//!
//! The macro's expansion calls [`observe_sync`] or [`observe_async`] with a
//! static [`CallSite`]; nothing here is meant to be called by hand, though it
//! is public (through `observe::__private`) for the generated code.

mod panic_hook;
mod probe;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use panic_hook::install as install_panic_hook;
pub use probe::{
    DebugMessage, DebugPreview, DisplayMessage, DisplayPreview, ErrTerminal, ErrorCapture,
    MAX_CAPTURED_INPUT_BYTES, OkTerminal, PreviewProbe, Probe, Terminal,
};

use crate::pipeline::{Record, enabled, submit};
use crate::registry::Processor;
use crate::{CorrelationContext, ErrorPayload, EventType, Outcome, Timestamp};

/// What the macro knows about one instrumented function, as a static item.
#[derive(Debug)]
pub struct CallSite {
    /// The registered processor.
    pub processor: &'static Processor,
    /// The operation's name (the function's, or `name = "..."`).
    pub name: &'static str,
    /// `module_path!()` of the function.
    pub module_path: &'static str,
}

/// One call in progress: emits the started event when made, the terminal
/// event when finished or dropped.
struct ActiveSpan {
    call: &'static CallSite,
    context: CorrelationContext,
    /// When the call started and its started event was emitted; `None`
    /// when no pipeline was installed then.
    started: Option<Timestamp>,
    preview: Option<String>,
    /// What a drop before `finish` means: `Panic` for a sync body (only
    /// unwinding skips `finish`), `Cancelled` for a future.
    on_abandon: Outcome,
    done: bool,
}

impl ActiveSpan {
    fn start(call: &'static CallSite, preview: Option<String>, on_abandon: Outcome) -> ActiveSpan {
        let context = CorrelationContext::child_of_current();
        let started = enabled().then(|| {
            let now = Timestamp::now();
            submit(
                Record::new_at(call.processor.started, context, now).processor(call.processor.name),
            );
            now
        });
        ActiveSpan {
            call,
            context,
            started,
            preview,
            on_abandon,
            done: false,
        }
    }

    fn finish(&mut self, terminal: Terminal) {
        // A span whose started event was not emitted (no pipeline then)
        // emits no terminal either: consumers never see half a pair.
        let already_done = std::mem::replace(&mut self.done, true);
        let Some(started) = self.started.filter(|_| !already_done && enabled()) else {
            return;
        };
        let processor = self.call.processor;
        let mut error_payload = |error_type: String, error_message: String| ErrorPayload {
            error_type,
            error_message,
            processor: processor.name.to_owned(),
            input_preview: self.preview.take(),
            ..ErrorPayload::default()
        };
        let (event_type, outcome, at, error) = match terminal {
            Terminal::Ok => (processor.complete, Outcome::Ok, Timestamp::now(), None),
            Terminal::Cancelled => (
                processor.complete,
                Outcome::Cancelled,
                Timestamp::now(),
                None,
            ),
            Terminal::Error(error) => {
                let ErrorCapture {
                    type_name,
                    message,
                    at,
                    stack,
                } = *error;
                let payload = error_payload(probe::short_type_name(type_name), message);
                (
                    EventType::ErrorOccurred,
                    Outcome::Error,
                    at,
                    Some((payload, Some(stack))),
                )
            }
            Terminal::Panic => {
                let panic = panic_hook::last_panic();
                let payload = error_payload("panic".to_owned(), panic.message);
                (
                    EventType::ErrorOccurred,
                    Outcome::Panic,
                    panic.at,
                    Some((payload, panic.stack)),
                )
            }
        };
        // A stale panic time (from an earlier panic) never makes it negative.
        let at = if at < started { Timestamp::now() } else { at };
        let mut record = Record::new_at(event_type, self.context, at)
            .processor(processor.name)
            .outcome(outcome, at.micros_since(started));
        if let Some((payload, stack)) = error {
            record = record.error(payload, stack);
        }
        submit(record);
    }
}

impl Drop for ActiveSpan {
    fn drop(&mut self) {
        if !self.done {
            let terminal = match self.on_abandon {
                Outcome::Panic => Terminal::Panic,
                _ => Terminal::Cancelled,
            };
            self.finish(terminal);
        }
    }
}

/// Runs a synchronous body as one observed call.
///
/// `body` returns the function's output and its [`Terminal`] (classified by
/// the expansion, where the output's type is known). A panic in the body
/// emits `error_occurred` with outcome `panic` and then continues unwinding.
pub fn observe_sync<T>(
    call: &'static CallSite,
    preview: Option<String>,
    body: impl FnOnce() -> (T, Terminal),
) -> T {
    let mut span = ActiveSpan::start(call, preview, Outcome::Panic);
    let (output, terminal) = span.context.in_scope(body);
    span.finish(terminal);
    output
}

/// Runs a future as one observed call: its span is entered on every poll,
/// a panic inside a poll emits outcome `panic`, and dropping it before it
/// finishes emits outcome `cancelled`.
pub fn observe_async<T, F>(call: &'static CallSite, preview: Option<String>, body: F) -> Observed<F>
where
    F: Future<Output = (T, Terminal)>,
{
    Observed {
        inner: body,
        span: None,
        call,
        preview,
    }
}

pin_project_lite::pin_project! {
    /// The future of an observed `async fn` call. The span starts at the
    /// first poll, so a future that is never polled emits nothing.
    pub struct Observed<F> {
        // Declared first so that it is dropped first: nested spans end
        // before this one.
        #[pin]
        inner: F,
        span: Option<ActiveSpan>,
        call: &'static CallSite,
        preview: Option<String>,
    }
}

impl<T, F> Future for Observed<F>
where
    F: Future<Output = (T, Terminal)>,
{
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.project();
        let span = match this.span {
            Some(span) => span,
            None => this.span.insert(ActiveSpan::start(
                this.call,
                this.preview.take(),
                Outcome::Cancelled,
            )),
        };
        if span.done {
            // Polled after completion: the inner future decides what that
            // means; there is nothing left to observe.
            return this.inner.poll(cx).map(|(output, _)| output);
        }
        let _context = span.context.enter();
        let mut guard = PanicGuard {
            span,
            was_panicking: std::thread::panicking(),
            armed: true,
        };
        let poll = this.inner.poll(cx);
        guard.armed = false;
        match poll {
            Poll::Ready((output, terminal)) => {
                guard.span.finish(terminal);
                Poll::Ready(output)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Ends the span with outcome `panic` if a poll unwinds through it.
struct PanicGuard<'a> {
    span: &'a mut ActiveSpan,
    was_panicking: bool,
    armed: bool,
}

impl Drop for PanicGuard<'_> {
    fn drop(&mut self) {
        if self.armed && std::thread::panicking() && !self.was_panicking {
            self.span.finish(Terminal::Panic);
        }
    }
}
