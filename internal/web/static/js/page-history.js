// page-history.js: the entry point of the history (history/, api/history/): every run,
// newest first, filtered, a page at a time. The filters and the page's cursor live in the
// URL, so a view can be shared and the browser's back and forward buttons move between
// views; the CSV link exports the same rows.

import { capitalize, fmtInt } from "./format.js";
import { byId, el, emptyRow, labelled, timeEl } from "./dom.js";
import { createMessages, durationCell, recordsCell, statusBadge } from "./widgets.js";
import { runStatus } from "./statuses.js";
import { crmURL, csvURL, filtersFromQuery, historyAPI, historyURL, instantFromInput, localInputValue, runURL } from "./links.js";
import { ROOT, keepCurrent, link, readInitial, setCrumbs } from "./drill.js";
import { fetchJSON } from "./api.js";

const COLUMNS = 5;
// The statuses offered as boxes to tick; others in a URL are added to them.
const STATUSES = ["running", "success", "failed", "partial", "skipped"];
// The error types syncwatch tells apart (internal/errclass).
const ERROR_TYPES = ["timeout", "rate_limit", "authentication", "connection", "not_found", "validation",
  "database", "configuration", "terminated", "unknown", "other"];

const form = byId("filter-form");
const messages = createMessages();
let filters = filtersFromQuery(location.search);

function option(value, text, selected) {
  const o = el("option", { attrs: { value } }, text);
  o.selected = selected;
  return o;
}

// fillForm shows filters in the form: what the URL says is what the form says.
function fillForm(f) {
  const crm = byId("f-crm");
  for (const v of f.crm) {
    if (![...crm.options].some((o) => o.value === v)) crm.append(option(v, v, true));
  }
  for (const o of crm.options) o.selected = f.crm.includes(o.value);
  byId("f-sync-type").value = f.sync_type;
  const boxes = byId("f-status");
  for (const s of [...STATUSES, ...f.status.filter((s) => !STATUSES.includes(s))]) {
    if (!boxes.querySelector('input[value="' + CSS.escape(s) + '"]')) {
      const id = "f-status-" + boxes.children.length;
      boxes.append(el("div", { className: "form-check form-check-inline" },
        el("input", { className: "form-check-input", attrs: { type: "checkbox", id, name: "status", value: s } }),
        el("label", { className: "form-check-label", attrs: { for: id } }, capitalize(runStatus(s, false).label))));
    }
  }
  for (const box of boxes.querySelectorAll("input")) box.checked = f.status.includes(box.value);
  const types = byId("f-error-type");
  if (f.error_type && ![...types.options].some((o) => o.value === f.error_type)) types.append(option(f.error_type, f.error_type, false));
  types.value = f.error_type;
  byId("f-from").value = localInputValue(f.from) || "";
  byId("f-to").value = localInputValue(f.to) || "";
  byId("f-min-duration").value = f.min_duration;
  byId("f-q").value = f.q;
  const limit = byId("f-limit");
  if (f.limit && ![...limit.options].some((o) => o.value === f.limit)) limit.append(option(f.limit, f.limit, false));
  limit.value = f.limit || "50";
  byId("csv-link").setAttribute("href", csvURL(ROOT, f));
}

// readForm is the filters the form says, from the newest run (no cursor).
function readForm() {
  return {
    crm: [...byId("f-crm").selectedOptions].map((o) => o.value),
    sync_type: byId("f-sync-type").value.trim(),
    status: [...byId("f-status").querySelectorAll("input:checked")].map((b) => b.value),
    error_type: byId("f-error-type").value,
    // An instant typed with seconds precision is kept; one the URL gave and the viewer
    // did not change keeps its own precision.
    from: sameInstant(filters.from, byId("f-from").value) ? filters.from : instantFromInput(byId("f-from").value),
    to: sameInstant(filters.to, byId("f-to").value) ? filters.to : instantFromInput(byId("f-to").value),
    min_duration: byId("f-min-duration").value.trim(),
    q: byId("f-q").value,
    limit: byId("f-limit").value === "50" ? "" : byId("f-limit").value,
    cursor: "",
  };
}

function sameInstant(iso, local) {
  return iso !== "" && localInputValue(iso) === local;
}

