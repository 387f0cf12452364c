//! How a request ends decides `response_sent`'s outcome: the layer around
//! hand-written services that answer 5xx, return an error, never finish
//! (their future is dropped) or panic (in their future or in `call`). Each request still gets exactly one
//! `response_sent`. Without a pipeline the layer still sets the context and
//! the headers.
#![cfg(feature = "http")]

mod common;

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use common::serial;
use observe::http::{CorrelationLayer, CorrelationService};
use observe::sink::MemorySink;
use observe::{Config, Event, EventType, FlushOutcome, Outcome, context};

/// What the inner service does.
#[derive(Clone, Copy)]
enum Behaviour {
    Status(u16),
    Fail,
    Pending,
    Panic,
    PanicInCall,
}

#[derive(Clone, Copy)]
struct Inner(Behaviour);

type BoxFuture = Pin<Box<dyn Future<Output = Result<http::Response<()>, &'static str>> + Send>>;

impl tower_service::Service<http::Request<()>> for Inner {
    type Response = http::Response<()>;
    type Error = &'static str;
    type Future = BoxFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<()>) -> BoxFuture {
        let behaviour = self.0;
        assert!(context::current().is_some(), "call runs in the context too");
        if let Behaviour::PanicInCall = behaviour {
            panic!("the service broke before returning a future");
        }
        Box::pin(async move {
            assert!(
                context::current().is_some(),
                "runs in the request's context"
            );
            match behaviour {
                Behaviour::Status(code) => {
                    let mut response = http::Response::new(());
                    *response.status_mut() = http::StatusCode::from_u16(code).unwrap();
                    Ok(response)
                }
                Behaviour::Fail => Err("backend unreachable"),
                Behaviour::Pending => std::future::pending().await,
                Behaviour::Panic | Behaviour::PanicInCall => panic!("handler exploded"),
            }
        })
    }
}

fn with_pipeline(test: impl FnOnce() -> Vec<uuid::Uuid>) -> Vec<Vec<Event>> {
    let _serial = serial();
    let sink = MemorySink::new();
    let guard = observe::init(Config::default().sink(sink.clone())).unwrap();
    let ids = test();
    assert_eq!(
        observe::flush(Duration::from_secs(30)),
        FlushOutcome::Flushed
    );
    drop(guard);
    let events = sink.events();
    ids.into_iter()
        .map(|id| {
            events
                .iter()
                .filter(|e| e.correlation_id == id)
                .cloned()
                .collect()
        })
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn request() -> (http::Request<()>, uuid::Uuid) {
    let id = observe::CorrelationContext::new_root().correlation_id;
    let request = http::Request::builder()
        .header("x-correlation-id", id.to_string())
        .body(())
        .unwrap();
    (request, id)
}

fn sent(chain: &[Event]) -> &Event {
    let types: Vec<EventType> = chain.iter().map(|e| e.event_type).collect();
    assert_eq!(
        types,
        [EventType::MessageReceived, EventType::ResponseSent],
        "{chain:?}"
    );
    assert!(chain[1].duration_us.is_some());
    &chain[1]
}

#[test]
fn statuses_set_the_outcome() {
    let chains = with_pipeline(|| {
        runtime().block_on(async {
            let mut ids = Vec::new();
            for code in [200, 404, 503] {
                let mut service = CorrelationService::new(Inner(Behaviour::Status(code)));
                let (request, id) = request();
                let response = tower_service::Service::call(&mut service, request)
                    .await
                    .unwrap();
                assert_eq!(response.status(), code);
                assert_eq!(response.headers()["x-correlation-id"], id.to_string());
                ids.push(id);
            }
            ids
        })
    });
    let outcomes: Vec<_> = chains
        .iter()
        .map(|c| (sent(c).payload["status"].clone(), sent(c).outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            (200.into(), Some(Outcome::Ok)),
            (404.into(), Some(Outcome::Ok)),
            (503.into(), Some(Outcome::Error))
        ]
    );
}

#[test]
fn a_service_error_is_passed_on_and_recorded() {
    let chains = with_pipeline(|| {
        runtime().block_on(async {
            let mut service = CorrelationService::new(Inner(Behaviour::Fail));
            let (request, id) = request();
            let result = tower_service::Service::call(&mut service, request).await;
            assert_eq!(result.unwrap_err(), "backend unreachable");
            vec![id]
        })
    });
    let sent = sent(&chains[0]);
    assert_eq!(sent.outcome, Some(Outcome::Error));
    assert_eq!(sent.payload["service_error"], true);
}

#[test]
fn a_dropped_future_is_recorded_as_cancelled() {
    let chains = with_pipeline(|| {
        runtime().block_on(async {
            let mut service = CorrelationService::new(Inner(Behaviour::Pending));
            let (request, id) = request();
            let mut future = Box::pin(tower_service::Service::call(&mut service, request));
            // Polled once (the handler started), then dropped: the client
            // went away or a timeout fired.
            let polled = poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx).is_pending())).await;
            assert!(polled);
            drop(future);
            vec![id]
        })
    });
    let sent = sent(&chains[0]);
    assert_eq!(sent.outcome, Some(Outcome::Cancelled));
    assert!(sent.payload.get("status").is_none());
}

