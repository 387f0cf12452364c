//! A bridge from `tracing`: [`ObserveLayer`] turns the spans and events of
//! code instrumented with `tracing` (the application's own, and its
//! libraries': hyper, tower-http, sqlx, ...) into events of the same
//! correlation chains as `#[observed]` calls, scrubbed and delivered by the
//! same pipeline. Enabled by the `tracing` cargo feature.
//!
//! # What a `tracing` span becomes
//!
//! - Its creation emits `span_started`, with `processor` set to the span's
//!   name and a payload of its `target`, `level` and fields. It nests under
//!   the current observe context (an `#[observed]` call, an HTTP request,
//!   or another bridged span), or under its explicit `parent:`; a span made
//!   with `parent: None` starts a new request.
//! - While it is entered, its context is the current observe context, so
//!   `#[observed]` calls made inside it are its children: the two kinds of
//!   span interleave in one tree in either direction.
//! - Its close emits exactly one terminal event with its duration (through
//!   the same [`SpanGuard`] as every span): `span_complete` with outcome
//!   `ok` and the fields recorded after creation as payload; or
//!   `error_occurred` (outcome `error`, `error_type` `tracing`) when an
//!   ERROR-level event was recorded inside it or it carries a field named
//!   `error`, whose text (or the event's message) is the error message; or
//!   outcome `panic` when it is closed while its thread unwinds a panic
//!   (the only sign of a panic a `tracing` span gives).
//!
//! A `tracing` event inside a bridged span, or inside any observe context,
//! becomes `log_recorded` in that span, with `level`, `target`, `message`
//! and its fields as payload. Events outside every span and context are
//! left to the application's other layers: they belong to no request.
//!
//! In a store, an exporter or the dashboard, a bridged span looks like a
//! processor's: its name is in the `processor` column (the OTLP and Zipkin
//! span name), its `target` and fields in the started event's payload. The
//! registry stays closed for `#[observed]`; bridged spans need no entry.
//!
//! # Never in the way
//!
//! The layer emits with the same non-blocking push as every event; fields
//! are formatted on the caller's thread only while a pipeline is installed,
//! at most [`MAX_FIELDS`] of them, each cut at [`MAX_TEXT_BYTES`]. It works
//! with `with_filter` and per-layer filters (a span the filter rejects is
//! not seen at all). Spans and events made on the pipeline's own threads
//! (a sink and its dependencies writing a batch) are skipped, so the
//! pipeline never feeds its own work back into itself.
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let subscriber = tracing_subscriber::registry().with(observe::tracing::ObserveLayer::new());
//! tracing::subscriber::with_default(subscriber, || {
//!     let span = tracing::info_span!("db_query", table = "orders");
//!     span.in_scope(|| tracing::debug!(rows = 3, "fetched"));
//! });
//! ```
//!
//! # The other direction
//!
//! An `#[observed]` call does not appear in `tracing`: a setup built on
//! `tracing` sees observe's spans through the exporters instead (OTLP to
//! the same collector or backend), where both kinds share trace ids, since
//! a `traceparent` received or sent carries the correlation id.