function runRow(run) {
  const tr = el("tr", { dataset: { id: run.id, status: run.status } });
  if (run.error_message) tr.classList.add("sw-has-error");
  tr.append(
    el("td", { dataset: { field: "start_time" } }, link(runURL(ROOT, run.id), timeEl(run.start_time, "clock"), "sw-run-link")),
    el("td", null,
      link(crmURL(ROOT, run.crm_source), run.name || run.crm_source, "sw-crm-name"),
      el("div", { className: "sw-sub" }, run.sync_type)),
    el("td", { className: "sw-c-status" }, statusBadge(runStatus(run.status, run.stuck))),
    labelled(recordsCell(run), "Records"),
    labelled(run.status === "running"
      ? el("td", { className: "text-end sw-num", dataset: { field: "duration_seconds", value: "" } }, el("span", { className: "sw-sub-inline" }, "running"))
      : durationCell(run.duration_seconds, run.records_per_second), "Duration"),
  );
  return tr;
}

function errorRow(run) {
  const td = el("td", { attrs: { colspan: COLUMNS } });
  if (run.error_type) {
    td.append(link(historyURL(ROOT, { ...filters, error_type: run.error_type, cursor: "" }), run.error_type, "sw-type sw-type-link"));
  }
  td.append(messages.details("run-" + run.id, run.error_message, null));
  return el("tr", { className: "sw-error-row", dataset: { errorFor: run.id } }, td);
}

function render(r) {
  const runs = r.runs || [];
  const rows = [];
  for (const run of runs) {
    rows.push(runRow(run));
    if (typeof run.error_message === "string" && run.error_message !== "") rows.push(errorRow(run));
  }
  messages.keepFocus(() => byId("history-rows").replaceChildren(...(rows.length
    ? rows
    : [emptyRow(COLUMNS, filters.cursor ? "No older runs match these filters." : "No run matches these filters.")])));
  byId("history-hint").textContent = fmtInt(runs.length) + (runs.length === 1 ? " run" : " runs") + ", newest first";
  const note = byId("search-note");
  note.hidden = !r.note;
  note.textContent = r.note || "";
  const next = byId("next-page");
  next.hidden = !r.next_cursor;
  if (r.next_cursor) {
    next.setAttribute("href", historyURL(ROOT, { ...filters, cursor: r.next_cursor }));
    next.textContent = r.searched_back_to ? "Search further back" : "Older runs";
  }
  const first = byId("first-page");
  first.hidden = !filters.cursor;
  first.setAttribute("href", historyURL(ROOT, { ...filters, cursor: "" }));
}

// go shows the view of filters, as a new entry of the browser's history.
function go(f) {
  filters = f;
  history.pushState(null, "", historyURL(ROOT, f));
  fillForm(f);
  page.reload();
}

// offerCRMs lists the CRMs the overview lists, by name, before any other the URL names.
async function offerCRMs() {
  let status;
  try {
    status = await fetchJSON(ROOT + "api/crm-status/");
  } catch (err) {
    return; // the list only helps choose; the filter works without it
  }
  const crm = byId("f-crm");
  const others = [...crm.options].filter((o) => !(status.crms || []).some((c) => c.source === o.value));
  crm.replaceChildren(
    ...(status.crms || []).map((c) => option(c.source, c.name || c.source, filters.crm.includes(c.source))),
    ...others);
}

setCrumbs([]);
const types = byId("f-error-type");
for (const t of ERROR_TYPES) types.append(option(t, t, false));
fillForm(filters);
const page = keepCurrent({
  initial: readInitial(),
  url: () => historyAPI(ROOT, filters),
  render,
  intervalMs: 0,
  unavailable: (reason) => byId("history-rows").replaceChildren(emptyRow(COLUMNS, "No runs: " + reason, "sw-unavailable")),
});
offerCRMs();

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  go(readForm());
});
for (const id of ["next-page", "first-page"]) {
  byId(id).addEventListener("click", (ev) => {
    if (ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
    ev.preventDefault();
    go(filtersFromQuery(new URL(ev.currentTarget.href).search));
    window.scrollTo(0, 0);
  });
}
window.addEventListener("popstate", () => {
  filters = filtersFromQuery(location.search);
  fillForm(filters);
  page.reload();
});
