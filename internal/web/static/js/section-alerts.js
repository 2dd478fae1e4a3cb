// section-alerts.js: what fires now (api/alerts/), at the top of the page. Each firing
// alert says what broke and since when, and links to its CRM's page; a channel that
// cannot deliver, or whose messages the hourly cap held back, is said here too (a
// notifier that silently broke is itself worth an alert). A CRM with a firing alert is
// marked in the CRM table.

import { fmtInt, oneLine } from "./format.js";
import { byId, el, icon, timeEl } from "./dom.js";
import { unavailableText } from "./freshness.js";

// The rules' names in words.
const TITLES = {
  sync_failing: "Sync failing",
  sync_stale: "No recent success",
  sync_stuck: "Sync stuck",
  schedule_overdue: "Schedule overdue",
  empty_runs: "Empty runs",
  workers_down: "Celery workers down",
  queue_backlog: "Queue backlog",
  warehouse_unreachable: "Warehouse unreachable",
};

const MESSAGE_PREVIEW = 160;

/** alertTitle names an alert: its rule in words and what it is about. */
export function alertTitle(a) {
  const labels = (a && a.labels) || {};
  const about = [labels.crm, labels.sync_type, labels.run_id ? "run " + labels.run_id : null, labels.queue]
    .filter((v) => v !== undefined && v !== null && v !== "");
  const rule = TITLES[a && a.name] || (a && a.name) || "Alert";
  return about.length ? rule + ": " + about.join(" · ") : rule;
}

/** crmPage is the relative URL of a CRM's page (under the base path, like every URL). */
export function crmPage(crm) {
  return "crm/" + encodeURIComponent(crm) + "/";
}

/** firingByCRM maps each CRM with a firing alert to the titles of its alerts. */
export function firingByCRM(answer) {
  const out = new Map();
  for (const a of (answer && answer.firing) || []) {
    if (!a.crm) continue;
    if (!out.has(a.crm)) out.set(a.crm, []);
    out.get(a.crm).push(alertTitle(a));
  }
  return out;
}

/**
 * channelNotes says what is wrong with the channels: one line each for a channel whose
 * last attempt failed, and for one whose messages the cap held back.
 */
export function channelNotes(answer) {
  const notes = [];
  for (const c of (answer && answer.channels) || []) {
    const name = c.kind + (c.target ? " (" + c.target + ")" : "");
    if (c.failing) {
      notes.push({ tone: "danger", channel: c.id, text: name + " cannot deliver: " + oneLineOf(c.last_error), at: c.last_error_at });
    }
    if (c.held_back > 0) {
      notes.push({ tone: "warning", channel: c.id,
        text: name + ": " + fmtInt(c.held_back) + (c.held_back === 1 ? " message" : " messages") + " held back by the hourly cap" });
    }
  }
  return notes;
}

function oneLineOf(text) {
  return oneLine(text || "no reason given", MESSAGE_PREVIEW);
}

/** alertsHint is the line in the section's header. */
export function alertsHint(answer) {
  if (!answer || answer.enabled === false) return "alerts are off";
  const firing = (answer.firing || []).length;
  const pending = (answer.pending || []).length;
  const channels = (answer.channels || []).length;
  const parts = [firing === 0 ? "nothing firing" : firing + " firing"];
  if (pending > 0) parts.push(pending + " pending");
  parts.push(channels === 0 ? "no channel configured" : channels + (channels === 1 ? " channel" : " channels"));
  if (answer.sender === false && channels > 0) parts.push("another replica sends");
  return parts.join(" · ");
}

function alertItem(a) {
  const critical = a.severity === "critical";
  const tone = critical ? "danger" : "warning";
  const title = alertTitle(a);
  const head = el("div", { className: "sw-alert-head" },
    el("span", { className: "sw-flag sw-tone-" + tone }, icon(critical ? "cross" : "bang"), critical ? "Critical" : "Warning"),
    a.crm
      ? el("a", { className: "sw-alert-title", attrs: { href: crmPage(a.crm) } }, title)
      : el("span", { className: "sw-alert-title" }, title),
    el("span", { className: "sw-sub-inline" }, "since ", timeEl(a.since)));
  const item = el("li", { className: "list-group-item sw-alert", dataset: { alert: a.name, crm: a.crm || "" } },
    head, el("div", { className: "sw-alert-summary" }, a.summary || ""));
  if (a.error_type) {
    item.append(el("div", { className: "sw-sub sw-alert-error" },
      el("code", null, a.error_type), a.error_message ? ": " + oneLineOf(a.error_message) : ""));
  }
  return item;
}

function noteItem(n) {
  return el("li", { className: "list-group-item sw-alert sw-alert-channel", dataset: { channel: n.channel } },
    el("div", { className: "sw-alert-head" },
      el("span", { className: "sw-flag sw-tone-" + n.tone }, icon("warn"), "Channel"),
      el("span", { className: "sw-alert-title" }, n.text),
      n.at ? el("span", { className: "sw-sub-inline" }, timeEl(n.at)) : null));
}

/**
 * markCRMs marks, in the CRM table (#crm-rows), each CRM with a firing alert: its row,
 * and a flag under its name that names the alerts and leads to them.
 */
export function markCRMs(answer) {
  const firing = firingByCRM(answer);
  for (const tr of byId("crm-rows").querySelectorAll("tr[data-source]")) {
    for (const old of tr.querySelectorAll(".sw-firing")) old.remove();
    const titles = firing.get(tr.dataset.source);
    tr.classList.toggle("sw-row-firing", Boolean(titles));
    if (!titles) continue;
    const name = tr.querySelector("th");
    name.append(el("a", {
      className: "sw-flag sw-tone-danger sw-firing",
      title: titles.join("\n"),
      attrs: { href: "#alerts-section" },
    }, icon("bang"), titles.length === 1 ? "Alert firing" : titles.length + " alerts firing"));
  }
}

/** alertsSection fills the alerts section (#alert-list, #alerts-hint). */
export function alertsSection() {
  let last = null;

  function render(resp) {
    last = resp;
    const section = byId("alerts-section");
    const items = [];
    if (resp && resp.enabled !== false) {
      for (const n of channelNotes(resp)) items.push(noteItem(n));
      for (const a of resp.firing || []) items.push(alertItem(a));
    }
    // With the alerts off there is nothing to say: the section is not shown.
    section.hidden = Boolean(resp && resp.enabled === false);
    section.classList.toggle("sw-alerts-firing", (resp && resp.firing && resp.firing.length > 0) || false);
    byId("alert-list").replaceChildren(...items);
    byId("alert-list").hidden = items.length === 0;
    byId("alerts-hint").textContent = alertsHint(resp);
    markCRMs(resp);
  }

  function unavailable(reason) {
    byId("alerts-section").hidden = false;
    byId("alert-list").replaceChildren(el("li", { className: "list-group-item sw-empty-row sw-unavailable" },
      unavailableText("alerts", reason)));
    byId("alert-list").hidden = false;
    byId("alerts-hint").textContent = "";
  }

  return { render, unavailable, markCRMs: () => markCRMs(last) };
}