mod fields;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use serde_json::Value;
use tracing_core::callsite::Identifier;
use tracing_core::span::{Attributes, Id, Record as SpanValues};
use tracing_core::{Event as TracingEvent, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

pub use fields::{MAX_FIELDS, MAX_TEXT_BYTES};

use crate::delivery::pipeline::{
    FieldValue, Record, RecordPayload, enabled, on_pipeline_thread, submit,
};
use crate::model::context;
use crate::runtime::span::{Failures, SpanGuard, SpanKind, Terminal};
use crate::{CorrelationContext, EventType, Outcome, Timestamp};
use fields::Fields;

/// A `tracing_subscriber` layer that bridges `tracing` spans and events
/// into observe's pipeline; see the [module documentation](self).
#[derive(Debug, Default)]
pub struct ObserveLayer {
    /// One span kind per callsite, made the first time a span of that
    /// callsite is created and kept for the life of the process (callsites
    /// are static, so this is bounded by the program's code).
    kinds: RwLock<HashMap<Identifier, &'static SpanKind>>,
}

/// What the layer keeps in a bridged span's extensions.
#[derive(Debug)]
struct Bridged {
    span: SpanGuard,
    /// Fields recorded after creation, for the complete event.
    recorded: Vec<(&'static str, FieldValue)>,
    /// Why the span failed, if an ERROR event or an `error` field said so.
    error: Option<String>,
}

thread_local! {
    /// The contexts that entering bridged spans replaced on this thread,
    /// innermost last.
    static ENTERED: RefCell<Vec<(Id, Option<CorrelationContext>)>> = const { RefCell::new(Vec::new()) };
}

impl ObserveLayer {
    /// The layer; add it to a `tracing_subscriber::registry()`.
    pub fn new() -> ObserveLayer {
        ObserveLayer::default()
    }

    /// The span kind of a callsite: its name as processor, bridged event
    /// types, failures as `error_occurred`.
    fn kind_of(&self, metadata: &'static Metadata<'static>) -> &'static SpanKind {
        let id = metadata.callsite();
        if let Some(kind) = self
            .kinds
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
        {
            return kind;
        }
        let mut kinds = self.kinds.write().unwrap_or_else(PoisonError::into_inner);
        kinds.entry(id).or_insert_with(|| {
            Box::leak(Box::new(SpanKind {
                processor: Some(metadata.name()),
                started: EventType::SpanStarted,
                complete: EventType::SpanComplete,
                failures: Failures::ErrorOccurred,
            }))
        })
    }
}

/// The bridged context of span `id`, if it is bridged.
fn context_of<S>(ctx: &Context<'_, S>, id: &Id) -> Option<CorrelationContext>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let span = ctx.span(id)?;
    let extensions = span.extensions();
    extensions.get::<Bridged>().map(|b| b.span.context())
}

impl<S> Layer<S> for ObserveLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !enabled() || on_pipeline_thread() {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        let context = if attrs.is_root() {
            CorrelationContext::new_root()
        } else {
            match attrs.parent().and_then(|parent| context_of(&ctx, parent)) {
                Some(parent) => parent.child(),
                // Contextual, or an explicit parent that is not bridged:
                // entering bridged spans keeps the observe context current.
                None => CorrelationContext::child_of_current(),
            }
        };
        let metadata = attrs.metadata();
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let error = fields.error.take();
        let guard =
            SpanGuard::start_with(self.kind_of(metadata), context, Timestamp::now(), || {
                RecordPayload::Fields(fields.with_metadata(metadata))
            });
        span.extensions_mut().insert(Bridged {
            span: guard,
            recorded: Vec::new(),
            error,
        });
    }

    fn on_record(&self, id: &Id, values: &SpanValues<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        let Some(bridged) = extensions.get_mut::<Bridged>() else {
            return;
        };
        if !bridged.span.is_recording() {
            return;
        }
        let mut fields = Fields::default();
        values.record(&mut fields);
        if let Some(error) = fields.error.take() {
            bridged.error = Some(error);
        }
        let room = MAX_FIELDS.saturating_sub(bridged.recorded.len());
        bridged
            .recorded
            .extend(fields.values.into_iter().take(room));
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(context) = context_of(&ctx, id) {
            let previous = context::replace_current(Some(context));
            let _ = ENTERED.try_with(|entered| entered.borrow_mut().push((id.clone(), previous)));
        }
    }

    fn on_exit(&self, id: &Id, _ctx: Context<'_, S>) {
        let _ = ENTERED.try_with(|entered| {
            let mut entered = entered.borrow_mut();
            let Some(at) = entered.iter().rposition(|(entered, _)| entered == id) else {
                return;
            };
            let (_, previous) = entered.remove(at);
            match entered.get_mut(at) {
                // Exited out of order: the span entered after this one now
                // restores what this one replaced.
                Some((_, next_previous)) => *next_previous = previous,
                None => {
                    context::replace_current(previous);
                }
            }
        });
    }

    fn on_event(&self, event: &TracingEvent<'_>, ctx: Context<'_, S>) {
        if !enabled() || on_pipeline_thread() {
            return;
        }
        let span = ctx.event_span(event);
        let context = match event.parent() {
            Some(parent) => context_of(&ctx, parent),
            None => context::current(),
        };
        let Some(context) =
            context.or_else(|| span.as_ref().and_then(|s| context_of(&ctx, &s.id())))
        else {
            return;
        };
        let metadata = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = fields.take("message");
        if *metadata.level() == Level::ERROR
            && let Some(span) = &span
            && let Some(bridged) = span.extensions_mut().get_mut::<Bridged>()
        {
            let why = match &message {
                Some(FieldValue::Json(Value::String(text))) => text.clone(),
                _ => format!("an ERROR event of `{}`", metadata.target()),
            };
            bridged.error.get_or_insert(why);
        }
        let mut payload = fields.with_metadata(metadata);
        if let Some(message) = message {
            payload.push(("message", message));
        }
        submit(Record::new(EventType::LogRecorded, context).fields(payload));
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let Some(mut bridged) = span.extensions_mut().remove::<Bridged>() else {
            return;
        };
        if std::thread::panicking() {
            bridged.span.end(Outcome::Panic, || Terminal::Error {
                error_type: "panic".to_owned(),
                error_message: "the span was closed while its thread unwound a panic".to_owned(),
                stack: None,
                fields: Vec::new(),
            });
            return;
        }
        match bridged.error {
            Some(error_message) => bridged.span.end(Outcome::Error, || Terminal::Error {
                error_type: "tracing".to_owned(),
                error_message,
                stack: None,
                fields: bridged.recorded,
            }),
            None => bridged.span.end(Outcome::Ok, || {
                if bridged.recorded.is_empty() {
                    Terminal::Bare
                } else {
                    Terminal::Fields(bridged.recorded)
                }
            }),
        }
    }
}
