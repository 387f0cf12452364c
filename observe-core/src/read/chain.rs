//! The chain model: the events of one request turned into a tree of spans,
//! with each span's outcome, the spans still in flight (started, no terminal
//! event yet), the orphans (whose parent span is not in the chain) and the
//! problems found in the data (duplicate events, a span with two terminal
//! events or a terminal timestamped before its start, parent cycles).

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use crate::{ErrorPayload, Event, EventType, Outcome, SpanId, Timestamp};

/// How bad an outcome is, for picking a request's worst one: a panic is
/// worse than an error, an error worse than a cancellation, and that worse
/// than success.
pub const fn severity(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Ok => 0,
        Outcome::Cancelled => 1,
        Outcome::Error => 2,
        Outcome::Panic => 3,
    }
}

/// The worse of two outcomes (`None` means no terminal event yet).
///
/// ```
/// use observe::Outcome;
/// use observe::chain::worst;
///
/// assert_eq!(worst(Some(Outcome::Ok), Some(Outcome::Error)), Some(Outcome::Error));
/// assert_eq!(worst(None, Some(Outcome::Cancelled)), Some(Outcome::Cancelled));
/// ```
pub fn worst(a: Option<Outcome>, b: Option<Outcome>) -> Option<Outcome> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if severity(b) > severity(a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// One operation of a request: the events that share a span id.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    /// The span's id.
    pub span_id: SpanId,
    /// The enclosing span, as the span's events say.
    pub parent_span_id: Option<SpanId>,
    /// The processor named by the span's first event that has one.
    pub processor: Option<String>,
    /// The time of the span's first event.
    pub start: Timestamp,
    /// How the span ended; `None` while it is in flight.
    pub outcome: Option<Outcome>,
    /// The duration its terminal event reports.
    pub duration_us: Option<u64>,
    /// The `error_message` of its `error_occurred` event, if any.
    pub error_message: Option<String>,
    /// The whole `ErrorPayload` of its `error_occurred` event, when the
    /// payload is one (type, message, stack frames, input preview).
    pub error: Option<ErrorPayload>,
    /// Its events, as indexes into [`Chain::events`], in time order.
    pub events: Vec<usize>,
    /// Its child spans, as indexes into [`Chain::spans`], in start order.
    pub children: Vec<usize>,
    /// Its parent span id is set but no such span is in the chain (a remote
    /// parent, or events lost or not yet written).
    pub orphan: bool,
    /// It has a `response_sent` event: the request's own span, answered.
    pub responded: bool,
}

/// Something wrong in a chain's events, reported rather than hidden (the
/// tree is still built from what is there).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The same `event_id` appears more than once; the copies after the
    /// first are left out of the chain.
    DuplicateEvent {
        /// The repeated id.
        event_id: Uuid,
        /// How many extra copies.
        copies: usize,
    },
    /// A span has more than one terminal event (its outcome is the worst).
    SeveralTerminals {
        /// The span.
        span_id: SpanId,
        /// How many terminal events.
        count: usize,
    },
    /// A span's terminal event is timestamped before its `_started` event
    /// (clock skew, or a writer's bug); the span starts at the earlier one.
    TerminalBeforeStart {
        /// The span.
        span_id: SpanId,
    },
    /// These spans' parent links form a cycle, so no root reaches them;
    /// [`Chain::walk`] leaves them out.
    ParentCycle {
        /// The spans in or below the cycle.
        span_ids: Vec<SpanId>,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::DuplicateEvent { event_id, copies } => {
                write!(f, "event {event_id} is stored {} times", copies + 1)
            }
            Problem::SeveralTerminals { span_id, count } => {
                write!(f, "span {span_id} has {count} terminal events")
            }
            Problem::TerminalBeforeStart { span_id } => {
                write!(
                    f,
                    "span {span_id} ends before it starts (its terminal event is timestamped first)"
                )
            }
            Problem::ParentCycle { span_ids } => {
                let ids: Vec<String> = span_ids.iter().map(ToString::to_string).collect();
                write!(f, "spans {} have parent links in a cycle", ids.join(", "))
            }
        }
    }
}

impl Span {
    /// Started, with no terminal event yet. A request's own span ends with
    /// its `response_sent` event.
    pub fn in_flight(&self) -> bool {
        self.outcome.is_none() && !self.responded
    }