#[test]
fn a_panicking_handler_is_recorded_as_panic() {
    let chains = with_pipeline(|| {
        runtime().block_on(async {
            let mut service = CorrelationService::new(Inner(Behaviour::Panic));
            let (request, id) = request();
            let future = tower_service::Service::call(&mut service, request);
            let joined = tokio::spawn(future).await;
            assert!(joined.unwrap_err().is_panic());
            vec![id]
        })
    });
    assert_eq!(sent(&chains[0]).outcome, Some(Outcome::Panic));
}

#[test]
fn a_service_whose_call_panics_is_recorded_as_panic() {
    let chains = with_pipeline(|| {
        let mut service = CorrelationService::new(Inner(Behaviour::PanicInCall));
        let (request, id) = request();
        let called = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            tower_service::Service::call(&mut service, request)
        }));
        assert!(called.is_err());
        assert_eq!(context::current(), None, "the context was left on unwind");
        vec![id]
    });
    assert_eq!(sent(&chains[0]).outcome, Some(Outcome::Panic));
}

#[test]
fn without_a_pipeline_the_layer_still_sets_context_and_headers() {
    let _serial = serial();
    assert!(!observe::record::enabled());
    let layer = CorrelationLayer::new();
    let mut service: CorrelationService<Inner> =
        tower_layer::Layer::layer(&layer, Inner(Behaviour::Status(201)));
    let (request, id) = request();
    let response = runtime()
        .block_on(tower_service::Service::call(&mut service, request))
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-correlation-id"], id.to_string());
}

#[test]
fn a_request_under_way_when_the_pipeline_is_installed_emits_no_lone_response_sent() {
    let _serial = serial();
    assert!(!observe::record::enabled());
    let mut service = CorrelationService::new(Inner(Behaviour::Status(200)));
    // The request arrives (its `call` runs) while no pipeline is installed.
    let (early, early_id) = request();
    let early = tower_service::Service::call(&mut service, early);

    let sink = MemorySink::new();
    let guard = observe::init(Config::default().sink(sink.clone())).unwrap();
    let (late, late_id) = request();
    let late = tower_service::Service::call(&mut service, late);
    runtime().block_on(async {
        assert_eq!(early.await.unwrap().status(), 200);
        assert_eq!(late.await.unwrap().status(), 200);
    });
    assert_eq!(
        observe::flush(Duration::from_secs(30)),
        FlushOutcome::Flushed
    );
    drop(guard);

    let events = sink.events();
    assert!(
        events.iter().all(|e| e.correlation_id != early_id),
        "the request that started before init emitted nothing: {events:?}"
    );
    let late: Vec<Event> = events
        .into_iter()
        .filter(|e| e.correlation_id == late_id)
        .collect();
    assert_eq!(sent(&late).outcome, Some(Outcome::Ok));
}
