// The mscr web client: plain JavaScript, no dependencies. Sends files to the detect and stock
// functions, draws the answers (canvas for boxes, inline SVG for the chart) and shows each
// call's Server-Timing and errors in words.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";

// ---------------------------------------------------------------------------------------------
// Talking to the server

/** Parses `cold;dur=1.2, fetch;dur=0.5, total;dur=3` into {cold: 1.2, fetch: 0.5, total: 3}. */
function parseServerTiming(header) {
  const out = {};
  if (!header) return out;
  for (const part of header.split(",")) {
    const fields = part.trim().split(";");
    const name = fields[0].trim();
    if (!name) continue;
    let dur = null;
    for (const f of fields.slice(1)) {
      const [k, v] = f.split("=").map((s) => s.trim());
      if (k === "dur") dur = Number(v);
    }
    out[name] = dur;
  }
  return out;
}

/** What an HTTP error means for the person using the page. */
function describeError(status, body, functionName) {
  const code = body && body.error && body.error.code;
  const message = body && body.error && body.error.message;
  const general = {
    400: "The server could not use this input.",
    404: "The server has no such function or model.",
    413: "The file is larger than this function accepts.",
    415: "This kind of file is not supported here.",
    422: "The input was readable but the model could not process it.",
    429: "The function is busy right now; try again in a moment.",
    503: "The function is not available right now (its model may still be loading or failed to load).",
    504: "The function took too long to answer.",
  }[status] || (status >= 500 ? "The server failed while handling the call." : "The call was refused.");
  let text = `${functionName}: ${general}`;
  if (message) text += ` ${message}`;
  text += ` (HTTP ${status}${code ? ", " + code : ""})`;
  return text;
}

/** POSTs `body` to /functions/<name>; returns {ok, status, json, timing, ms} and logs the timing. */
async function callFunction(name, body, contentType, query) {
  const url = `/functions/${encodeURIComponent(name)}` + (query ? `?${query}` : "");
  const started = performance.now();
  let response;
  try {
    response = await fetch(url, { method: "POST", body, headers: { "Content-Type": contentType } });
  } catch (e) {
    const text = `${name}: could not reach the server (${e.message}). Is it running?`;
    showError(text);
    return { ok: false, status: 0, json: null, timing: {}, ms: performance.now() - started, errorText: text };
  }
  const text = await response.text();
  const ms = performance.now() - started;
  let json = null;
  try {
    json = JSON.parse(text);
  } catch (_) {
    json = null;
  }
  const timing = parseServerTiming(response.headers.get("Server-Timing"));
  const result = { ok: response.ok, status: response.status, json, timing, ms };
  logTiming(name, result);
  if (!response.ok) {
    result.errorText = json ? describeError(response.status, json, name)
      : `${name}: HTTP ${response.status}: ${text.slice(0, 200)}`;
    const retry = response.headers.get("Retry-After");
    if (retry) result.errorText += ` Retry after ${retry} s.`;
    showError(result.errorText);
  } else if (!json) {
    result.ok = false;
    result.errorText = `${name}: the answer was not JSON.`;
    showError(result.errorText);
  } else {
    clearError();
  }
  refreshService();
  return result;
}

function showError(text) {
  const box = $("error");
  box.textContent = text;
  box.hidden = false;
}

function clearError() {
  const box = $("error");
  box.textContent = "";
  box.hidden = true;
}

function fmt(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "–";
  return ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}

// ---------------------------------------------------------------------------------------------
// Timing panel

const timingColumns = ["cold", "fetch", "parse", "queue", "infer", "total"];

