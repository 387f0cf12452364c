//! Context isolation: concurrent requests, on tokio worker threads and on
//! plain OS threads, each see only their own correlation id, and nested and
//! spawned operations link to the right parent.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use observe::context::current;
use observe::{CorrelationContext, FutureExt};

/// What one operation saw: its request index and the context current in it.
type Seen = Arc<Mutex<Vec<(usize, CorrelationContext)>>>;

fn record(seen: &Seen, request: usize) -> CorrelationContext {
    let ctx = current().expect("a context is current inside a request");
    seen.lock().unwrap().push((request, ctx));
    ctx
}

/// Checks that every request has one correlation id of its own, that every
/// parent link points at a span of the same request, and that each request
/// forms one tree with a single root.
fn check_trees(seen: &Seen, requests: usize, spans_per_request: usize) {
    let seen = seen.lock().unwrap();
    let mut by_request: HashMap<usize, Vec<CorrelationContext>> = HashMap::new();
    for (request, ctx) in seen.iter() {
        by_request.entry(*request).or_default().push(*ctx);
    }
    assert_eq!(by_request.len(), requests);
    let mut correlation_ids = HashSet::new();
    for (request, spans) in &by_request {
        assert!(
            spans.len() >= spans_per_request,
            "request {request}: {} spans",
            spans.len()
        );
        let id = spans[0].correlation_id;
        assert!(
            correlation_ids.insert(id),
            "request {request} shares its correlation id"
        );
        assert!(
            spans.iter().all(|s| s.correlation_id == id),
            "request {request} mixes ids"
        );
        let span_ids: HashSet<_> = spans.iter().map(|s| s.span_id).collect();
        let roots = spans.iter().filter(|s| s.parent_span_id.is_none());
        assert_eq!(
            roots.map(|s| s.span_id).collect::<HashSet<_>>().len(),
            1,
            "request {request} has one root"
        );
        for span in spans {
            if let Some(parent) = span.parent_span_id {
                assert!(
                    span_ids.contains(&parent),
                    "request {request}: dangling parent"
                );
            }
        }
    }
}

async fn one_request(request: usize, seen: Seen) {
    let root = CorrelationContext::new_root();
    async {
        let at_root = record(&seen, request);
        tokio::task::yield_now().await;
        let child = at_root.child();
        async {
            record(&seen, request);
            tokio::time::sleep(Duration::from_micros((request % 7) as u64 * 50)).await;
            let ctx = record(&seen, request);
            assert_eq!(ctx, child, "the child span survives an await");
            let seen_in_task = seen.clone();
            let spawned = observe::spawn(async move {
                let inherited = record(&seen_in_task, request);
                assert_eq!(
                    inherited, child,
                    "a spawned task runs in its parent's context"
                );
                let grandchild = inherited.child();
                async {
                    tokio::task::yield_now().await;
                    record(&seen_in_task, request)
                }
                .with_context(grandchild)
                .await
            });
            let grandchild = spawned.await.expect("the spawned child finishes");
            assert_eq!(grandchild.parent_span_id, Some(child.span_id));
        }
        .with_context(child)
        .await;
        let back = record(&seen, request);
        assert_eq!(back, at_root, "the root is current again after the child");
    }
    .with_context(root)
    .await;
}

#[test]
fn a_thousand_concurrent_requests_on_a_multi_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let seen: Seen = Arc::default();
    runtime.block_on(async {
        let mut handles = Vec::new();
        for request in 0..1_000 {
            handles.push(tokio::spawn(one_request(request, seen.clone())));
            // Tasks without a context run beside them and must never see one.
            handles.push(tokio::spawn(async {
                for _ in 0..3 {
                    assert_eq!(current(), None, "a bare task sees no context");
                    tokio::task::yield_now().await;
                }
            }));
        }
        for handle in handles {
            handle.await.expect("no request task panicked");
        }
    });
    check_trees(&seen, 1_000, 6);
    assert_eq!(current(), None);
}

#[test]
fn a_thousand_requests_across_plain_threads() {
    const THREADS: usize = 16;
    const PER_THREAD: usize = 1_000 / THREADS + 1;
    let seen: Seen = Arc::default();
    let barrier = Arc::new(Barrier::new(THREADS));
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (seen, barrier) = (seen.clone(), barrier.clone());
            scope.spawn(move || {
                barrier.wait();
                for n in 0..PER_THREAD {
                    let request = thread * PER_THREAD + n;
                    let root = CorrelationContext::new_root();
                    root.in_scope(|| {
                        record(&seen, request);
                        let child = CorrelationContext::child_of_current();
                        child.in_scope(|| {
                            record(&seen, request);
                            std::thread::yield_now();
                            // A child thread gets the context handed over.
                            let handed = current().unwrap();
                            let seen = seen.clone();
                            std::thread::spawn(move || {
                                assert_eq!(current(), None, "a new thread starts empty");
                                handed.child().in_scope(|| record(&seen, request));
                            })
                            .join()
                            .unwrap();
                        });
                        assert_eq!(current(), Some(root));
                    });
                    assert_eq!(current(), None);
                }
            });
        }
    });
    check_trees(&seen, THREADS * PER_THREAD, 3);
}

#[test]
fn a_dropped_future_is_dropped_inside_its_context() {
    struct Probe(Arc<Mutex<Option<Option<CorrelationContext>>>>);
    impl Drop for Probe {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = Some(current());
        }
    }
    let slot = Arc::new(Mutex::new(None));
    let ctx = CorrelationContext::new_root();
    let probe = Probe(slot.clone());
    let future = async move {
        let _probe = probe;
        std::future::pending::<()>().await;
    }
    .with_context(ctx);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome =
        runtime.block_on(async { tokio::time::timeout(Duration::from_millis(1), future).await });
    assert!(
        outcome.is_err(),
        "the pending future timed out and was dropped"
    );
    assert_eq!(
        *slot.lock().unwrap(),
        Some(Some(ctx)),
        "dropped inside its context"
    );
    assert_eq!(current(), None, "and the context did not leak");
}

#[test]
fn in_current_context_captures_at_creation_not_at_poll() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let request = CorrelationContext::new_root();
    let future = request.in_scope(|| async { current() }.in_current_context());
    assert_eq!(future.context(), Some(&request));
    let other = CorrelationContext::new_root();
    let seen = other.in_scope(|| runtime.block_on(future));
    assert_eq!(seen, Some(request));
    // A plain tokio::spawn does not inherit: it starts with no context.
    let bare =
        runtime.block_on(async { tokio::spawn(async { current() }).await }.with_context(request));
    assert_eq!(bare.unwrap(), None);
}
