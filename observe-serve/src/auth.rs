//! The bearer token: checked on every route but `/metrics`.
//!
//! A browser's `EventSource` cannot set headers, so the dashboard cannot
//! send `Authorization` on the stream. Instead `/login?token=…` checks the
//! token once and sets it as an `HttpOnly`, `SameSite=Strict` cookie that
//! the browser then sends on every request, the stream included. A cookie
//! rather than a query parameter, so the token never lands in access logs
//! or the browser history; `SameSite=Strict`, so other sites cannot ride on
//! it; and every route only reads (GET), so there is nothing to forge.

use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::server::AppState;

/// The cookie's name.
const COOKIE: &str = "observe_token";

/// Lets the request through if it carries the token (or none is set).
pub(crate) async fn require(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = state.token.as_deref() else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    if path == "/metrics" || path == "/login" || presented(&request).is_some_and(|t| same(t, token))
    {
        return next.run(request).await;
    }
    if path == "/" {
        return (StatusCode::UNAUTHORIZED, Html(crate::dashboard::LOGIN)).into_response();
    }
    crate::json::error(StatusCode::UNAUTHORIZED, "a bearer token is required")
}

/// The token from `Authorization: Bearer` or the cookie.
fn presented(request: &Request) -> Option<&str> {
    let headers = request.headers();
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

/// Compares in time independent of where the first difference is.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// `/login`'s query.
#[derive(Debug, Deserialize)]
pub(crate) struct Login {
    token: String,
}

/// `GET /login?token=…`: sets the cookie and goes to the dashboard.
pub(crate) async fn login(State(state): State<AppState>, Query(login): Query<Login>) -> Response {
    match state.token.as_deref() {
        Some(token) if !same(&login.token, token) => {
            (StatusCode::UNAUTHORIZED, Html(crate::dashboard::LOGIN)).into_response()
        }
        _ => {
            let cookie = format!(
                "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
                login.token
            );
            ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
        }
    }
}