function logTiming(name, result) {
  const t = result.timing;
  const cold = t.cold !== undefined;
  const last = $("timing-last");
  last.replaceChildren();
  const title = document.createElement("div");
  title.className = "timing-title";
  title.textContent = `${name} · HTTP ${result.status} · ` + (cold ? "cold start" : "warm") +
    ` · round trip ${fmt(result.ms)}`;
  last.appendChild(title);
  const bars = document.createElement("div");
  bars.className = "bars";
  const total = t.total || result.ms || 1;
  for (const key of timingColumns) {
    if (t[key] === undefined) continue;
    const row = document.createElement("div");
    row.className = "bar-row";
    row.dataset.metric = key;
    const label = document.createElement("span");
    label.className = "bar-label";
    label.textContent = key;
    const track = document.createElement("span");
    track.className = "bar-track";
    const bar = document.createElement("span");
    bar.className = `bar bar-${key}`;
    bar.style.width = `${Math.max(1, Math.min(100, (100 * t[key]) / Math.max(total, t[key])))}%`;
    track.appendChild(bar);
    const value = document.createElement("span");
    value.className = "bar-value";
    value.textContent = fmt(t[key]);
    row.append(label, track, value);
    bars.appendChild(row);
  }
  last.appendChild(bars);

  const table = $("timing-log");
  if (!table.tHead) {
    const head = table.createTHead().insertRow();
    for (const h of ["#", "function", "status", ...timingColumns, "round trip"]) {
      const th = document.createElement("th");
      th.textContent = h;
      head.appendChild(th);
    }
    table.createTBody();
  }
  const body = table.tBodies[0];
  const row = body.insertRow(0);
  row.className = cold ? "cold" : "warm";
  const cells = [String(body.rows.length), name, String(result.status),
    ...timingColumns.map((k) => (t[k] === undefined ? "–" : fmt(t[k]))), fmt(result.ms)];
  for (const c of cells) row.insertCell().textContent = c;
  while (body.rows.length > 20) body.deleteRow(body.rows.length - 1);
}

// ---------------------------------------------------------------------------------------------
// Service and model status (GET /functions)

async function refreshService() {
  let data;
  try {
    const r = await fetch("/functions", { headers: { Accept: "application/json" } });
    if (!r.ok) return;
    data = await r.json();
  } catch (_) {
    return;
  }
  const box = $("service");
  box.replaceChildren();
  for (const f of data.functions || []) {
    const chip = document.createElement("span");
    chip.className = `chip state-${f.state}`;
    chip.dataset.function = f.name;
    let text = `${f.name}: ${f.model}`;
    if (f.version !== null && f.version !== undefined) text += ` v${f.version}`;
    text += ` · ${f.state}`;
    if (f.load && f.load.total_ms !== undefined) text += ` (loaded in ${fmt(f.load.total_ms)})`;
    chip.textContent = text;
    if (f.error) chip.title = f.error;
    box.appendChild(chip);
  }
  const svc = data.service || {};
  if (svc.K_SERVICE) {
    const chip = document.createElement("span");
    chip.className = "chip";
    chip.textContent = `${svc.K_SERVICE}${svc.K_REVISION ? " / " + svc.K_REVISION : ""}`;
    box.appendChild(chip);
  }
}

function showModel(elementId, json, result) {
  const m = json && json.model;
  const box = $(elementId);
  if (!m) {
    box.textContent = "";
    return;
  }
  const cold = result.timing.cold !== undefined;
  box.textContent = `Model ${m.name}, version ${m.version}` +
    (cold ? ` · cold start: waited ${fmt(result.timing.cold)} for the model` : " · warm") +
    (result.timing.infer !== undefined ? ` · inference ${fmt(result.timing.infer)}` : "");
}

// ---------------------------------------------------------------------------------------------
// Detect

/** image/jpeg or image/png from the first bytes (a file's type can be empty or wrong). */
function sniffImageType(bytes) {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    return "image/png";
  }
  return null;
}

const palette = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46a0a4", "#f032e6", "#9a6324"];

async function detectFile(file) {
  if (!file) return;
  const status = $("detect-status");
  const bytes = new Uint8Array(await file.arrayBuffer());
  const type = sniffImageType(bytes) || file.type || "application/octet-stream";
  status.textContent = `Sending ${file.name || "the image"} (${Math.round(bytes.length / 1024)} KiB, ${type})…`;
  $("detections").replaceChildren();
  const image = $("detect-image");
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const loaded = new Promise((resolve) => {
    image.onload = () => resolve(true);
    image.onerror = () => resolve(false);
  });
  image.src = url;
  $("detect-stage").hidden = false;
  const canvas = $("detect-canvas");
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);

  const result = await callFunction("detect", bytes, type);
  await loaded;
  if (!result.ok) {
    status.textContent = "The call failed: see the message above.";
    $("detect-model").textContent = "";
    return;
  }
  const json = result.json;
  showModel("detect-model", json, result);
  const n = json.detections.length;
  status.textContent = `${n} object${n === 1 ? "" : "s"} found in ${json.image.width}×${json.image.height} pixels.`;
  drawDetections(json);
  listDetections(json);
}

