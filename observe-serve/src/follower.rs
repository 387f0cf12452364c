//! The one task that follows the store by `seq` and keeps the newest
//! events in memory, encoded once as SSE records, for every stream client
//! to copy from (one poll and one encoding for all clients, not one per
//! client; a client that falls behind this window reads the store itself).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use observe_store::{EventStore, Store, StoredEvent};
use tokio::sync::watch;

use crate::metrics::Metrics;

/// Events read per store query.
pub(crate) const BATCH: usize = 1000;
/// The in-memory window holds at most this many bytes of SSE records (and
/// at most the configured number of events).
const WINDOW_BYTES: usize = 32 << 20;
/// The pause between polls when the store had nothing new.
const IDLE: Duration = Duration::from_millis(20);

/// One stored event, prepared once for every client.
#[derive(Debug)]
pub(crate) struct Frame {
    /// The store's sequence number (the SSE id).
    pub seq: i64,
    /// The event type's wire name (the SSE event field).
    pub event_type: String,
    /// For the filters.
    pub correlation_id: String,
    /// For the filters.
    pub processor: Option<String>,
    /// For the filters.
    pub outcome: Option<&'static str>,
    /// The whole SSE record: `id`, `event` and `data` lines and the blank
    /// line that ends it (the data is schema-versioned JSON, one line).
    record: Box<[u8]>,
    /// Where the `event:` line ends in `record` (it starts after `id:`).
    event_line: std::ops::Range<usize>,
}

impl Frame {
    /// Prepares `stored`; `None` if it does not serialize (not expected).
    pub(crate) fn new(stored: &StoredEvent) -> Option<Frame> {
        let event = &stored.event;
        let json = serde_json::to_string(event).ok()?;
        let event_type = event.event_type.as_str().to_owned();
        let id = format!("id: {}\n", stored.seq);
        let event_line = id.len()..id.len() + "event: \n".len() + event_type.len();
        let record = format!("{id}event: {event_type}\ndata: {json}\n\n");
        Some(Frame {
            seq: stored.seq,
            event_type,
            correlation_id: event.correlation_id.to_string(),
            processor: event.processor.as_deref().map(str::to_owned),
            outcome: event.outcome.map(|o| o.as_str()),
            record: record.into_bytes().into_boxed_slice(),
            event_line,
        })
    }

    /// Appends the SSE record to `out`, with or without its `event:` line
    /// (`named=false` lets a browser's `onmessage` see every type).
    pub(crate) fn write_to(&self, named: bool, out: &mut Vec<u8>) {
        if named {
            out.extend_from_slice(&self.record);
        } else {
            out.extend_from_slice(&self.record[..self.event_line.start]);
            out.extend_from_slice(&self.record[self.event_line.end..]);
        }
    }
}

/// The newest events, in `seq` order, with the promise that makes reading
/// from them exact: every event the follower read with a `seq` in
/// `(floor, head]` is in `frames`.
#[derive(Debug)]
struct Window {
    /// The most events kept.
    events: usize,
    frames: VecDeque<Arc<Frame>>,
    bytes: usize,
    floor: i64,
    head: i64,
}

/// What [`Follower::read`] found.
#[derive(Debug, PartialEq)]
pub(crate) enum Read {
    /// Copied what there was (maybe nothing the filters admit); the new
    /// position, and whether more is waiting (the copy was cut at `max`).
    Copied { last: i64, more: bool },
    /// Nothing newer than the position in memory yet.
    Current,
    /// The position is older than the window: read the store (the window
    /// holds everything after `floor`).
    Behind { floor: i64 },
}

/// The fan-out: the window, and a signal when it grows.
#[derive(Debug)]
pub(crate) struct Follower {
    window: RwLock<Window>,
    /// The head, changed after every batch (clients wait on it).
    head: watch::Sender<i64>,
    /// The head as a plain number, for [`Follower::head`].
    published: AtomicI64,
    /// Set once the follower has caught up with the store the first time.
    ready: watch::Sender<bool>,
}

impl Follower {
    /// A follower that has read nothing yet and keeps at most `events`
    /// (at least one) in memory.
    pub(crate) fn new(events: usize) -> Arc<Follower> {
        Arc::new(Follower {
            window: RwLock::new(Window {
                events: events.max(1),
                frames: VecDeque::new(),
                bytes: 0,
                floor: 0,
                head: 0,
            }),
            head: watch::Sender::new(0),
            published: AtomicI64::new(0),
            ready: watch::Sender::new(false),
        })
    }

    /// Wakes when the follower has read more.
    pub(crate) fn subscribe(&self) -> watch::Receiver<i64> {
        self.head.subscribe()
    }

    /// The last `seq` the follower read, once it has caught up with the
    /// store (so that "from now on" does not start at an old event).
    pub(crate) async fn head(&self) -> i64 {
        let mut ready = self.ready.subscribe();
        // An error means the follower is gone; the head is then as good as
        // it gets.
        let _ = ready.wait_for(|r| *r).await;
        self.published.load(Ordering::Acquire)
    }

