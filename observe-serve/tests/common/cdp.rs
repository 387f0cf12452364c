//! A small Chrome DevTools Protocol client for the browser tests: a headless
//! `chromium` spoken to over `--remote-debugging-pipe` (JSON messages ended
//! by a NUL byte; the browser reads fd 3 and writes fd 4), so the tests need
//! no WebSocket or browser-automation crate.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The browser binary, or why the tests cannot run.
pub fn find_chromium() -> Result<PathBuf, String> {
    let names = ["chromium", "chromium-browser"];
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(format!(
        "no `chromium` on PATH ({}): the dashboard tests drive a real headless browser; \
         install it with `apt-get install -y chromium` \
         (or set OBSERVE_SKIP_BROWSER=1 to skip them)",
        names.join(", ")
    ))
}

/// A running headless chromium and its protocol pipe. Dropping it kills
/// the browser (also when a test panics) and removes its profile.
pub struct Browser {
    child: Child,
    to_browser: std::io::PipeWriter,
    from_browser: Receiver<Value>,
    /// Events (messages without an `id`) read while waiting for replies.
    events: VecDeque<Value>,
    next_id: u64,
    profile: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// A page (a target attached in flat mode) of a [`Browser`].
pub struct Page {
    pub session: String,
}

impl Browser {
    /// Starts `binary` headless with a fresh profile under `scratch`.
    pub fn launch(binary: &Path, scratch: &Path) -> Browser {
        let profile = scratch.join("chromium-profile");
        std::fs::create_dir_all(&profile).unwrap();
        // What the browser reads (fd 3) and what it writes (fd 4).
        let (browser_reads, to_browser) = std::io::pipe().unwrap();
        let (from_browser, browser_writes) = std::io::pipe().unwrap();
        let (read_fd, write_fd) = (browser_reads.as_raw_fd(), browser_writes.as_raw_fd());
        let mut command = Command::new(binary);
        command
            .args([
                "--headless=new",
                "--no-sandbox",
                "--remote-debugging-pipe",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--hide-scrollbars",
                "--mute-audio",
                "--window-size=1280,800",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: the closure runs in the forked child before exec and only
        // calls async-signal-safe functions (fcntl, dup2, close) on file
        // descriptors that are open in the child.
        unsafe {
            command.pre_exec(move || place_pipe_fds(read_fd, write_fd));
        }
        let child = command.spawn().expect("start chromium");
        // The child has its copies; the parent keeps only its own ends.
        drop(browser_reads);
        drop(browser_writes);
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(from_browser);
            let mut message = Vec::new();
            loop {
                message.clear();
                match reader.read_until(0, &mut message) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if message.last() == Some(&0) {
                    message.pop();
                }
                let Ok(value) = serde_json::from_slice::<Value>(&message) else {
                    continue;
                };
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        Browser {
            child,
            to_browser,
            from_browser: rx,
            events: VecDeque::new(),
            next_id: 0,
            profile,
        }
    }

    /// Sends `method` (to `session`, or the browser itself) and waits for
    /// its reply: the `result`, or the protocol's `error` as text.
    pub fn call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.to_browser
            .write_all(&bytes)
            .map_err(|e| format!("{method}: writing to chromium: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let reply = match self.from_browser.recv_timeout(left) {
                Ok(reply) => reply,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!("{method}: no reply in 30 s"));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(format!("{method}: chromium closed its pipe"));
                }
            };
            if reply["id"].as_u64() != Some(id) {
                if reply.get("method").is_some() {
                    self.events.push_back(reply);
                }
                continue;
            }
            if let Some(error) = reply.get("error") {
                return Err(format!("{method}: {error}"));
            }
            return Ok(reply["result"].clone());
        }
    }

    /// Like [`Browser::call`], panicking on a protocol error.
    pub fn send(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.call(session, method, params).unwrap()
    }

    /// The events received so far named `method`, taken out of the queue.
    pub fn take_events(&mut self, method: &str) -> Vec<Value> {
        while let Ok(message) = self.from_browser.try_recv() {
            if message.get("method").is_some() {
                self.events.push_back(message);
            }
        }
        let (wanted, rest) = self.events.drain(..).partition(|e| e["method"] == method);
        self.events = rest;
        wanted.into()
    }

    /// Opens a new tab and attaches to it; `before_load` runs in every
    /// document of that tab before its own scripts.
    pub fn open_page(&mut self, before_load: &str) -> Page {
        let target = self.send(None, "Target.createTarget", json!({ "url": "about:blank" }));
        let target_id = target["targetId"].as_str().unwrap().to_owned();
        let attached = self.send(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
        );
        let page = Page {
            session: attached["sessionId"].as_str().unwrap().to_owned(),
        };
        let session = Some(page.session.as_str());
        self.send(session, "Page.enable", json!({}));
        self.send(session, "Runtime.enable", json!({}));
        self.send(
            session,
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": before_load }),
        );
        self.send(
            session,
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": false }),
        );
        page
    }