function drawDetections(json) {
  const canvas = $("detect-canvas");
  const w = json.image.width;
  const h = json.image.height;
  canvas.width = w;
  canvas.height = h;
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, w, h);
  const line = Math.max(2, Math.round(Math.max(w, h) / 300));
  const fontSize = Math.max(12, Math.round(Math.max(w, h) / 45));
  g.font = `600 ${fontSize}px system-ui, sans-serif`;
  g.textBaseline = "top";
  // Boxes first, then labels from the lowest score up, so the best label is never covered.
  json.detections.forEach((d) => {
    const { x1, y1, x2, y2 } = d.box;
    g.lineWidth = line;
    g.strokeStyle = palette[d.class_id % palette.length];
    g.strokeRect(x1, y1, x2 - x1, y2 - y1);
  });
  json.detections.slice().sort((a, b) => a.score - b.score).forEach((d) => {
    const { x1, y1 } = d.box;
    const label = `${d.class} ${(d.score * 100).toFixed(0)}%`;
    const tw = g.measureText(label).width + fontSize * 0.6;
    const th = fontSize * 1.3;
    const lx = Math.min(Math.max(0, x1 - line / 2), Math.max(0, w - tw));
    const ly = y1 - th >= 0 ? y1 - th : y1;
    g.fillStyle = palette[d.class_id % palette.length];
    g.fillRect(lx, ly, tw, th);
    g.fillStyle = "#fff";
    g.fillText(label, lx + fontSize * 0.3, ly + fontSize * 0.15);
  });
}

function listDetections(json) {
  const list = $("detections");
  list.replaceChildren();
  if (json.detections.length === 0) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = "Nothing above the score threshold.";
    list.appendChild(li);
    return;
  }
  json.detections.forEach((d) => {
    const li = document.createElement("li");
    li.dataset.class = d.class;
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = palette[d.class_id % palette.length];
    const name = document.createElement("span");
    name.className = "det-class";
    name.textContent = d.class;
    const score = document.createElement("span");
    score.className = "det-score";
    score.textContent = `${(d.score * 100).toFixed(1)}%`;
    const box = document.createElement("span");
    box.className = "det-box";
    const b = d.box;
    box.textContent = `(${Math.round(b.x1)}, ${Math.round(b.y1)}) – (${Math.round(b.x2)}, ${Math.round(b.y2)})`;
    li.append(swatch, name, score, box);
    list.appendChild(li);
  });
}

function setUpDetect() {
  $("detect-file").addEventListener("change", (e) => detectFile(e.target.files[0]));
  const drop = $("detect-drop");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length > 0) detectFile(e.dataTransfer.files[0]);
  });
  document.addEventListener("paste", (e) => {
    if (e.target === $("stock-csv")) return;
    const item = [...(e.clipboardData ? e.clipboardData.items : [])].find((i) => i.type.startsWith("image/"));
    if (item) detectFile(item.getAsFile());
  });
}

// ---------------------------------------------------------------------------------------------
// Stock

async function loadSample() {
  const r = await fetch("/static/sample-goog.csv");
  if (!r.ok) {
    showError(`The bundled sample could not be loaded (HTTP ${r.status}).`);
    return false;
  }
  $("stock-csv").value = await r.text();
  $("stock-order").value = "oldest-first";
  return true;
}

async function runStock() {
  let text = $("stock-csv").value;
  if (!text.trim()) {
    if (!(await loadSample())) return;
    text = $("stock-csv").value;
  }
  const status = $("stock-status");
  const isJSON = text.trimStart().startsWith("{");
  const order = $("stock-order").value;
  status.textContent = "Forecasting…";
  const result = await callFunction("stock", text, isJSON ? "application/json" : "text/csv",
    order === "newest-first" ? "order=newest-first" : "");
  if (!result.ok) {
    status.textContent = "The call failed: see the message above.";
    return;
  }
  const json = result.json;
  showModel("stock-model", json, result);
  const n = json.predictions.length;
  status.textContent = `${n} prediction${n === 1 ? "" : "s"} from ${json.rows} rows (window ${json.window}).`;
  showNext(json);
  drawStockChart(json);
  fillStockTable(json);
}

function money(v) {
  return v === null || v === undefined ? "–" : v.toFixed(2);
}

function showNext(json) {
  const box = $("stock-next");
  box.replaceChildren();
  const big = document.createElement("strong");
  big.textContent = money(json.next.predicted);
  box.append("Next close forecast: ", big);
  if (json.next.after) box.append(` (the trading day after ${json.next.after})`);
  if (json.metrics) {
    box.append(` · error on these rows: RMSE ${money(json.metrics.rmse)}` +
      ` (tomorrow = today: ${money(json.metrics.naive_rmse)})`);
  }
}

