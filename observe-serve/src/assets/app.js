// The observe dashboard: a live list of requests (from the SSE stream) and
// a waterfall per request. Data is always inserted with textContent.
"use strict";

const $ = (id) => document.getElementById(id);
const rows = new Map(); // correlation id -> <tr>

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function fmtUs(us) {
  if (us === null || us === undefined) return "";
  if (us < 1000) return us + " µs";
  if (us < 1e6) return (us / 1000).toFixed(1) + " ms";
  return (us / 1e6).toFixed(2) + " s";
}

function outcomeClass(outcome) { return outcome || "in_flight"; }

function filters() {
  const q = new URLSearchParams();
  const range = $("range").value;
  if (range) q.set("from", new Date(Date.now() - range * 1000).toISOString());
  if ($("processor").value) q.set("processor", $("processor").value);
  if ($("errors").checked) q.set("errors_only", "true");
  return q;
}

function upsertRow(s, atTop) {
  let tr = rows.get(s.correlation_id);
  if (!tr) {
    tr = el("tr");
    tr.dataset.id = s.correlation_id;
    tr.addEventListener("click", () => { location.hash = "#/trace/" + s.correlation_id; });
    rows.set(s.correlation_id, tr);
    const body = $("traces").tBodies[0];
    if (atTop) body.prepend(tr); else body.append(tr);
  }
  tr.replaceChildren(
    el("td", null, new Date(s.start_us / 1000).toLocaleTimeString()),
    el("td", null, s.root),
    el("td", null, s.spans),
    el("td", null, fmtUs(s.duration_us)),
    el("td", null, s.outcome || "in flight"),
    el("td", "cid", s.correlation_id));
  tr.dataset.outcome = outcomeClass(s.outcome);
}

async function loadList() {
  rows.clear();
  $("traces").tBodies[0].replaceChildren();
  const res = await fetch("/api/v1/traces?" + filters());
  if (!res.ok) return;
  const page = await res.json();
  page.items.forEach((s) => upsertRow(s, false));
}

// New events: refresh the summary of their request.
const pending = new Set();
let flushTimer = null;
function onEvent(ev) {
  const event = JSON.parse(ev.data);
  pending.add(event.correlation_id);
  if (!flushTimer) flushTimer = setTimeout(flushPending, 150);
  if (current === event.correlation_id) scheduleTrace();
}

async function flushPending() {
  flushTimer = null;
  const ids = [...pending];
  pending.clear();
  for (const id of ids) {
    const res = await fetch("/api/v1/traces/" + encodeURIComponent(id));
    if (!res.ok) continue;
    const chain = await res.json();
    const root = chain.spans[0];
    const summary = {
      correlation_id: chain.correlation_id, start_us: chain.start_us,
      root: root ? root.label : "?", spans: chain.spans.length,
      duration_us: chain.duration_us, outcome: chain.outcome,
    };
    if (!matchesFilters(chain)) continue;
    upsertRow(summary, true);
  }
}

function matchesFilters(chain) {
  const p = $("processor").value;
  if (p && !chain.spans.some((s) => s.processor === p)) return false;
  if ($("errors").checked && !chain.spans.some((s) => s.outcome === "error" || s.outcome === "panic")) return false;
  return true;
}

function connect() {
  const source = new EventSource("/api/v1/stream?named=false");
  source.onopen = () => { $("live").textContent = "live"; };
  source.onerror = () => { $("live").textContent = "reconnecting"; };
  source.onmessage = onEvent;
  source.addEventListener("lagged", () => { $("live").textContent = "resynchronising"; loadList(); });
  window.observeSource = source;
}

// ---- trace view ----
let current = null;
let traceTimer = null;
function scheduleTrace() {
  if (!traceTimer) traceTimer = setTimeout(() => { traceTimer = null; showTrace(current); }, 200);
}