    /// The processor, or the type of the span's first event when it has
    /// none (the request's own span: `message_received`).
    pub fn label<'a>(&'a self, chain: &'a Chain) -> &'a str {
        match (&self.processor, self.events.first()) {
            (Some(processor), _) => processor,
            (None, Some(&first)) => chain.events[first].event_type.as_str(),
            (None, None) => "?",
        }
    }
}

/// The events of one request (one correlation id) as a tree of spans.
///
/// ```
/// use observe::{CorrelationContext, Event, EventType, Outcome};
/// use observe::chain::Chain;
///
/// let request = CorrelationContext::new_root();
/// let call = request.child();
/// let chain = Chain::build(vec![
///     Event::new(EventType::MessageReceived, &request),
///     Event::new(EventType::RetrievalStarted, &call).with_processor("retrieval"),
///     Event::new(EventType::RetrievalComplete, &call)
///         .with_processor("retrieval")
///         .with_outcome(Outcome::Ok, 1200),
/// ]);
/// let tree: Vec<_> = chain.walk().map(|(depth, span)| (depth, span.label(&chain))).collect();
/// assert_eq!(tree, [(0, "message_received"), (1, "retrieval")]);
/// assert_eq!(chain.in_flight().count(), 1); // the request's own span has no terminal event
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    correlation_id: Uuid,
    events: Vec<Event>,
    spans: Vec<Span>,
    roots: Vec<usize>,
    problems: Vec<Problem>,
}

impl Chain {
    /// Builds the tree from the events of one request, in any order; they
    /// are sorted by time (stable, so equal times keep their order). Events
    /// of another correlation id than the first event's are left out.
    pub fn build(mut events: Vec<Event>) -> Chain {
        let correlation_id = events.first().map_or(Uuid::nil(), |e| e.correlation_id);
        events.retain(|e| e.correlation_id == correlation_id);
        events.sort_by_key(|e| e.timestamp);
        let mut problems = dedup(&mut events);
        let mut index: HashMap<SpanId, usize> = HashMap::new();
        let mut spans: Vec<Span> = Vec::new();
        for (i, event) in events.iter().enumerate() {
            let at = *index.entry(event.span_id).or_insert_with(|| {
                spans.push(Span::starting_at(event));
                spans.len() - 1
            });
            spans[at].absorb(i, event);
        }
        let mut roots = Vec::new();
        for i in 0..spans.len() {
            match spans[i].parent_span_id.and_then(|p| index.get(&p).copied()) {
                Some(parent) => spans[parent].children.push(i),
                None => {
                    spans[i].orphan = spans[i].parent_span_id.is_some();
                    roots.push(i);
                }
            }
        }
        problems.extend(span_problems(&events, &spans));
        let mut chain = Chain {
            correlation_id,
            events,
            spans,
            roots,
            problems,
        };
        let unreachable = chain.unreachable();
        if !unreachable.is_empty() {
            chain.problems.push(Problem::ParentCycle {
                span_ids: unreachable,
            });
        }
        chain
    }

    /// The spans that no root reaches (their parent links form a cycle).
    fn unreachable(&self) -> Vec<SpanId> {
        let reached: HashSet<SpanId> = self.walk().map(|(_, s)| s.span_id).collect();
        self.spans
            .iter()
            .map(|s| s.span_id)
            .filter(|id| !reached.contains(id))
            .collect()
    }

    /// What is wrong in the chain's events, in the order found.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Splits events of several requests into one chain per correlation id,
    /// ordered by each chain's first event.
    pub fn group(events: impl IntoIterator<Item = Event>) -> Vec<Chain> {
        let mut by_request: HashMap<Uuid, Vec<Event>> = HashMap::new();
        for event in events {
            by_request
                .entry(event.correlation_id)
                .or_default()
                .push(event);
        }
        let mut chains: Vec<Chain> = by_request.into_values().map(Chain::build).collect();
        chains.sort_by_key(|c| (c.start(), c.correlation_id));
        chains
    }

    /// The request's correlation id (nil for an empty chain).
    pub fn correlation_id(&self) -> Uuid {
        self.correlation_id
    }

    /// All events, in time order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// All spans, in the order their first events appear.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// The span with this id.
    pub fn span(&self, id: SpanId) -> Option<&Span> {
        self.spans.iter().find(|s| s.span_id == id)
    }

    /// The spans without a parent in the chain: the request's root, and
    /// orphans.
    pub fn roots(&self) -> impl Iterator<Item = &Span> {
        self.roots.iter().map(|&i| &self.spans[i])
    }