    /// Navigates `page` to `url` and waits for its `load` event.
    pub fn navigate(&mut self, page: &Page, url: &str) {
        let session = Some(page.session.as_str());
        let result = self.send(session, "Page.navigate", json!({ "url": url }));
        assert!(
            result.get("errorText").is_none(),
            "navigating to {url}: {result}"
        );
        self.wait_for(
            page,
            "document.readyState === 'complete'",
            Duration::from_secs(10),
        )
        .unwrap_or_else(|e| panic!("{url} did not load: {e}"));
    }

    /// Evaluates `expression` in `page` (awaiting a promise) and returns
    /// its value; a thrown exception is an error.
    pub fn eval(&mut self, page: &Page, expression: &str) -> Result<Value, String> {
        let result = self.call(
            Some(&page.session),
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        )?;
        if let Some(details) = result.get("exceptionDetails") {
            return Err(format!("`{expression}` threw: {details}"));
        }
        Ok(result["result"]["value"].clone())
    }

    /// Polls `condition` every 25 ms until it is truthy; the time it took.
    pub fn wait_for(
        &mut self,
        page: &Page,
        condition: &str,
        timeout: Duration,
    ) -> Result<Duration, String> {
        let start = Instant::now();
        loop {
            let value = self.eval(page, &format!("!!({condition})"))?;
            if value == Value::Bool(true) {
                return Ok(start.elapsed());
            }
            if start.elapsed() > timeout {
                return Err(format!("`{condition}` still false after {timeout:?}"));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// A real mouse click at the centre of the first element matching
    /// `selector` (scrolled into view first).
    pub fn click(&mut self, page: &Page, selector: &str) {
        let selector_js = serde_json::to_string(selector).unwrap();
        let centre = self
            .eval(
                page,
                &format!(
                    "(() => {{ const e = document.querySelector({selector_js}); \
                     if (!e) return null; e.scrollIntoView({{block: 'center'}}); \
                     const r = e.getBoundingClientRect(); \
                     return [r.left + r.width / 2, r.top + r.height / 2]; }})()"
                ),
            )
            .unwrap();
        let (x, y) = match centre.as_array() {
            Some(xy) => (xy[0].as_f64().unwrap(), xy[1].as_f64().unwrap()),
            None => panic!("nothing matches `{selector}` to click"),
        };
        let session = Some(page.session.as_str());
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.send(
                session,
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            );
        }
    }

    /// A PNG of what `page` shows.
    pub fn screenshot(&mut self, page: &Page) -> Vec<u8> {
        let shot = self.send(
            Some(&page.session),
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": true }),
        );
        decode_base64(shot["data"].as_str().unwrap()).unwrap()
    }
}

/// In the child: the browser's read end on fd 3, its write end on fd 4,
/// whatever numbers the pipes were given (either may already be 3 or 4).
fn place_pipe_fds(read_fd: RawFd, write_fd: RawFd) -> std::io::Result<()> {
    let check = |r: libc::c_int| {
        if r < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(r)
        }
    };
    // SAFETY: plain descriptor calls on descriptors open in this process.
    unsafe {
        // Copies above 10 first, so that placing one cannot close the other.
        let read_copy = check(libc::fcntl(read_fd, libc::F_DUPFD, 10))?;
        let write_copy = check(libc::fcntl(write_fd, libc::F_DUPFD, 10))?;
        // dup2 clears close-on-exec on the new descriptor.
        check(libc::dup2(read_copy, 3))?;
        check(libc::dup2(write_copy, 4))?;
        libc::close(read_copy);
        libc::close(write_copy);
    }
    Ok(())
}

/// Standard base64 (with padding) to bytes.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let value = |c: u8| -> Result<u32, String> {
        Ok(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("not base64: {:?}", c as char)),
        } as u32)
    };
    let bytes: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let data: Vec<u8> = chunk.iter().copied().take_while(|&c| c != b'=').collect();
        let mut n = 0u32;
        for &c in &data {
            n = n << 6 | value(c)?;
        }
        n <<= 6 * (4 - data.len() as u32);
        let produced = (data.len() * 6) / 8;
        out.extend_from_slice(&n.to_be_bytes()[1..1 + produced]);
    }
    Ok(out)
}

#[test]
fn base64_decodes_what_it_should() {
    assert_eq!(decode_base64("").unwrap(), b"");
    assert_eq!(decode_base64("Zg==").unwrap(), b"f");
    assert_eq!(decode_base64("Zm8=").unwrap(), b"fo");
    assert_eq!(decode_base64("Zm9v").unwrap(), b"foo");
    assert_eq!(decode_base64("Zm9vYmFy").unwrap(), b"foobar");
    assert_eq!(decode_base64("iVBORw0KGgo=").unwrap(), b"\x89PNG\r\n\x1a\n");
    assert!(decode_base64("Zm9v!").is_err());
}
