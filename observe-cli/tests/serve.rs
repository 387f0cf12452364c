//! `observe serve`: the server of observe-serve behind the command line.
//! It serves the store's API on the address given, asks for the token when
//! one is set, refuses a public address without one, and stops cleanly on
//! Ctrl-C (SIGINT).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// `GET path` over a fresh connection: the status and the body.
fn get(port: u16, path: &str, token: Option<&str>) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    let auth = token.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n{auth}connection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    Ok((status, body))
}

fn spawn_serve(store: &str, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_observe"))
        .args(["--store", store, "serve"])
        .args(args)
        .env_remove("OBSERVE_STORE")
        .env_remove("OBSERVE_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The first answer once the server listens.
fn first_answer(port: u16, path: &str, token: Option<&str>) -> (u16, String) {
    let started = Instant::now();
    loop {
        match get(port, path, token) {
            Ok(answer) => return answer,
            Err(e) if started.elapsed() < Duration::from_secs(20) => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("observe serve never answered on {port}: {e}"),
        }
    }
}

#[test]
fn serves_the_store_and_stops_on_sigint() {
    let (_dir, store) = imported_store("serve");
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let child = spawn_serve(&store, &["--bind", &bind]);
    let (status, body) = first_answer(port, "/api/v1/traces", None);
    assert_eq!(status, 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["correlation_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [ODD, FAILED, OK], "newest first");
    let (status, html) = get(port, "/", None).unwrap();
    assert_eq!(status, 200);
    assert!(html.contains("<html"), "the dashboard: {html}");

    let (status, stderr) = interrupt(child);
    assert!(status.success(), "exit {status:?}: {stderr}");
    assert!(stderr.contains(&format!("http://{bind}")), "{stderr}");
}

#[test]
fn a_token_guards_every_route_but_metrics() {
    let (_dir, store) = imported_store("serve-token");
    let port = free_port();
    let child = spawn_serve(
        &store,
        &["--bind", &format!("127.0.0.1:{port}"), "--token", "s3cret"],
    );
    let (status, _) = first_answer(port, "/api/v1/traces", None);
    assert_eq!(status, 401);
    assert_eq!(get(port, "/api/v1/traces", Some("wrong")).unwrap().0, 401);
    assert_eq!(get(port, "/api/v1/traces", Some("s3cret")).unwrap().0, 200);
    assert_eq!(get(port, "/metrics", None).unwrap().0, 200);
    let (status, stderr) = interrupt(child);
    assert!(status.success(), "exit {status:?}: {stderr}");
}

#[test]
fn a_public_address_without_a_token_is_refused() {
    let (_dir, store) = imported_store("serve-public");
    let (_, stderr) = one_line_error(&store, &["serve", "--bind", "0.0.0.0:0"], 2);
    assert!(
        stderr.contains("refusing to bind 0.0.0.0:0 without a token"),
        "{stderr}"
    );
    assert!(stderr.contains("--token"), "{stderr}");
}

#[test]
fn a_missing_store_stops_it_at_once() {
    let dir = temp_dir("serve-missing");
    let store = format!("sqlite://{}", dir.join("none.db").display());
    let out = observe(
        &store,
        &["serve", "--bind", &format!("127.0.0.1:{}", free_port())],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("none.db"), "{stderr}");
}
