//! `observe serve`: a versioned live event stream (Server-Sent Events), a
//! JSON API, Prometheus metrics and a correlation-chain dashboard, all read
//! from an `observe` store.
//!
//! Mount [`router`] in your own axum application, or run [`serve`] with
//! [`ServeOptions`] (what `observe serve` does):
//!
//! ```no_run
//! use observe_serve::{ServeOptions, serve};
//!
//! # async fn run() -> Result<(), observe_serve::ServeError> {
//! let options = ServeOptions::new("sqlite://events.db".parse()?);
//! serve(options).await
//! # }
//! ```
#![deny(missing_docs)]

mod api;
mod auth;
mod dashboard;
mod error;
mod follower;
mod json;
mod metrics;
mod options;
mod priority;
mod server;
mod stream;

pub use error::ServeError;
pub use options::{DEFAULT_BIND, DEFAULT_STREAM_WINDOW, ServeOptions, TOKEN_ENV};
pub use priority::{DEFAULT_NICE, runtime};
pub use server::{AppState, StatsSource, router, serve, serve_on};