function el(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Predicted vs actual close per day, and the next-day forecast, as inline SVG. */
function drawStockChart(json) {
  const W = 640, H = 300, L = 56, R = 16, T = 16, B = 40;
  const preds = json.predictions;
  const days = preds.map((p) => p.day).concat([json.next.day]);
  const values = preds.flatMap((p) => (p.actual !== undefined ? [p.predicted, p.actual] : [p.predicted]))
    .concat([json.next.predicted]);
  let lo = Math.min(...values), hi = Math.max(...values);
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  const pad = (hi - lo) * 0.08;
  lo -= pad; hi += pad;
  const d0 = Math.min(...days), d1 = Math.max(...days);
  const x = (d) => L + ((d - d0) / Math.max(1, d1 - d0)) * (W - L - R);
  const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);

  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "stock-svg",
    "aria-label": "predicted and actual closing prices" });
  svg.appendChild(el("title", {}, "Predicted vs actual close"));
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    svg.appendChild(el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
    svg.appendChild(el("text", { x: L - 6, y: y(v) + 4, class: "tick", "text-anchor": "end" }, v.toFixed(0)));
  }
  const xticks = Math.min(6, days.length);
  for (let i = 0; i < xticks; i++) {
    const idx = Math.round((i * (preds.length - 1)) / Math.max(1, xticks - 1));
    const p = preds[idx];
    if (!p) continue;
    const label = p.date ? p.date.slice(5) : `day ${p.day}`;
    svg.appendChild(el("text", { x: x(p.day), y: H - B + 16, class: "tick", "text-anchor": "middle" }, label));
  }
  svg.appendChild(el("line", { x1: L, x2: L, y1: T, y2: H - B, class: "axis" }));
  svg.appendChild(el("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis" }));

  const path = (pts) => pts.map((p, i) => `${i ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join("");
  const actual = preds.filter((p) => p.actual !== undefined).map((p) => [p.day, p.actual]);
  const predicted = preds.map((p) => [p.day, p.predicted]).concat([[json.next.day, json.next.predicted]]);
  if (actual.length) svg.appendChild(el("path", { d: path(actual), class: "line-actual" }));
  svg.appendChild(el("path", { d: path(predicted), class: "line-predicted" }));
  const next = el("circle", { cx: x(json.next.day), cy: y(json.next.predicted), r: 5, class: "dot-next" });
  next.appendChild(el("title", {}, `next: ${money(json.next.predicted)}`));
  svg.appendChild(next);

  const legend = el("g", { class: "legend", transform: `translate(${L + 10},${T + 6})` });
  legend.appendChild(el("line", { x1: 0, x2: 18, y1: 6, y2: 6, class: "line-actual" }));
  legend.appendChild(el("text", { x: 24, y: 10, class: "tick" }, "actual"));
  legend.appendChild(el("line", { x1: 80, x2: 98, y1: 6, y2: 6, class: "line-predicted" }));
  legend.appendChild(el("text", { x: 104, y: 10, class: "tick" }, "predicted"));
  legend.appendChild(el("circle", { cx: 185, cy: 6, r: 4, class: "dot-next" }));
  legend.appendChild(el("text", { x: 194, y: 10, class: "tick" }, "next day"));
  svg.appendChild(legend);

  $("stock-chart").replaceChildren(svg);
}

function fillStockTable(json) {
  const table = $("stock-table");
  table.replaceChildren();
  const hasDates = json.predictions.some((p) => p.date);
  const head = table.createTHead().insertRow();
  for (const h of [hasDates ? "date" : "day", "predicted", "actual", "error"]) {
    const th = document.createElement("th");
    th.textContent = h;
    head.appendChild(th);
  }
  const body = table.createTBody();
  const rows = json.predictions.slice().reverse();
  const nextRow = body.insertRow();
  nextRow.className = "next-row";
  for (const c of [json.next.after ? `after ${json.next.after}` : `day ${json.next.day}`,
    money(json.next.predicted), "?", ""]) {
    nextRow.insertCell().textContent = c;
  }
  for (const p of rows) {
    const r = body.insertRow();
    const err = p.actual !== undefined ? p.predicted - p.actual : null;
    for (const c of [p.date || `day ${p.day}`, money(p.predicted), money(p.actual),
      err === null ? "" : (err >= 0 ? "+" : "") + err.toFixed(2)]) {
      r.insertCell().textContent = c;
    }
  }
}

function setUpStock() {
  $("stock-sample").addEventListener("click", async () => {
    if (await loadSample()) runStock();
  });
  $("stock-run").addEventListener("click", runStock);
  $("stock-file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    $("stock-csv").value = await file.text();
    runStock();
  });
}

// ---------------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  setUpDetect();
  setUpStock();
  refreshService();
});
