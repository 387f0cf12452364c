//! Shared by the export tests: a real HTTP receiver (axum on 127.0.0.1,
//! port 0, on its own runtime thread) that records every request it gets
//! (gunzipped) and answers as the test scripts it, and decoders for what
//! it got: OTLP protobuf, OTLP JSON and Zipkin JSON.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// How the receiver answers one request.
#[derive(Clone, Debug)]
pub enum Answer {
    /// This status (and body), with `Retry-After` seconds if given.
    Status {
        status: u16,
        retry_after: Option<u64>,
        body: Vec<u8>,
    },
    /// Never answers.
    Hang,
    /// Sleeps, then answers 200.
    Slow(Duration),
}

impl Answer {
    pub fn ok() -> Answer {
        Answer::status(200)
    }

    pub fn status(status: u16) -> Answer {
        Answer::Status {
            status,
            retry_after: None,
            body: Vec::new(),
        }
    }
}

/// One request as received.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub content_type: String,
    pub gzipped: bool,
    /// The body, gunzipped.
    pub body: Vec<u8>,
    /// The status it was answered with (0: never answered).
    pub answered: u16,
}

#[derive(Default)]
struct Script {
    /// Answers for the next requests, in order.
    next: VecDeque<Answer>,
    /// The answer once `next` is used up.
    then: Option<Answer>,
    received: Vec<Received>,
}

/// A receiver listening on 127.0.0.1.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    /// Starts a receiver that answers `then` to every request after the
    /// scripted `first` ones.
    pub fn start(first: Vec<Answer>, then: Answer) -> Receiver {
        let script = Arc::new(Mutex::new(Script {
            next: first.into(),
            then: Some(then),
            received: Vec::new(),
        }));
        let app = Router::new()
            .route("/v1/traces", post(receive))
            .route("/api/v2/spans", post(receive))
            .with_state(script.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        let addr = rx.recv().unwrap();
        Receiver { addr, script }
    }

    /// A receiver that accepts everything.
    pub fn accepting() -> Receiver {
        Receiver::start(Vec::new(), Answer::ok())
    }

    /// `http://127.0.0.1:port`
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// The requests answered with 2xx.
    pub fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| (200..300).contains(&r.answered))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn receive(
    State(script): State<Arc<Mutex<Script>>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let gzipped = headers
        .get("content-encoding")
        .is_some_and(|v| v.as_bytes() == b"gzip");
    let body = if gzipped {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        body.to_vec()
    };
    let answer = {
        let mut s = script.lock().unwrap_or_else(PoisonError::into_inner);
        let answer = s.next.pop_front().or_else(|| s.then.clone()).unwrap();
        let answered = match &answer {
            Answer::Status { status, .. } => *status,
            Answer::Hang => 0,
            Answer::Slow(_) => 200,
        };
        s.received.push(Received {
            path: uri.path().to_owned(),
            content_type: headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            gzipped,
            body,
            answered,
        });
        answer
    };
    match answer {
        Answer::Status {
            status,
            retry_after,
            body,
        } => {
            let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", seconds.to_string().parse().unwrap());
            }
            response
        }
        Answer::Hang => std::future::pending().await,
        Answer::Slow(pause) => {
            tokio::time::sleep(pause).await;
            StatusCode::OK.into_response()
        }
    }
}

/// The spans of OTLP protobuf requests.
pub fn protobuf_spans(requests: &[Received]) -> Vec<Span> {
    requests
        .iter()
        .flat_map(|r| {
            let request = ExportTraceServiceRequest::decode(&r.body[..]).unwrap();
            request
                .resource_spans
                .into_iter()
                .flat_map(|rs| rs.scope_spans)
                .flat_map(|ss| ss.spans)
        })
        .collect()
}

/// The spans of OTLP JSON requests, as plain JSON.
pub fn json_spans(requests: &[Received]) -> Vec<serde_json::Value> {
    let mut spans = Vec::new();
    for request in requests {
        let json: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        for rs in json["resourceSpans"].as_array().unwrap() {
            for ss in rs["scopeSpans"].as_array().unwrap() {
                spans.extend(ss["spans"].as_array().unwrap().iter().cloned());
            }
        }
    }
    spans
}

/// The spans of Zipkin requests.
pub fn zipkin_spans(requests: &[Received]) -> Vec<serde_json::Value> {
    requests
        .iter()
        .flat_map(|r| {
            let json: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            json.as_array().unwrap().clone()
        })
        .collect()
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A loopback port with nothing listening on it (bound, then released).
pub fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr
}
