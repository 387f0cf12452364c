//! The runtime behind `#[observed]`: a span per call that emits the started
//! event, then exactly one terminal event (complete, error, panic or
//! cancelled), whatever way the call ends.
//!
//! The macro's expansion calls [`observe_sync`] or [`observe_async`] with a
//! static [`CallSite`]; nothing here is meant to be called by hand, though it
//! is public (through `observe::__private`) for the generated code.

mod panic_hook;
mod probe;

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use panic_hook::PanicReport;

pub use panic_hook::install as install_panic_hook;
pub use probe::{
    DebugMessage, DebugPreview, DisplayMessage, DisplayPreview, ErrTerminal, ErrorCapture,
    MAX_CAPTURED_INPUT_BYTES, OkTerminal, PreviewProbe, Probe, Terminal,
};

use crate::context::WithContext;
use crate::pipeline::{Record, enabled, submit, submit_bare};
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

/// How a span ended.
enum End {
    /// The call returned; the call site classified its output.
    Returned(Terminal),
    /// The call panicked; what the span caught of it.
    Panicked(PanicReport),
    /// The future was dropped before it finished.
    Cancelled,
}

/// One call in progress: emits the started event when made, the terminal
/// event when finished, or `cancelled` when dropped unfinished.
struct ActiveSpan {
    call: &'static CallSite,
    context: CorrelationContext,
    /// When the call started and its started event was emitted; `None`
    /// when no pipeline was installed then.
    started: Option<Timestamp>,
    preview: Option<String>,
    done: bool,
}

impl ActiveSpan {
    fn start(call: &'static CallSite, preview: Option<String>) -> ActiveSpan {
        let context = CorrelationContext::child_of_current();
        let started = enabled().then(|| {
            let now = Timestamp::now();
            submit_bare(
                Record::new_at(call.processor.started, context, now).processor(call.processor.name),
            );
            now
        });
        ActiveSpan {
            call,
            context,
            started,
            preview,
            done: false,
        }
    }

    /// Ends the span on a caught panic: reports it, then returns the payload
    /// to re-raise (with `resume_unwind`, which does not run the panic hook
    /// a second time).
    fn finish_panicked(&mut self, payload: Box<dyn Any + Send>) -> Box<dyn Any + Send> {
        self.finish(End::Panicked(panic_hook::report(&*payload)));
        payload
    }

    fn finish(&mut self, end: End) {
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
        let (event_type, outcome, at, error) = match end {
            End::Returned(Terminal::Ok) => {
                (processor.complete, Outcome::Ok, Timestamp::now(), None)
            }
            End::Cancelled => (
                processor.complete,
                Outcome::Cancelled,
                Timestamp::now(),
                None,
            ),
            End::Returned(Terminal::Error(error)) => {
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
            End::Panicked(panic) => {
                let payload = error_payload("panic".to_owned(), panic.message);
                (
                    EventType::ErrorOccurred,
                    Outcome::Panic,
                    panic.at,
                    Some((payload, panic.stack)),
                )
            }
        };
        // Clocks may disagree by a little; a duration is never negative.
        let at = if at < started { Timestamp::now() } else { at };
        let record = Record::new_at(event_type, self.context, at)
            .processor(processor.name)
            .outcome(outcome, at.micros_since(started));
        match error {
            Some((payload, stack)) => submit(record.error(payload, stack)),
            None => submit_bare(record),
        }
    }
}

impl Drop for ActiveSpan {
    fn drop(&mut self) {
        // Panics are caught and reported by the wrappers, so a span dropped
        // unfinished belongs to a future dropped before it finished.
        if !self.done {
            self.finish(End::Cancelled);
        }
    }
}

/// Runs a synchronous body as one observed call.
///
/// `body` returns the function's output and its [`Terminal`] (classified by
/// the expansion, where the output's type is known). A panic in the body is
/// caught, reported as `error_occurred` with outcome `panic` and the panic's
/// own message, and re-raised with its original payload.
pub fn observe_sync<T>(
    call: &'static CallSite,
    preview: Option<String>,
    body: impl FnOnce() -> (T, Terminal),
) -> T {
    let mut span = ActiveSpan::start(call, preview);
    // Unwind safety: the panic is re-raised right away; only the span (our
    // own state) is looked at between catching and re-raising.
    let result = span
        .context
        .in_scope(|| catch_unwind(AssertUnwindSafe(body)));
    match result {
        Ok((output, terminal)) => {
            span.finish(End::Returned(terminal));
            output
        }
        Err(payload) => resume_unwind(span.finish_panicked(payload)),
    }
}

/// Runs a future as one observed call: its span is entered on every poll
/// and while the future is dropped, a panic inside a poll emits outcome
/// `panic` (with the panic's own message) and is re-raised, and dropping it
/// before it finishes emits outcome `cancelled`.
pub fn observe_async<T, F>(call: &'static CallSite, preview: Option<String>, body: F) -> Observed<F>
where
    F: Future<Output = (T, Terminal)>,
{
    Observed {
        inner: WithContext::context_set_later(body),
        span: None,
        call,
        preview,
    }
}

pin_project_lite::pin_project! {
    /// The future of an observed `async fn` call. The span starts at the
    /// first poll, so a future that is never polled emits nothing.
    pub struct Observed<F> {
        // Declared first so that it is dropped first, inside the span's
        // context (`WithContext` enters it on drop): destructors in the body
        // and nested spans end before this span, and still belong to it.
        #[pin]
        inner: WithContext<F>,
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
        let mut this = self.project();
        let span = match this.span {
            Some(span) => span,
            None => {
                let span = ActiveSpan::start(this.call, this.preview.take());
                this.inner.as_mut().set_context(span.context);
                this.span.insert(span)
            }
        };
        if span.done {
            // Polled after completion: the inner future decides what that
            // means; there is nothing left to observe.
            return this.inner.poll(cx).map(|(output, _)| output);
        }
        // Unwind safety: as in `observe_sync`, the panic is re-raised at once.
        match catch_unwind(AssertUnwindSafe(|| this.inner.poll(cx))) {
            Ok(Poll::Ready((output, terminal))) => {
                span.finish(End::Returned(terminal));
                Poll::Ready(output)
            }
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => resume_unwind(span.finish_panicked(payload)),
        }
    }
}