    /// Appends to `out` the records after `last` that `admits` lets
    /// through, until `out` holds `max` bytes.
    pub(crate) fn read(
        &self,
        last: i64,
        admits: impl Fn(&Frame) -> bool,
        named: bool,
        out: &mut Vec<u8>,
        max: usize,
    ) -> Read {
        let window = self.window.read().unwrap_or_else(|p| p.into_inner());
        if last < window.floor {
            return Read::Behind {
                floor: window.floor,
            };
        }
        if last >= window.head {
            return Read::Current;
        }
        let from = window.frames.partition_point(|f| f.seq <= last);
        let mut at = last;
        for frame in window.frames.range(from..) {
            if out.len() >= max {
                return Read::Copied {
                    last: at,
                    more: true,
                };
            }
            if admits(frame) {
                frame.write_to(named, out);
            }
            at = frame.seq;
        }
        // Nothing else in (last, head] exists: the window holds it all.
        Read::Copied {
            last: window.head,
            more: false,
        }
    }

    /// Follows `store` until the process ends: reads what is new, counts it
    /// for `/metrics`, adds it to the window.
    pub(crate) async fn run(self: Arc<Follower>, store: Arc<Store>, metrics: Arc<Metrics>) {
        let mut seq = 0;
        loop {
            match store.after(seq, BATCH).await {
                Ok(tail) => {
                    let frames: Vec<Arc<Frame>> = tail
                        .events
                        .iter()
                        .inspect(|stored| metrics.count(&stored.event))
                        .filter_map(Frame::new)
                        .map(Arc::new)
                        .collect();
                    let more = tail.events.len() == BATCH || tail.next_seq > seq + BATCH as i64;
                    seq = tail.next_seq.max(seq);
                    self.publish(frames, seq);
                    if !more {
                        self.ready.send_replace(true);
                        tokio::time::sleep(IDLE).await;
                    }
                }
                Err(error) => {
                    eprintln!("observe serve: reading the store failed: {error}");
                    tokio::time::sleep(IDLE * 50).await;
                }
            }
        }
    }

    /// Adds `frames` (all the events up to `head`) to the window, drops the
    /// oldest beyond its bounds, and wakes the clients.
    fn publish(&self, frames: Vec<Arc<Frame>>, head: i64) {
        {
            let mut window = self.window.write().unwrap_or_else(|p| p.into_inner());
            for frame in frames {
                window.bytes += frame.record.len();
                window.frames.push_back(frame);
            }
            while window.frames.len() > window.events || window.bytes > WINDOW_BYTES {
                let Some(old) = window.frames.pop_front() else {
                    break;
                };
                window.bytes -= old.record.len();
                window.floor = old.seq;
            }
            if window.frames.is_empty() {
                window.floor = head;
            }
            window.head = head;
        }
        self.published.store(head, Ordering::Release);
        self.head
            .send_if_modified(|h| std::mem::replace(h, head) != head);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use observe_core::{CorrelationContext, Event, EventType};

    fn frame(seq: i64) -> Arc<Frame> {
        let event = Event::new(EventType::MessageReceived, &CorrelationContext::new_root());
        Arc::new(Frame::new(&StoredEvent { seq, event }).unwrap())
    }

    fn ids(out: &[u8]) -> Vec<i64> {
        String::from_utf8_lossy(out)
            .lines()
            .filter_map(|l| l.strip_prefix("id: ")?.parse().ok())
            .collect()
    }

    #[test]
    fn a_record_is_one_sse_event_with_or_without_its_name() {
        let f = frame(7);
        let mut named = Vec::new();
        f.write_to(true, &mut named);
        let named = String::from_utf8(named).unwrap();
        assert!(named.starts_with("id: 7\nevent: message_received\ndata: {"));
        assert!(named.ends_with("}\n\n") && named.matches('\n').count() == 4);
        let mut bare = Vec::new();
        f.write_to(false, &mut bare);
        assert_eq!(
            String::from_utf8(bare).unwrap(),
            named.replace("event: message_received\n", "")
        );
    }

    #[test]
    fn reads_are_exact_across_gaps_cuts_and_the_window_edge() {
        const WINDOW: usize = 1000;
        let follower = Follower::new(WINDOW);
        assert_eq!(
            follower.read(0, |_| true, true, &mut Vec::new(), 1),
            Read::Current
        );
        // Seqs 1..=10 with 4 missing (a row the reader skipped).
        let frames = (1..=10).filter(|&s| s != 4).map(frame).collect();
        follower.publish(frames, 10);
        let mut out = Vec::new();
        let read = follower.read(2, |f| f.seq != 6, true, &mut out, usize::MAX);
        assert_eq!(
            read,
            Read::Copied {
                last: 10,
                more: false
            }
        );
        assert_eq!(ids(&out), [3, 5, 7, 8, 9, 10]);
        // Cut at `max`: resumes where it stopped, nothing twice.
        let mut out = Vec::new();
        let Read::Copied { last, more: true } = follower.read(0, |_| true, true, &mut out, 1)
        else {
            panic!("cut after one record")
        };
        assert_eq!((last, ids(&out)), (1, vec![1]));
        assert_eq!(
            follower.read(10, |_| true, true, &mut out, 1),
            Read::Current
        );
        // Past the bounds the oldest go, and a position before them is
        // behind; from the floor on the window is exact again.
        let many: Vec<_> = (11..11 + WINDOW as i64).map(frame).collect();
        follower.publish(many, 10 + WINDOW as i64);
        let Read::Behind { floor } = follower.read(5, |_| true, true, &mut out, 1) else {
            panic!("behind the window")
        };
        assert!(floor >= 10, "{floor}");
        let mut out = Vec::new();
        let read = follower.read(floor, |_| true, true, &mut out, 1);
        assert!(matches!(read, Read::Copied { .. }), "{read:?}");
        assert_eq!(ids(&out), [floor + 1]);
    }
}
