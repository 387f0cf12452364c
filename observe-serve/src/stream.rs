//! `GET /api/v1/stream`: the live events as Server-Sent Events, copied
//! from the follower's window of recent events (encoded once for all
//! clients), or read from the store after `Last-Event-ID` or a lag.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use observe_store::EventStore;
use serde::Deserialize;
use tokio::sync::watch;

use crate::follower::{BATCH, Frame, Read};
use crate::json::version_error;
use crate::server::AppState;

/// Bytes of SSE records sent to a client in one chunk, at most (a client
/// that keeps up gets what is new in one write, not one write per event).
const CHUNK: usize = 64 << 10;
/// A comment line this often on a quiet stream, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

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

/// One client's position: what it has been sent, and how to wait.
struct Client {
    state: AppState,
    query: StreamQuery,
    /// Changes when the follower has read more.
    head: watch::Receiver<i64>,
    /// The last `seq` sent (or skipped by the filters).
    last: i64,
    /// Has been up to date once, so falling behind the window is news to
    /// tell it (a client resuming from an old `Last-Event-ID` is not told).
    live: bool,
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
/// the follower read or the store holds, whichever is later. The follower
/// polls, so events written just before the client connected may be in
/// the store and not yet read; they are not "from now on".
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
    let head = state.follower.subscribe();
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
        head,
        last,
        live: false,
    };
    let chunks = stream::unfold(client, |mut client| async move {
        let chunk = client.next().await?;
        Some((Ok::<_, Infallible>(chunk), client))
    });
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        Body::from_stream(chunks),
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

impl Client {
    /// The next chunk of SSE text; `None` ends the stream.
    async fn next(&mut self) -> Option<Bytes> {
        let named = self.query.named != Some(false);
        let mut out = Vec::new();
        loop {
            self.head.borrow_and_update();
            let query = &self.query;
            match self
                .state
                .follower
                .read(self.last, |f| query.admits(f), named, &mut out, CHUNK)
            {
                Read::Copied { last, .. } => {
                    self.last = last;
                    if !out.is_empty() {
                        return Some(out.into());
                    }
                }
                Read::Behind { floor } => {
                    if std::mem::take(&mut self.live) {
                        // Fell out of the window: say so, then read what it
                        // missed from the store.
                        let notice =
                            format!("event: lagged\ndata: {{\"resync_from\":{}}}\n\n", self.last);
                        return Some(notice.into());
                    }
                    self.fill(floor, named, &mut out).await?;
                    if !out.is_empty() {
                        return Some(out.into());
                    }
                }
                Read::Current => {
                    self.live = true;
                    match tokio::time::timeout(KEEP_ALIVE, self.head.changed()).await {
                        Ok(Ok(())) => {}
                        // The follower is gone: so is the stream.
                        Ok(Err(_)) => return None,
                        Err(_) => return Some(Bytes::from_static(b":keep-alive\n\n")),
                    }
                }
            }
        }
    }

    /// Reads the next batch after `last` from the store into `out`;
    /// `None` on an error (the stream ends, the client resumes with its
    /// `Last-Event-ID`). If the store has nothing after `last` though the
    /// window starts later (deleted by retention meanwhile), the client
    /// moves on to the window's `floor`.
    async fn fill(&mut self, floor: i64, named: bool, out: &mut Vec<u8>) -> Option<()> {
        let tail = match self.state.store.after(self.last, BATCH).await {
            Ok(tail) => tail,
            Err(error) => {
                eprintln!("observe serve: replaying the store failed: {error}");
                return None;
            }
        };
        for stored in &tail.events {
            if let Some(frame) = Frame::new(stored)
                && self.query.admits(&frame)
            {
                frame.write_to(named, out);
            }
        }
        let read = tail
            .events
            .last()
            .map_or(tail.next_seq, |e| e.seq.max(tail.next_seq));
        self.last = if read > self.last { read } else { floor };
        Some(())
    }
}
