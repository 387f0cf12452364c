//! `observe import FILE.jsonl`: loads a JSONL file into the store. Loading
//! twice is harmless (a stored `event_id` is skipped); events of an unknown
//! type are skipped and counted; a corrupt line is reported with its line
//! number and the rest is imported. Progress is shown on a terminal.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::Path;

use observe::Event;
use observe::reader::{ReadError, TypeLookup, read_event_with};
use observe::sink::Sink;
use observe::store::{StoreSink, StoreUrl};
use serde_json::json;

use crate::args::Globals;
use crate::error::CliError;

/// Events per write.
const BATCH: usize = 1_000;
/// Lines between two progress updates.
const PROGRESS_EVERY: u64 = 50_000;

/// What an import read.
#[derive(Debug, Default)]
struct Report {
    lines: u64,
    events: u64,
    unknown: BTreeMap<String, u64>,
    corrupt: Vec<(u64, String)>,
}

/// Imports `file` into the store.
pub async fn exec(globals: &Globals, file: &Path) -> Result<(), CliError> {
    if matches!(globals.store, StoreUrl::Jsonl(_)) {
        return Err(CliError::usage(format!(
            "the store `{}` is a JSONL file: import into sqlite://PATH or postgres://... (--store)",
            globals.store
        )));
    }
    let input = File::open(file).map_err(|e| {
        CliError::failed(format!(
            "cannot read `{}`: {e}; check the path",
            file.display()
        ))
    })?;
    let sink = StoreSink::open(&globals.store)?;
    let report = load(BufReader::new(input), &sink, globals.types).await?;
    print(globals, file, &report)?;
    match report.corrupt.len() {
        0 => Ok(()),
        n => Err(CliError::failed(format!(
            "{n} corrupt line(s) in `{}` were not imported (the other events were); fix or remove them and import again",
            file.display()
        ))),
    }
}

async fn load(
    mut input: impl BufRead,
    sink: &StoreSink,
    types: TypeLookup,
) -> Result<Report, CliError> {
    let progress = std::io::stderr().is_terminal();
    let mut report = Report::default();
    let mut batch: Vec<Event> = Vec::with_capacity(BATCH);
    let mut line = String::new();
    loop {
        line.clear();
        let read = input
            .read_line(&mut line)
            .map_err(|e| CliError::failed(format!("reading line {}: {e}", report.lines + 1)))?;
        if read == 0 {
            break;
        }
        report.lines += 1;
        if line.trim().is_empty() {
            continue;
        }
        match read_event_with(&line, types) {
            Ok(event) => batch.push(event),
            Err(ReadError::UnknownEventType(name)) => *report.unknown.entry(name).or_default() += 1,
            Err(e) => report.corrupt.push((report.lines, e.to_string())),
        }
        if batch.len() == BATCH {
            write(sink, &mut batch, &mut report).await?;
        }
        if progress && report.lines % PROGRESS_EVERY == 0 {
            eprint!(
                "\r{} lines read, {} events imported",
                report.lines, report.events
            );
            let _ = std::io::stderr().flush();
        }
    }
    write(sink, &mut batch, &mut report).await?;
    if progress && report.lines >= PROGRESS_EVERY {
        eprintln!();
    }
    Ok(report)
}

async fn write(
    sink: &StoreSink,
    batch: &mut Vec<Event>,
    report: &mut Report,
) -> Result<(), CliError> {
    if batch.is_empty() {
        return Ok(());
    }
    sink.write_batch(batch).await.map_err(|e| {
        CliError::failed(format!(
            "writing to the store failed after {} events were imported: {e}",
            report.events
        ))
    })?;
    report.events += batch.len() as u64;
    batch.clear();
    Ok(())
}

fn print(globals: &Globals, file: &Path, report: &Report) -> std::io::Result<()> {
    let out = &globals.output;
    if out.json {
        return out.json_line(&json!({
            "file": file.display().to_string(),
            "lines": report.lines,
            "events": report.events,
            "unknown_types": report.unknown,
            "corrupt_lines": report.corrupt.iter()
                .map(|(line, error)| json!({ "line": line, "error": error }))
                .collect::<Vec<_>>(),
        }));
    }
    for (line, error) in &report.corrupt {
        eprintln!("observe: {}:{line}: {error}", file.display());
    }
    out.line(&format!(
        "imported {} events from `{}` into `{}` (events already there are kept once)",
        report.events,
        file.display(),
        globals.store
    ))?;
    for (name, count) in &report.unknown {
        out.line(&format!(
            "skipped {count} event(s) of unknown type `{name}` ({})",
            super::UNKNOWN_TYPE_HINT
        ))?;
    }
    Ok(())
}