    /// The children of `span`, in start order.
    pub fn children<'a>(&'a self, span: &'a Span) -> impl Iterator<Item = &'a Span> {
        span.children.iter().map(|&i| &self.spans[i])
    }

    /// Every span reachable from a root with its depth, depth first, in
    /// start order (iterative: any depth is fine).
    pub fn walk(&self) -> impl Iterator<Item = (usize, &Span)> {
        let mut stack: Vec<(usize, usize)> = self.roots.iter().rev().map(|&i| (0, i)).collect();
        std::iter::from_fn(move || {
            let (depth, i) = stack.pop()?;
            let span = &self.spans[i];
            stack.extend(span.children.iter().rev().map(|&c| (depth + 1, c)));
            Some((depth, span))
        })
    }

    /// Spans that started and have no terminal event yet.
    pub fn in_flight(&self) -> impl Iterator<Item = &Span> {
        self.spans.iter().filter(|s| s.in_flight())
    }

    /// Spans whose parent is not in the chain.
    pub fn orphans(&self) -> impl Iterator<Item = &Span> {
        self.spans.iter().filter(|s| s.orphan)
    }

    /// The worst outcome of any span (see [`severity`]); `None` if no span
    /// has ended.
    pub fn outcome(&self) -> Option<Outcome> {
        self.spans.iter().fold(None, |acc, s| worst(acc, s.outcome))
    }

    /// The time of the first event.
    pub fn start(&self) -> Option<Timestamp> {
        self.events.first().map(|e| e.timestamp)
    }

    /// Microseconds from the first event to the last.
    pub fn duration_us(&self) -> u64 {
        match (self.events.first(), self.events.last()) {
            (Some(first), Some(last)) => last.timestamp.micros_since(first.timestamp),
            _ => 0,
        }
    }
}

impl Span {
    fn starting_at(event: &Event) -> Span {
        Span {
            span_id: event.span_id,
            parent_span_id: event.parent_span_id,
            processor: None,
            start: event.timestamp,
            outcome: None,
            duration_us: None,
            error_message: None,
            error: None,
            events: Vec::new(),
            children: Vec::new(),
            orphan: false,
            responded: false,
        }
    }

    fn absorb(&mut self, index: usize, event: &Event) {
        self.events.push(index);
        if self.processor.is_none() {
            self.processor = event.processor.as_deref().map(str::to_owned);
        }
        if self.parent_span_id.is_none() {
            self.parent_span_id = event.parent_span_id;
        }
        if event.outcome.is_some() {
            self.outcome = worst(self.outcome, event.outcome);
            self.duration_us = event.duration_us.or(self.duration_us);
        }
        if event.event_type == EventType::ResponseSent {
            self.responded = true;
            if self.duration_us.is_none() {
                self.duration_us = Some(event.timestamp.micros_since(self.start));
            }
        }
        if event.event_type == EventType::ErrorOccurred {
            self.error_message = event
                .payload
                .get("error_message")
                .and_then(|m| m.as_str())
                .map(str::to_owned);
            self.error = serde_json::from_value(event.payload.clone().into()).ok();
        }
    }
}

/// Leaves out the repeated copies of an event id (keeping the first) and
/// reports them.
fn dedup(events: &mut Vec<Event>) -> Vec<Problem> {
    let mut seen: HashMap<Uuid, usize> = HashMap::new();
    events.retain(|e| {
        let copies = seen.entry(e.event_id).or_insert(0);
        *copies += 1;
        *copies == 1
    });
    events
        .iter()
        .filter_map(|e| match seen.get(&e.event_id) {
            Some(&n) if n > 1 => Some(Problem::DuplicateEvent {
                event_id: e.event_id,
                copies: n - 1,
            }),
            _ => None,
        })
        .collect()
}

/// Spans with several terminal events, or whose terminal event comes
/// before their `_started` event.
fn span_problems(events: &[Event], spans: &[Span]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for span in spans {
        let terminals: Vec<usize> = span
            .events
            .iter()
            .copied()
            .filter(|&i| events[i].outcome.is_some())
            .collect();
        if terminals.len() > 1 {
            problems.push(Problem::SeveralTerminals {
                span_id: span.span_id,
                count: terminals.len(),
            });
        }
        let started = span
            .events
            .iter()
            .copied()
            .find(|&i| events[i].event_type.as_str().ends_with("_started"));
        if let (Some(&first_end), Some(start)) = (terminals.first(), started)
            && first_end < start
        {
            problems.push(Problem::TerminalBeforeStart {
                span_id: span.span_id,
            });
        }
    }
    problems
}
