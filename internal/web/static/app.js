// syncwatch page script: paints the figures the page came with, then asks the JSON API
// for fresh ones every refresh interval and updates the page in place.
//
// Rules this file keeps:
//   - every text that comes from the API goes into the DOM as text (textContent, text
//     nodes, attributes set one by one), never through innerHTML;
//   - URLs are relative, so the page works under any base path behind a proxy;
//   - null means "cannot be computed" and is shown as "—", never as 0;
//   - status is never told by colour alone: every status has an icon shape and a word.
"use strict";

(() => {
  // ---- configuration ------------------------------------------------------------------

  const body = document.body;
  const REFRESH_MS = Math.max(1, Number(body.dataset.refreshSeconds) || 30) * 1000;
  // A CRM with rows whose last success is older than this (or that never succeeded) is
  // marked "no success for …": a day covers every schedule the warehouse uses (hourly to
  // daily), so a CRM past it has missed at least one whole cycle.
  const NO_SUCCESS_MS = 24 * 3600 * 1000;
  const FETCH_TIMEOUT_MS = Math.max(10000, REFRESH_MS);
  const DASH = "—";

  // The API's endpoints, under the names the page's first figures use (page.go).
  const ENDPOINTS = {
    stats: "api/stats/",
    crm_status: "api/crm-status/",
    recent_syncs: "api/recent-syncs/?limit=20",
    charts: "api/performance-charts/",
    errors: "api/errors/",
    system_health: "api/system-health/",
  };
  const SECTION_NAMES = {
    stats: "overview",
    crm_status: "CRM status",
    recent_syncs: "recent activity",
    charts: "charts",
    errors: "errors",
    system_health: "system health",
  };

  // ---- formatting ---------------------------------------------------------------------

  const numberFmt = new Intl.NumberFormat();
  const oneDecimalFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
  const rateFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
  const clockFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  const clockSecondsFmt = new Intl.DateTimeFormat(undefined, {
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  const dayClockFmt = new Intl.DateTimeFormat(undefined, {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
  const exactFmt = new Intl.DateTimeFormat(undefined, {
    weekday: "short", year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short",
  });

  const isNum = (v) => typeof v === "number" && Number.isFinite(v);
  const fmtInt = (v) => (isNum(v) ? numberFmt.format(v) : DASH);
  const fmtOne = (v) => (isNum(v) ? oneDecimalFmt.format(v) : DASH);
  const fmtPercent = (v) => (isNum(v) ? rateFmt.format(v) + " %" : DASH);

  // fmtDuration writes seconds the way people read them: "45 s", "2m 05s", "1h 02m".
  function fmtDuration(sec) {
    if (!isNum(sec)) return DASH;
    if (sec < 10) return oneDecimalFmt.format(sec) + " s";
    if (sec < 60) return Math.round(sec) + " s";
    const s = Math.round(sec);
    const pad = (n) => String(n).padStart(2, "0");
    if (s < 3600) return Math.floor(s / 60) + "m " + pad(s % 60) + "s";
    if (s < 86400) return Math.floor(s / 3600) + "h " + pad(Math.floor((s % 3600) / 60)) + "m";
    return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
  }

  // fmtAgo writes the distance from now: "just now", "45 s ago", "3 min ago", "in 2 h".
  function fmtAgo(date, now) {
    const diff = now - date.getTime();
    const abs = Math.abs(diff);
    let text;
    if (abs < 5000) return "just now";
    if (abs < 60000) text = Math.round(abs / 1000) + " s";
    else if (abs < 3600000) text = Math.round(abs / 60000) + " min";
    else if (abs < 172800000) text = Math.round(abs / 3600000) + " h";
    else text = Math.round(abs / 86400000) + " d";
    return diff >= 0 ? text + " ago" : "in " + text;
  }

  // fmtSpan writes a long stretch of time in words: "3 days", "26 hours".
  function fmtSpan(ms) {
    const hours = Math.floor(ms / 3600000);
    if (hours < 48) return hours + " hours";
    return Math.floor(hours / 24) + " days";
  }

  function fmtClock(date, now) {
    const sameDay = new Date(now).toDateString() === date.toDateString();
    return sameDay ? clockFmt.format(date) : dayClockFmt.format(date);
  }

  const parseTime = (iso) => {
    if (typeof iso !== "string") return null;
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? null : d;
  };

  // ---- DOM building -------------------------------------------------------------------

  // el builds an element. props: className, title, hidden, dataset (object), attrs
  // (object); children: nodes, strings (inserted as text) or null (skipped).
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      if (props.className) node.className = props.className;
      if (props.title) node.title = props.title;
      if (props.hidden) node.hidden = true;
      for (const [k, v] of Object.entries(props.dataset || {})) node.dataset[k] = String(v);
      for (const [k, v] of Object.entries(props.attrs || {})) node.setAttribute(k, String(v));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  // Icon shapes on a 16×16 grid, drawn with the current text colour. Each status has its
  // own shape, so status reads without colour.
  const ICONS = {
    check: ["M4.6 8.4 7 10.7l4.4-4.9"],
    cross: ["M5.6 5.6l4.8 4.8", "M10.4 5.6l-4.8 4.8"],
    bang: ["M8 4.6v4.2", "M8 11.2v.2"],
    minus: ["M5 8h6"],
    clock: ["M8 4.8V8l2.2 1.4"],
    question: ["M6.2 6.3a1.9 1.9 0 1 1 2.6 1.8c-.5.2-.8.6-.8 1.1v.4", "M8 11.4v.2"],
    warn: ["M8 2.2 14.6 13.6H1.4Z", "M8 6.4v3.4", "M8 11.6v.2"],
    refresh: ["M13 8a5 5 0 1 1-1.5-3.6", "M13 2.8v3h-3"],
  };

  function icon(name) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 16 16");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "sw-icon");
    if (name !== "warn" && name !== "refresh") {
      const c = document.createElementNS(SVG_NS, "circle");
      c.setAttribute("cx", "8");
      c.setAttribute("cy", "8");
      c.setAttribute("r", "6.6");
      svg.append(c);
    }
    for (const d of ICONS[name] || ICONS.question) {
      const p = document.createElementNS(SVG_NS, "path");
      p.setAttribute("d", d);
      svg.append(p);
    }
    return svg;
  }

  function spinner() {
    return el("span", { className: "spinner-border sw-spinner", attrs: { "aria-hidden": "true" } });
  }

  // timeEl shows a time as "3 min ago" (or as a clock time, with "ago" beside it), with
  // the exact time in the viewer's zone on hover; tickRelative keeps "ago" current.
  function timeEl(iso, style) {
    const d = parseTime(iso);
    if (!d) return el("span", { className: "sw-null" }, DASH);
    const now = Date.now();
    const node = el("time", {
      title: exactFmt.format(d),
      attrs: { datetime: iso },
      dataset: { rel: style || "ago" },
    });
    fillTime(node, d, now);
    return node;
  }

  function fillTime(node, d, now) {
    if (node.dataset.rel === "clock") {
      node.replaceChildren(
        el("span", { className: "sw-clock" }, fmtClock(d, now)),
        el("span", { className: "sw-ago" }, fmtAgo(d, now)),
      );
    } else {
      node.textContent = fmtAgo(d, now);
    }
  }

  function tickRelative() {
    const now = Date.now();
    for (const node of document.querySelectorAll("time[data-rel]")) {
      const d = parseTime(node.getAttribute("datetime"));
      if (d) fillTime(node, d, now);
    }
  }

  // ---- statuses -----------------------------------------------------------------------

  const RUN_STATUS = {
    success: { label: "Success", icon: "check", tone: "success" },
    failed: { label: "Failed", icon: "cross", tone: "danger" },
    partial: { label: "Partial", icon: "bang", tone: "warning" },
    running: { label: "Running", icon: "spinner", tone: "info" },
    never: { label: "Never run", icon: "minus", tone: "muted" },
  };

  // runStatus describes a status word; unknown words (skipped, cancelled…) are shown as
  // stored, in grey.
  function runStatus(status, stuck) {
    if (status === "running" && stuck) return { label: "Stuck", icon: "warn", tone: "danger" };
    return RUN_STATUS[status] || { label: String(status || "unknown"), icon: "question", tone: "muted" };
  }

  function statusBadge(st, extra) {
    const mark = st.icon === "spinner" ? spinner() : icon(st.icon);
    return el("span", { className: "sw-status sw-tone-" + st.tone, dataset: { status: st.label } },
      mark, el("span", null, st.label), extra || null);
  }

  const HEALTH_STATUS = {
    healthy: { label: "Healthy", icon: "check", tone: "success" },
    degraded: { label: "Degraded", icon: "bang", tone: "warning" },
    unhealthy: { label: "Unhealthy", icon: "cross", tone: "danger" },
    not_configured: { label: "Not configured", icon: "minus", tone: "muted" },
  };

  function healthStatus(check) {
    if (check && check.pending) return { label: "Checking…", icon: "clock", tone: "muted" };
    return HEALTH_STATUS[check && check.status] || { label: "Unknown", icon: "question", tone: "muted" };
  }

  // ---- overview cards -----------------------------------------------------------------

  function renderStats(resp) {
    const o = (resp && resp.overview) || {};
    for (const node of document.querySelectorAll("[data-stat]")) {
      const key = node.dataset.stat;
      const v = o[key];
      node.dataset.value = v === null || v === undefined ? "" : String(v);
      node.textContent = key === "success_rate" ? fmtPercent(v) : fmtInt(v);
    }
    const finished = [o.completed_today, o.failed_today, o.partial_today]
      .reduce((a, b) => a + (isNum(b) ? b : 0), 0);
    setNote("active_syncs", activeNote(o), o.stuck_syncs > 0 ? "danger" : null);
    setNote("completed_today", "successful runs", null);
    setNote("failed_today", o.failed_today > 0 ? "see Recent errors" : "no failures", null);
    setNote("partial_today", "some records failed", null);
    setNote("success_rate", isNum(o.success_rate)
      ? "of " + numberFmt.format(finished) + " finished runs" : "no finished runs", null);
    setNote("overdue_crms", o.overdue_crms > 0 ? "missed a scheduled run" : "schedules on time",
      o.overdue_crms > 0 ? "warning" : null);
    toggleClass("card-active", "sw-stat-alert", o.stuck_syncs > 0);
    toggleClass("card-failed", "sw-stat-bad", o.failed_today > 0);
    toggleClass("card-overdue", "sw-stat-warn", o.overdue_crms > 0);
  }

  function activeNote(o) {
    if (o.stuck_syncs > 0) return [icon("warn"), " " + numberFmt.format(o.stuck_syncs) + " stuck"];
    return o.active_syncs > 0 ? "none stuck" : "idle";
  }

  function setNote(key, content, tone) {
    const node = document.querySelector('[data-note="' + key + '"]');
    node.replaceChildren();
    append(node, [content]);
    node.className = "sw-stat-note" + (tone ? " sw-tone-" + tone : "");
  }

  function toggleClass(id, cls, on) {
    document.getElementById(id).classList.toggle(cls, Boolean(on));
  }

  // ---- CRM table ----------------------------------------------------------------------

  function renderCRMs(resp) {
    const crms = (resp && resp.crms) || [];
    const tbody = document.getElementById("crm-rows");
    const now = Date.now();
    if (crms.length === 0) {
      tbody.replaceChildren(emptyRow(9, "No CRM has synced yet."));
    } else {
      tbody.replaceChildren(...crms.map((c) => crmRow(c, now)));
    }
    const alerts = crms.filter((c) => noSuccessFor(c, now) !== null).length;
    document.getElementById("crm-hint").textContent = alerts > 0
      ? alerts + (alerts === 1 ? " CRM has" : " CRMs have") + " not succeeded in 24 h"
      : crms.length + " CRMs";
  }

  // noSuccessFor is how long a CRM with rows has gone without a success (ms), or null when
  // it succeeded within NO_SUCCESS_MS or has no rows at all. Infinity: never succeeded.
  function noSuccessFor(c, now) {
    if (c.status === "never") return null;
    const last = parseTime(c.last_success);
    if (!last) return Infinity;
    const gap = now - last.getTime();
    return gap > NO_SUCCESS_MS ? gap : null;
  }

  function crmRow(c, now) {
    const gap = noSuccessFor(c, now);
    const tr = el("tr", { dataset: { source: c.source, status: c.status } });
    if (gap !== null) tr.classList.add("sw-row-alert");
    if (c.status === "never") tr.classList.add("sw-row-quiet");
    tr.append(
      el("th", { attrs: { scope: "row" } },
        el("div", { className: "sw-crm-name" }, c.name || c.source),
        c.sync_type ? el("div", { className: "sw-sub" }, c.sync_type) : null),
      el("td", { className: "sw-c-status" }, crmStatusCell(c)),
      el("td", { dataset: { field: "last_sync", label: "Last sync" } }, lastSyncCell(c)),
      el("td", { dataset: { field: "last_success", label: "Last success" } }, lastSuccessCell(c, gap)),
      el("td", { dataset: { field: "next_sync", label: "Next sync" } }, nextSyncCell(c)),
      labelled(numCell("records_processed", c.records_processed), "Processed"),
      labelled(numCell("records_created", c.records_created), "Created"),
      labelled(numCell("records_updated", c.records_updated), "Updated"),
      labelled(durationCell(c.duration_seconds, c.records_per_second), "Duration"),
    );
    return tr;
  }

  function crmStatusCell(c) {
    const wrap = el("div", { className: "sw-status-stack" });
    wrap.append(statusBadge(runStatus(c.status, false)));
    if (c.running > 0 && c.status !== "running") {
      wrap.append(statusBadge(RUN_STATUS.running));
    }
    if (c.running > 1) wrap.append(el("span", { className: "sw-sub" }, c.running + " running"));
    if (c.stuck > 0) {
      wrap.append(el("span", { className: "sw-flag sw-tone-danger", title: "A run has been going longer than the stuck threshold; it will not finish by itself." },
        icon("warn"), c.stuck + " stuck"));
    }
    return wrap;
  }

  function lastSyncCell(c) {
    if (c.status === "running" && !c.last_sync) {
      return el("span", { className: "sw-sub-inline" }, "started ", timeEl(c.last_start));
    }
    return timeEl(c.last_sync);
  }

  function lastSuccessCell(c, gap) {
    if (c.status === "never") return el("span", { className: "sw-null" }, DASH);
    if (gap === null) return timeEl(c.last_success);
    const label = gap === Infinity ? "Never succeeded" : "No success for " + fmtSpan(gap);
    return el("div", { className: "sw-no-success" },
      el("span", { className: "sw-flag sw-tone-danger" }, icon("warn"), label),
      c.last_success ? el("div", { className: "sw-sub" }, "last ", timeEl(c.last_success)) : null);
  }

  // labelled names a cell for the phone layout, where app.css shows rows as cards and
  // each value under its column's name.
  function labelled(td, label) {
    td.dataset.label = label;
    return td;
  }

  function numCell(field, v) {
    return el("td", {
      className: "text-end sw-num",
      dataset: { field, value: isNum(v) ? v : "" },
    }, isNum(v) ? fmtInt(v) : el("span", { className: "sw-null" }, DASH));
  }

  function durationCell(sec, rps) {
    return el("td", {
      className: "text-end sw-num",
      dataset: { field: "duration_seconds", value: isNum(sec) ? sec : "" },
    },
    isNum(sec) ? fmtDuration(sec) : el("span", { className: "sw-null" }, DASH),
    isNum(rps) ? el("div", { className: "sw-sub" }, fmtOne(rps) + " rec/s") : null);
  }

  function nextSyncCell(c) {
    const schedules = Array.isArray(c.schedules) ? c.schedules : [];
    const wrap = el("div", { className: "sw-next", title: scheduleSummary(schedules) });
    const next = parseTime(c.next_sync);
    // A next run already past is due: beat sends it at its next tick.
    if (next && next.getTime() < Date.now()) wrap.append(el("span", { className: "sw-sub-inline" }, "due ", timeEl(c.next_sync)));
    else if (next) wrap.append(timeEl(c.next_sync));
    else wrap.append(el("span", { className: "sw-null" }, schedules.length ? "unknown" : "not scheduled"));
    if (c.overdue) {
      wrap.append(el("span", { className: "sw-flag sw-tone-warning" }, icon("clock"), "Overdue"));
    }
    const invalid = schedules.filter((s) => s.invalid);
    if (invalid.length > 0) {
      wrap.append(el("span", { className: "sw-flag sw-tone-danger", title: invalid.map((s) => s.name + ": " + s.invalid).join("\n") },
        icon("warn"), invalid.length === 1 ? "Invalid schedule" : invalid.length + " invalid schedules"));
    }
    return wrap;
  }

  // scheduleSummary lists a CRM's schedules for the hover text of its next sync.
  function scheduleSummary(schedules) {
    return schedules.map((s) => {
      const parts = [s.name + (s.mode ? " (" + s.mode + ")" : "") + ": " + (s.recurrence || "")];
      if (s.state && s.state !== "enabled") parts.push(s.state);
      const next = parseTime(s.next_run);
      if (next) parts.push("next " + exactFmt.format(next));
      if (s.overdue) parts.push("overdue");
      if (s.note) parts.push(s.note);
      return parts.join(" · ");
    }).join("\n");
  }

  function emptyRow(cols, text) {
    return el("tr", { className: "sw-empty-row" },
      el("td", { attrs: { colspan: cols } }, text));
  }

  // ---- recent activity and errors -----------------------------------------------------

  // openMessages remembers which full error messages the viewer opened, so a refresh
  // that rebuilds the list does not close them.
  const openMessages = new Set();

  function renderRecent(resp) {
    const runs = (resp && resp.syncs) || [];
    const tbody = document.getElementById("recent-rows");
    if (runs.length === 0) {
      tbody.replaceChildren(emptyRow(5, "No sync has run yet."));
      return;
    }
    const rows = [];
    for (const run of runs) {
      rows.push(recentRow(run));
      if (typeof run.error_message === "string" && run.error_message !== "") {
        rows.push(el("tr", { className: "sw-error-row", dataset: { errorFor: run.id } },
          el("td", { attrs: { colspan: 5 } },
            messageDetails("run-" + run.id, run.error_message, run.error_type))));
      }
    }
    keepFocus(() => tbody.replaceChildren(...rows));
  }

  // keepFocus runs a re-render that may replace the focused message, and gives the focus
  // back to the same message (by its key) afterwards, so a keyboard user is not thrown
  // to the top of the page by a refresh.
  function keepFocus(rerender) {
    const active = document.activeElement;
    const details = active && active.closest ? active.closest("details[data-key]") : null;
    rerender();
    if (!details) return;
    for (const d of document.querySelectorAll("details[data-key]")) {
      if (d.dataset.key === details.dataset.key) d.querySelector("summary").focus();
    }
  }

  function recentRow(run) {
    const st = runStatus(run.status, run.stuck);
    const tr = el("tr", { dataset: { id: run.id, status: run.status } });
    if (run.error_message) tr.classList.add("sw-has-error");
    tr.append(
      el("td", { dataset: { field: "start_time" } }, timeEl(run.start_time, "clock")),
      el("td", null,
        el("div", { className: "sw-crm-name" }, run.name || run.crm_source),
        el("div", { className: "sw-sub" }, run.sync_type)),
      el("td", { className: "sw-c-status" }, statusBadge(st)),
      labelled(recordsCell(run), "Records"),
      labelled(run.status === "running"
        ? el("td", { className: "text-end sw-num", dataset: { field: "duration_seconds", value: "" } },
          el("span", { className: "sw-sub-inline" }, "running"))
        : durationCell(run.duration_seconds, run.records_per_second), "Duration"),
    );
    return tr;
  }

  function recordsCell(run) {
    const td = numCell("records_processed", run.records_processed);
    const parts = [];
    if (isNum(run.records_created)) parts.push(fmtInt(run.records_created) + " new");
    if (isNum(run.records_updated)) parts.push(fmtInt(run.records_updated) + " upd");
    if (run.records_failed > 0) parts.push(fmtInt(run.records_failed) + " failed");
    if (parts.length) td.append(el("div", { className: "sw-sub" }, parts.join(" · ")));
    return td;
  }

  // messageDetails shows an error message cut to its start, with the full text one click
  // away in a <details> element (no script needed to open it, and keyboard-accessible).
  function messageDetails(key, message, type) {
    const line = headline(message);
    const cut = line.length > 140 ? line.slice(0, 140).trimEnd() + "…" : line;
    const longer = cut !== message;
    const details = el("details", { className: "sw-message", dataset: { key } },
      el("summary", null,
        type ? el("span", { className: "sw-type" }, type) : null,
        el("span", { className: "sw-message-short" }, cut),
        longer ? el("span", { className: "sw-more" }, "full message") : null),
      el("pre", { className: "sw-message-full" }, message));
    details.open = openMessages.has(key);
    details.addEventListener("toggle", () => {
      if (details.open) openMessages.add(key);
      else openMessages.delete(key);
    });
    return details;
  }

  // headline is the line of a message that says what went wrong: the first, except for a
  // Python traceback, whose last line names the exception.
  function headline(message) {
    const lines = message.split("\n").map((l) => l.trim()).filter((l) => l !== "");
    if (lines.length === 0) return "";
    return lines[0].startsWith("Traceback (most recent call last)") ? lines[lines.length - 1] : lines[0];
  }

  function renderErrors(resp) {
    const errors = (resp && resp.recent_errors) || [];
    const list = document.getElementById("error-list");
    if (errors.length === 0) {
      list.replaceChildren(el("li", { className: "list-group-item sw-empty-row" },
        icon("check"), " No failed sync on record."));
    } else {
      keepFocus(() => list.replaceChildren(...errors.map(errorItem)));
    }
    renderProblems((resp && resp.problematic_crms) || []);
    const days = resp && isNum(resp.days) ? resp.days : Number(body.dataset.days);
    document.getElementById("analysis-hint").textContent = "last " + days + " days";
  }

  function errorItem(e) {
    const msg = typeof e.error_message === "string" && e.error_message !== ""
      ? messageDetails("error-" + e.id, e.error_message, null)
      : el("div", { className: "sw-null" }, "No message was recorded.");
    return el("li", { className: "list-group-item sw-error-item", dataset: { id: e.id } },
      el("div", { className: "sw-error-head" },
        el("span", { className: "sw-status sw-tone-danger" }, icon("cross")),
        el("span", { className: "sw-crm-name" }, e.name || e.crm_source),
        el("span", { className: "sw-sub-inline" }, e.sync_type),
        el("span", { className: "sw-type" }, e.error_type || "unknown"),
        el("span", { className: "sw-error-time", dataset: { field: "failed_at" } }, timeEl(e.failed_at, "clock"))),
      msg);
  }

  function renderProblems(crms) {
    const tbody = document.getElementById("problem-rows");
    if (crms.length === 0) {
      tbody.replaceChildren(emptyRow(4, "No CRM failed in these days."));
      return;
    }
    tbody.replaceChildren(...crms.map((c) => {
      const bar = el("span", { className: "sw-bar-fill" });
      bar.style.width = Math.max(0, Math.min(100, c.failure_rate)) + "%";
      return el("tr", { dataset: { source: c.source } },
        el("th", { attrs: { scope: "row" } }, c.name || c.source),
        numCell("failed", c.failed),
        numCell("total", c.total),
        el("td", { className: "sw-rate-col", dataset: { field: "failure_rate", value: c.failure_rate } },
          el("div", { className: "sw-bar" },
            el("span", { className: "sw-bar-track" }, bar),
            el("span", { className: "sw-num" }, fmtPercent(c.failure_rate)))));
    }));
  }

  // ---- system health ------------------------------------------------------------------

  // The figures shown for each component: label, field, formatter.
  const HEALTH_FIGURES = {
    database: [
      ["Response time", "response_time_ms", (v) => (isNum(v) ? fmtOne(v) + " ms" : DASH)],
      ["Connections", "connection_count", fmtInt],
    ],
    celery: [
      ["Active workers", "active_workers", fmtInt],
      ["Pending tasks", "pending_tasks", fmtInt],
      ["Reserved tasks", "reserved_tasks", fmtInt],
      ["Oldest reserved", "oldest_reserved_seconds", fmtDuration],
      ["Broker ping", "response_time_ms", (v) => (isNum(v) ? fmtOne(v) + " ms" : DASH)],
    ],
    redis: [
      ["Memory used", "memory_used_mb", null],
      ["Clients", "connected_clients", fmtInt],
      ["Ping", "response_time_ms", (v) => (isNum(v) ? fmtOne(v) + " ms" : DASH)],
      ["Uptime", "uptime_seconds", fmtDuration],
    ],
    endpoint: [
      ["HTTP status", "status_code", (v) => (isNum(v) ? String(v) : DASH)],
      ["Response time", "response_time_ms", (v) => (isNum(v) ? fmtOne(v) + " ms" : DASH)],
    ],
  };

  function renderHealth(resp) {
    const r = resp || {};
    const parts = [
      { key: "database", name: "Database", sub: "PostgreSQL", check: r.database },
      { key: "celery", name: "Celery workers", sub: r.celery && r.celery.broker, check: r.celery },
      { key: "redis", name: "Redis", sub: r.redis && (r.redis.server || "") + (r.redis.version ? " · v" + r.redis.version : ""), check: r.redis },
    ];
    for (const e of Array.isArray(r.endpoints) ? r.endpoints : []) {
      parts.push({ key: "endpoint", name: e.name, sub: e.url, check: e });
    }
    document.getElementById("health-tiles").replaceChildren(...parts.map(healthTile));
    document.getElementById("health-pills").replaceChildren(...parts.slice(0, 3).map(healthPill));
    const hint = document.getElementById("health-hint");
    hint.replaceChildren();
    if (r.timestamp) append(hint, ["checked ", timeEl(r.timestamp)]);
  }

  function healthPill(p) {
    const st = healthStatus(p.check);
    const short = { database: "Database", celery: "Celery", redis: "Redis" }[p.key];
    return el("a", {
      className: "sw-pill sw-tone-" + st.tone,
      title: p.name + ": " + st.label,
      attrs: { href: "#health" },
      dataset: { component: p.key, status: (p.check && p.check.status) || "" },
    }, icon(st.icon), el("span", null, short), el("span", { className: "visually-hidden" }, ": " + st.label));
  }

  function healthTile(p) {
    const c = p.check || {};
    const st = healthStatus(c);
    const dl = el("dl", { className: "sw-figures" });
    for (const [label, field, fmt] of HEALTH_FIGURES[p.key]) {
      dl.append(el("dt", null, label),
        el("dd", { className: "sw-num", dataset: { field, value: isNum(c[field]) ? c[field] : "" } },
          fmt ? fmt(c[field]) : memoryText(c)));
    }
    const tile = el("div", { className: "sw-health sw-tone-" + st.tone, dataset: { component: p.key, status: c.status || "" } },
      el("div", { className: "sw-health-head" },
        el("span", { className: "sw-health-mark" }, icon(st.icon)),
        el("div", { className: "sw-health-name" },
          el("div", { className: "sw-crm-name" }, p.name),
          p.sub ? el("div", { className: "sw-sub sw-break" }, p.sub) : null),
        el("span", { className: "sw-health-word" }, st.label)),
      c.error ? el("div", { className: "sw-health-error" }, c.error) : null,
      Array.isArray(c.warnings) && c.warnings.length && !c.pending
        ? el("ul", { className: "sw-health-warnings" }, c.warnings.map((w) => el("li", null, w)))
        : null,
      c.status === "not_configured" ? null : dl,
      p.key === "celery" ? workerList(c) : null,
      p.key === "celery" && c.status !== "not_configured"
        ? el("div", { className: "sw-sub sw-queue-note" },
          "Pending counts what waits in the broker's queues; messages workers have already prefetched are reserved, not pending.")
        : null,
      c.checked_at ? el("div", { className: "sw-sub" }, "checked ", timeEl(c.checked_at)) : null);
    return el("div", { className: "col-md-4" }, tile);
  }

  function memoryText(c) {
    if (!isNum(c.memory_used_mb)) return DASH;
    const used = fmtOne(c.memory_used_mb) + " MiB";
    return isNum(c.memory_max_mb) ? used + " of " + fmtOne(c.memory_max_mb) : used;
  }

  function workerList(c) {
    const workers = Array.isArray(c.workers) ? c.workers : [];
    if (workers.length === 0) return null;
    return el("ul", { className: "sw-workers" }, workers.map((w) =>
      el("li", { title: (w.queues || []).join(", ") },
        w.answered ? icon("check") : icon("bang"),
        el("span", { className: "sw-break" }, w.name),
        isNum(w.pool_size) ? el("span", { className: "sw-sub-inline" }, " · pool " + w.pool_size) : null)));
  }

  // ---- charts -------------------------------------------------------------------------

  // charts holds the Chart.js instances, created once and then updated in place.
  const charts = {};
  // Colours of the error types, fixed so a type keeps its colour from one refresh to the
  // next whatever its rank.
  const TYPE_COLOURS = {
    timeout: "#f59f00", rate_limit: "#fd7e14", authentication: "#d6336c",
    connection: "#7950f2", not_found: "#20c997", validation: "#15aabf",
    database: "#4263eb", configuration: "#ae3ec9", terminated: "#868e96",
    unknown: "#adb5bd", other: "#495057",
  };
  const EXTRA_COLOURS = ["#0ca678", "#e8590c", "#1c7ed6", "#c2255c", "#5c940d"];

  function themeColours() {
    const css = getComputedStyle(document.documentElement);
    const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
    return {
      text: v("--bs-secondary-color", "#6c757d"),
      grid: v("--bs-border-color-translucent", "rgba(0,0,0,.1)"),
      accent: v("--sw-accent", "#0d6efd"),
      accent2: v("--sw-accent-2", "#6f42c1"),
      good: v("--sw-good", "#198754"),
      surface: v("--bs-body-bg", "#fff"),
    };
  }

  function baseOptions(col, yTick) {
    return {
      animation: false, // updates in place must not re-grow from zero
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (ctx) => " " + yTick(ctx.chart.options.indexAxis === "y" ? ctx.parsed.x : ctx.parsed.y) } },
      },
      scales: {
        x: { ticks: { color: col.text, maxRotation: 0, autoSkipPadding: 8 }, grid: { display: false }, border: { color: col.grid } },
        y: { beginAtZero: true, ticks: { color: col.text, callback: yTick, maxTicksLimit: 5 }, grid: { color: col.grid }, border: { display: false } },
      },
    };
  }

  function lineChart(id, colour, yTick, extra) {
    const col = themeColours();
    const options = baseOptions(col, yTick);
    Object.assign(options.scales.y, extra || {});
    return new window.Chart(document.getElementById(id), {
      type: "line",
      data: { labels: [], datasets: [{ data: [], borderColor: colour, backgroundColor: colour, spanGaps: false, pointRadius: 3, pointHoverRadius: 5, borderWidth: 2, tension: 0.25 }] },
      options,
    });
  }

  // barChart draws one bar per CRM, horizontally, so every CRM's name is readable even
  // on a phone; fitBars gives it the height its number of CRMs needs.
  function barChart(id, colour, xTick) {
    const col = themeColours();
    const options = baseOptions(col, xTick);
    options.indexAxis = "y";
    options.scales = {
      x: { beginAtZero: true, ticks: { color: col.text, callback: xTick, maxTicksLimit: 5 }, grid: { color: col.grid }, border: { display: false } },
      y: { ticks: { color: col.text, autoSkip: false }, grid: { display: false }, border: { color: col.grid } },
    };
    return new window.Chart(document.getElementById(id), {
      type: "bar",
      data: { labels: [], datasets: [{ data: [], backgroundColor: colour, borderRadius: 3, barPercentage: 0.75, categoryPercentage: 0.9 }] },
      options,
    });
  }

  function fitBars(chart) {
    if (!chart || chart.options.indexAxis !== "y") return;
    const n = Math.max(3, chart.data.labels.length);
    const px = 24 * n + 28 + "px";
    const box = chart.canvas.parentNode;
    if (box.style.height !== px) box.style.height = px;
  }

  function doughnutChart(id) {
    const col = themeColours();
    return new window.Chart(document.getElementById(id), {
      type: "doughnut",
      data: { labels: [], datasets: [{ data: [], backgroundColor: [], borderColor: col.surface, borderWidth: 2 }] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        cutout: "58%",
        plugins: {
          legend: { position: "right", labels: { color: col.text, boxWidth: 12, boxHeight: 12, padding: 8 } },
          tooltip: { callbacks: { label: (ctx) => " " + ctx.label + ": " + fmtInt(ctx.parsed) } },
        },
      },
    });
  }

  function createCharts() {
    if (typeof window.Chart !== "function") return false;
    window.Chart.defaults.font.family = getComputedStyle(body).fontFamily;
    const col = themeColours();
    charts.duration = lineChart("chart-duration", col.accent, fmtDuration);
    charts.rate = lineChart("chart-rate", col.good, (v) => fmtPercent(v), { max: 100 });
    charts.records = barChart("chart-records", col.accent, compactInt);
    charts.frequency = barChart("chart-frequency", col.accent2, fmtInt);
    charts.errorTypes = doughnutChart("chart-error-types");
    return true;
  }

  const compactFmt = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
  const compactInt = (v) => (isNum(v) ? compactFmt.format(v) : DASH);

  // setSeries replaces a chart's labels and values and redraws without animation; empty
  // series (or series of nulls only) show the chart's "no data" note instead.
  function setSeries(chart, labels, data, colours) {
    if (!chart) return;
    const ds = chart.data.datasets[0];
    chart.data.labels = Array.isArray(labels) ? labels.slice() : [];
    ds.data = Array.isArray(data) ? data.map((v) => (isNum(v) ? v : null)) : [];
    if (colours) ds.backgroundColor = colours;
    fitBars(chart);
    chart.update("none");
    const empty = !ds.data.some((v) => v !== null);
    const note = chart.canvas.parentNode.querySelector(".sw-chart-empty");
    if (note) note.hidden = !empty;
    chart.canvas.classList.toggle("sw-faded", empty);
  }

  function renderCharts(resp) {
    const r = resp || {};
    const series = (s) => s || { labels: [], data: [] };
    setSeries(charts.duration, series(r.sync_duration_trend).labels, series(r.sync_duration_trend).data);
    setSeries(charts.rate, series(r.success_rate_trend).labels, series(r.success_rate_trend).data);
    setSeries(charts.records, series(r.records_by_crm).labels, series(r.records_by_crm).data);
    setSeries(charts.frequency, series(r.sync_frequency).labels, series(r.sync_frequency).data);
    if (isNum(r.days)) {
      const zone = r.time_zone && r.time_zone !== "UTC" ? r.time_zone : "UTC";
      document.getElementById("charts-hint").textContent = "last " + r.days + " days (" + zone + ")";
    }
  }

  function renderErrorTypes(resp) {
    const dist = (resp && resp.error_distribution) || { labels: [], data: [] };
    const labels = dist.labels || [];
    const colours = labels.map((l, i) => TYPE_COLOURS[l] || EXTRA_COLOURS[i % EXTRA_COLOURS.length]);
    setSeries(charts.errorTypes, labels, dist.data, colours);
  }

  // applyTheme follows the system's light or dark preference, for Bootstrap and the
  // charts; app.css paints the background before this runs, so there is no white flash.
  function applyTheme() {
    const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
    document.documentElement.dataset.bsTheme = dark ? "dark" : "light";
    const col = themeColours();
    for (const chart of Object.values(charts)) {
      const o = chart.options;
      if (o.scales && o.scales.x) {
        for (const axis of [o.scales.x, o.scales.y]) {
          axis.ticks.color = col.text;
          if (axis.grid.display !== false) axis.grid.color = col.grid;
          if (axis.border.display !== false) axis.border.color = col.grid;
        }
      }
      if (o.plugins.legend.labels) o.plugins.legend.labels.color = col.text;
      if (chart.config.type === "doughnut") chart.data.datasets[0].borderColor = col.surface;
      chart.update("none");
    }
  }

  // ---- stale figures and refresh state ------------------------------------------------

  const RENDER = {
    stats: renderStats,
    crm_status: renderCRMs,
    recent_syncs: renderRecent,
    charts: renderCharts,
    errors: (resp) => { renderErrors(resp); renderErrorTypes(resp); },
    system_health: renderHealth,
  };

  const state = {
    latest: {}, // the last good answer of each endpoint
    lastGood: 0, // Date.now() of the last refresh in which every endpoint answered
    figuresAt: 0, // when the server computed the figures shown (the stats' timestamp)
    failure: null, // { at, sections, reason } of the last refresh that failed, if it did
    inFlight: null,
    timer: 0,
    lastAttempt: 0,
  };

  function render(name, resp) {
    try {
      RENDER[name](resp);
    } catch (err) {
      // One section's surprise must not blank the others; the console tells developers.
      console.warn("syncwatch: cannot show " + name, err);
    }
  }

  function renderBanners() {
    const stale = Object.values(state.latest).filter((r) => r && r.stale);
    const staleBanner = document.getElementById("banner-stale");
    if (stale.length > 0) {
      const asOf = stale.map((r) => parseTime(r.timestamp)).filter(Boolean).sort((a, b) => a - b)[0];
      const since = stale.map((r) => parseTime(r.stale_since)).filter(Boolean).sort((a, b) => a - b)[0];
      staleBanner.replaceChildren(icon("warn"), " ",
        el("strong", null, "Showing figures from " + (asOf ? clockFmt.format(asOf) : "earlier") + "; "),
        "the sync history database cannot be reached" +
        (since ? " since " + clockFmt.format(since) : "") + ". They will update as soon as it answers.");
      staleBanner.hidden = false;
    } else {
      staleBanner.hidden = true;
    }
    const failBanner = document.getElementById("banner-failed");
    if (state.failure) {
      const f = state.failure;
      const kept = state.lastGood ? "the figures below are from " + clockSecondsFmt.format(new Date(state.lastGood)) : "no figures could be loaded yet";
      failBanner.replaceChildren(icon("cross"), " ",
        el("strong", null, "Refresh failed at " + clockSecondsFmt.format(new Date(f.at)) + ": "),
        f.reason + " (" + f.sections.join(", ") + "); " + kept + ". Trying again every " +
        Math.round(REFRESH_MS / 1000) + " s.");
      failBanner.hidden = false;
    } else {
      failBanner.hidden = true;
    }
    body.classList.toggle("sw-is-stale", stale.length > 0 || Boolean(state.failure));
  }

  function renderUpdated() {
    const node = document.getElementById("updated");
    let text;
    if (state.inFlight) text = "Updating…";
    else if (!state.lastGood) text = state.failure ? "Not updated" : "Loading…";
    else {
      // The age of the figures themselves: the server computes them once per interval,
      // so figures fetched just now may be some seconds old.
      const since = state.figuresAt || state.lastGood;
      const secs = Math.max(0, Math.round((Date.now() - since) / 1000));
      text = (state.failure ? "Last updated " : "Updated ") + fmtAgoSeconds(secs);
    }
    if (node.textContent !== text) node.textContent = text;
    node.classList.toggle("sw-tone-danger", Boolean(state.failure));
    if (state.lastGood) {
      node.title = "Figures computed at " + exactFmt.format(new Date(state.figuresAt || state.lastGood)) +
        "; received at " + exactFmt.format(new Date(state.lastGood));
    }
  }

  // noteFiguresTime remembers when the server computed the figures on the page.
  function noteFiguresTime() {
    const at = Date.parse((state.latest.stats || {}).timestamp);
    if (!Number.isNaN(at)) state.figuresAt = Math.min(at, Date.now());
  }

  function fmtAgoSeconds(secs) {
    if (secs < 60) return secs + " s ago";
    if (secs < 3600) return Math.floor(secs / 60) + " min " + (secs % 60) + " s ago";
    return fmtAgo(new Date(Date.now() - secs * 1000), Date.now());
  }

  // ---- fetching -----------------------------------------------------------------------

  async function fetchJSON(url) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
    try {
      const res = await fetch(url, {
        headers: { Accept: "application/json" },
        cache: "no-store",
        credentials: "same-origin",
        signal: ctl.signal,
      });
      let data = null;
      try {
        data = await res.json();
      } catch (_) {
        data = null;
      }
      if (!res.ok) {
        const msg = data && data.error && data.error.message;
        throw new Error(msg ? "the server answered " + res.status + ", " + msg : "the server answered " + res.status);
      }
      if (data === null || typeof data !== "object") throw new Error("the server's answer was not JSON");
      return data;
    } catch (err) {
      if (err.name === "AbortError") throw new Error("no answer within " + Math.round(FETCH_TIMEOUT_MS / 1000) + " s");
      if (err instanceof TypeError) throw new Error("the server cannot be reached");
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  // refresh asks every endpoint at once and shows each answer as it is; an endpoint that
  // fails keeps its last figures on the page, and the banner says so.
  // A refresh asked for by the viewer also asks the server to check the services now
  // (it coalesces such checks, so many viewers pressing the button cost one round).
  function refresh(byViewer) {
    if (state.inFlight) return state.inFlight;
    clearTimeout(state.timer);
    state.lastAttempt = Date.now();
    const button = document.getElementById("refresh-now");
    button.disabled = true;
    body.classList.add("sw-refreshing");
    state.inFlight = (async () => {
      const names = Object.keys(ENDPOINTS);
      const url = (n) => (byViewer && n === "system_health" ? ENDPOINTS[n] + "?check=now" : ENDPOINTS[n]);
      const results = await Promise.allSettled(names.map((n) => fetchJSON(url(n))));
      const failed = [];
      let reason = "";
      results.forEach((r, i) => {
        if (r.status === "fulfilled") {
          state.latest[names[i]] = r.value;
          render(names[i], r.value);
        } else {
          failed.push(SECTION_NAMES[names[i]]);
          reason = reason || r.reason.message;
        }
      });
      state.failure = failed.length ? { at: Date.now(), sections: failed, reason } : null;
      if (!failed.length) state.lastGood = Date.now();
      noteFiguresTime();
      body.dataset.refreshes = String(Number(body.dataset.refreshes || 0) + 1);
    })().finally(() => {
      state.inFlight = null;
      button.disabled = false;
      body.classList.remove("sw-refreshing");
      renderBanners();
      renderUpdated();
      schedule(REFRESH_MS);
    });
    renderUpdated();
    return state.inFlight;
  }

  function schedule(ms) {
    clearTimeout(state.timer);
    state.timer = setTimeout(onTimer, ms);
  }

  // onTimer refreshes unless the tab is hidden; then nothing is fetched until the tab
  // returns (see onVisibility), so a forgotten background tab costs no queries.
  function onTimer() {
    if (document.hidden) return;
    refresh();
  }

  function onVisibility() {
    if (document.hidden) {
      clearTimeout(state.timer);
      return;
    }
    const due = state.lastAttempt + REFRESH_MS - Date.now();
    if (due <= 0) refresh();
    else schedule(due);
  }

  // ---- start --------------------------------------------------------------------------

  function readInitial() {
    const node = document.getElementById("initial-data");
    if (!node) return {};
    try {
      return JSON.parse(node.textContent) || {};
    } catch (err) {
      console.warn("syncwatch: the page's first figures cannot be read", err);
      return {};
    }
  }

  function start() {
    applyTheme();
    if (!createCharts()) console.warn("syncwatch: Chart.js did not load; charts are left empty");
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", applyTheme);
    document.getElementById("viewer-zone").textContent =
      Intl.DateTimeFormat().resolvedOptions().timeZone || "your time zone";

    const initial = readInitial();
    let complete = true;
    for (const name of Object.keys(ENDPOINTS)) {
      // A part the page came without keeps its "Loading…" placeholder until fetched.
      if (initial[name]) {
        state.latest[name] = initial[name];
        render(name, initial[name]);
      } else {
        complete = false;
      }
    }
    state.lastAttempt = Date.now();
    if (complete) state.lastGood = Date.now();
    noteFiguresTime();
    renderBanners();
    renderUpdated();
    body.dataset.state = "ready";
    // How long after navigation began the page stood with its figures, for the
    // performance report (internal/perf's BenchmarkPageReady reads it).
    body.dataset.readyMs = String(Math.round(performance.now()));

    document.getElementById("refresh-now").addEventListener("click", () => refresh(true));
    document.addEventListener("visibilitychange", onVisibility);
    setInterval(renderUpdated, 1000);
    setInterval(tickRelative, 15000);
    // Figures the page came without are fetched at once; otherwise the next refresh is
    // one interval away.
    if (complete) schedule(REFRESH_MS);
    else refresh();
  }

  start();
})();