async function showTrace(id) {
  const t0 = performance.now();
  const res = await fetch("/api/v1/traces/" + encodeURIComponent(id));
  const title = $("trace-title");
  if (!res.ok) { title.textContent = "No trace " + id; $("waterfall").replaceChildren(); return; }
  const chain = await res.json();
  title.textContent = "Trace " + chain.correlation_id + " · " + fmtUs(timeScale(chain));
  renderWaterfall(chain);
  window.observeRenderMs = performance.now() - t0;
  document.body.dataset.rendered = chain.correlation_id;
}

// The waterfall's time scale: from the first event to the end of the
// latest span. A span's reported duration can reach past the chain's last
// event (durations come from a monotonic clock, timestamps from the wall
// clock), and every bar must fit on the scale.
function timeScale(chain) {
  let end = chain.duration_us || 0;
  for (const span of chain.spans) {
    if (span.duration_us !== null) end = Math.max(end, span.start_us - chain.start_us + span.duration_us);
  }
  return Math.max(1, end);
}

function renderWaterfall(chain) {
  const start = chain.start_us;
  const total = timeScale(chain);
  const frag = document.createDocumentFragment();
  chain.spans.forEach((span, i) => {
    const row = el("div", "row");
    row.dataset.span = span.span_id;
    row.dataset.outcome = outcomeClass(span.outcome);
    if (span.outcome === "error" || span.outcome === "panic") row.classList.add("failed");
    const label = el("div", "label", span.label);
    label.style.paddingLeft = (span.depth * 16) + "px";
    const track = el("div", "track");
    const bar = el("div", "bar " + outcomeClass(span.outcome));
    const offset = span.start_us - start;
    const length = span.duration_us === null ? total - offset : span.duration_us;
    bar.style.left = (100 * offset / total) + "%";
    bar.style.width = Math.min(100 - 100 * offset / total, Math.max(0.2, 100 * length / total)) + "%";
    bar.title = (span.outcome || "in flight") + " " + fmtUs(span.duration_us);
    track.append(bar);
    row.append(label, track);
    row.addEventListener("click", () => selectSpan(chain, i, row));
    frag.append(row);
  });
  $("waterfall").replaceChildren(frag);
  $("details").replaceChildren();
}

function selectSpan(chain, index, row) {
  document.querySelectorAll(".row.selected").forEach((r) => r.classList.remove("selected"));
  row.classList.add("selected");
  const span = chain.spans[index];
  const box = $("details");
  box.replaceChildren(el("h3", null, span.label + " · " + (span.outcome || "in flight") + " · " + fmtUs(span.duration_us)));
  if (span.error_message) box.append(el("p", "error-message", span.error_message));
  for (const i of span.events) {
    const event = chain.events[i];
    box.append(el("h4", null, event.event_type + " @ " + event.timestamp));
    const err = event.event_type === "error_occurred" ? event.payload : null;
    if (err) {
      box.append(el("p", "error-message", (err.error_type || "error") + ": " + (err.error_message || "")));
      if (Array.isArray(err.stack_frames)) box.append(el("pre", "frames", err.stack_frames.join("\n")));
    }
    box.append(el("pre", "payload", JSON.stringify(event.payload, null, 2)));
  }
}

// ---- routing: #/ is the list, #/trace/<id> a trace (shareable) ----
function route() {
  const m = location.hash.match(/^#\/trace\/([0-9a-fA-F-]+)$/);
  if (m) {
    current = m[1];
    $("list-view").hidden = true;
    $("trace-view").hidden = false;
    showTrace(current);
  } else {
    current = null;
    $("list-view").hidden = false;
    $("trace-view").hidden = true;
  }
}

$("search").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && e.target.value.trim()) location.hash = "#/trace/" + e.target.value.trim();
});
for (const id of ["range", "processor", "errors"]) $(id).addEventListener("change", loadList);
window.addEventListener("hashchange", route);
loadList().then(connect);
route();
