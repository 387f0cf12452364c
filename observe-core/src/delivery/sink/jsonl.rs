//! [`JsonlSink`]: appends events to a file, one JSON object per line.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::files::{self, Access};
use super::{Sink, SinkError, write_json_lines};
use crate::Event;

/// Appends each event to a file as one line of JSON.
///
/// The file and its missing parent directories are created by
/// [`open`](JsonlSink::open), which fails with a message naming the path if
/// that is not possible, so a bad path is found at start-up, not at the first
/// write. Each batch is written with one `write_all` and flushed. The file
/// and the directories it creates are owner-only (0600 / 0700) unless
/// [`open_with`](JsonlSink::open_with) says otherwise; an existing file keeps
/// its permissions.
///
/// ```
/// use observe::sink::JsonlSink;
///
/// let dir = std::env::temp_dir().join(format!("observe-doc-{}", std::process::id()));
/// let sink = JsonlSink::open(dir.join("logs/events.jsonl")).unwrap();
/// assert!(sink.path().exists());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug)]
pub struct JsonlSink {
    path: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    file: File,
    buffer: Vec<u8>,
}

impl JsonlSink {
    /// Opens `path` for appending, creating it and its directories
    /// owner-only.
    pub fn open(path: impl AsRef<Path>) -> Result<JsonlSink, SinkError> {
        JsonlSink::open_with(path, Access::OwnerOnly)
    }

    /// Opens `path` for appending, creating it and its directories with
    /// `access`.
    pub fn open_with(path: impl AsRef<Path>, access: Access) -> Result<JsonlSink, SinkError> {
        let path = path.as_ref().to_path_buf();
        let context = |action: &str, e: std::io::Error| SinkError {
            message: format!("cannot {action} event log `{}`: {e}", path.display()),
            source: Some(e),
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            files::create_dirs(parent, access)
                .map_err(|e| context("create the directory of", e))?;
        }
        let file = files::create_file(&path, access).map_err(|e| context("open", e))?;
        Ok(JsonlSink {
            path,
            state: Mutex::new(State {
                file,
                buffer: Vec::with_capacity(64 * 1024),
            }),
        })
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Sink for JsonlSink {
    async fn write_batch(&self, batch: &[Event]) -> Result<(), SinkError> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| SinkError::new("event log lock poisoned by an earlier panic"))?;
        let State { file, buffer } = &mut *state;
        buffer.clear();
        write_json_lines(buffer, batch)?;
        file.write_all(buffer)?;
        file.flush()?;
        Ok(())
    }
}
