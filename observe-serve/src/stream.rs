//! `GET /api/v1/stream`: the live events as Server-Sent Events, replayed
//! from the store after `Last-Event-ID` or a lag, then followed live.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use observe_store::EventStore;
use serde::Deserialize;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::follower::{BATCH, Frame};
use crate::json::version_error;
use crate::server::AppState;

/// The stream's query parameters: filters and the schema version wanted.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StreamQuery {
    correlation_id: Option<String>,
    event_type: Option<String>,
    processor: Option<String>,
    outcome: Option<String>,
    schema_version: Option<u32>,
    /// `named=false` leaves out the SSE event field, so that a browser's
    /// `onmessage` sees every type (custom ones too).
    named: Option<bool>,
}

impl StreamQuery {
    fn admits(&self, frame: &Frame) -> bool {
        let same = |wanted: &Option<String>, got: Option<&str>| {
            wanted.as_deref().is_none_or(|w| Some(w) == got)
        };
        same(&self.correlation_id, Some(&frame.correlation_id))
            && same(&self.event_type, Some(&frame.event_type))
            && same(&self.processor, frame.processor.as_deref())
            && same(&self.outcome, frame.outcome)
    }
}

/// One client's position: what it has been sent, where it reads next.
struct Client {
    state: AppState,
    query: StreamQuery,
    live: broadcast::Receiver<Arc<Frame>>,
    /// The last `seq` sent (or skipped by the filters).
    last: i64,
    /// Frames read from the store, not yet sent.
    replay: std::collections::VecDeque<Frame>,
    /// Reading from the store until it has nothing newer.
    replaying: bool,
    _guard: ClientGuard,
}

/// Counts the connected clients for `/metrics`.
struct ClientGuard(AppState);

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.0.metrics.client_left();
    }
}

/// The `seq` a new client's "from now on" starts after: the newest event
/// the follower published or the store holds, whichever is later. The
/// follower polls, so events written just before the client connected may
/// be in the store and not yet published; they are not "from now on".
async fn now(state: &AppState) -> i64 {
    let head = state.follower.head().await;
    let stored = match state.store.before(i64::MAX, 1).await {
        Ok(tail) => tail.events.first().map_or(0, |e| e.seq),
        Err(error) => {
            eprintln!("observe serve: reading the store's newest event failed: {error}");
            0
        }
    };
    head.max(stored)
}

/// The handler.
pub(crate) async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<StreamQuery>,
) -> Response {
    if let Some(wanted) = query.schema_version.or_else(|| header_version(&headers))
        && wanted != observe_core::SCHEMA_VERSION
    {
        return version_error(wanted);
    }
    let live = state.follower.subscribe();
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let last = match resume {
        Some(seq) => seq,
        None => now(&state).await,
    };
    state.metrics.client_joined();
    let client = Client {
        _guard: ClientGuard(state.clone()),
        state,
        query,
        live,
        last,
        replay: Default::default(),
        replaying: true,
    };
    Sse::new(events(client))
        .keep_alive(
            KeepAlive::new()
                .interval(Duration::from_secs(15))
                .text("keep-alive"),
        )
        .into_response()
}

/// `Observe-Schema-Version: N`, for clients that prefer a header.
fn header_version(headers: &HeaderMap) -> Option<u32> {
    headers
        .get("observe-schema-version")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn events(client: Client) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    stream::unfold(client, |mut client| async move {
        let event = client.next().await?;
        Some((Ok(event), client))
    })
}

impl Client {
    /// The next SSE event; `None` ends the stream.
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(frame) = self.replay.pop_front() {
                if let Some(event) = self.send(&frame) {
                    return Some(event);
                }
                continue;
            }
            if self.replaying {
                self.replaying = self.fill().await?;
                continue;
            }
            match self.live.recv().await {
                Ok(frame) => {
                    if let Some(event) = self.send(&frame) {
                        return Some(event);
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    // Behind by more than the channel holds: say so, then
                    // read what it missed from the store.
                    self.live = self.state.follower.subscribe();
                    self.replaying = true;
                    let data = format!(r#"{{"missed":{missed},"resync_from":{}}}"#, self.last);
                    return Some(SseEvent::default().event("lagged").data(data));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// Reads the next batch after `last` from the store; `Some(false)` when
    /// the store had nothing newer (live from here), `None` on an error.
    async fn fill(&mut self) -> Option<bool> {
        match self.state.store.after(self.last, BATCH).await {
            Ok(tail) => {
                let full = tail.events.len() == BATCH;
                self.replay
                    .extend(tail.events.iter().filter_map(Frame::new));
                if tail.events.is_empty() {
                    self.last = self.last.max(tail.next_seq);
                }
                Some(full || !self.replay.is_empty())
            }
            Err(error) => {
                eprintln!("observe serve: replaying the store failed: {error}");
                None
            }
        }
    }

    /// The SSE event for `frame`, or `None` if it was sent already or the
    /// filters leave it out.
    fn send(&mut self, frame: &Frame) -> Option<SseEvent> {
        if frame.seq <= self.last {
            return None;
        }
        self.last = frame.seq;
        self.query.admits(frame).then(|| {
            let event = SseEvent::default()
                .id(frame.seq.to_string())
                .data(frame.json.as_str());
            match self.query.named {
                Some(false) => event,
                _ => event.event(frame.event_type.as_str()),
            }
        })
    }
}
