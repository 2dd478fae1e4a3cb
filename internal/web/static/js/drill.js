// drill.js: what the drill-down's pages (a CRM, the history, one run) share: their first
// answer from the page itself, the breadcrumb, the line that says when the figures were
// computed, the banner that says when they could not be had, and a loop that keeps a
// page current while it is visible. Everything from the API goes in as text (dom.js).

import { byId, el, tickRelative } from "./dom.js";
import { fetchJSON, reasonOf } from "./api.js";
import { fmtClock, fmtClockSeconds, parseTime } from "./format.js";

const body = document.body;

/** ROOT leads from this page's URL back to the base path (../../ from crm/x/). */
export const ROOT = body.dataset.root || "";

/** REFRESH_MS is how often the server recomputes, and a page asks again. */
export const REFRESH_MS = Math.max(1, Number(body.dataset.refreshSeconds) || 30) * 1000;

const FETCH_TIMEOUT_MS = Math.max(10000, REFRESH_MS);

/** readInitial is the answer the page came with (page rendered by the server), or null. */
export function readInitial() {
  const node = document.getElementById("initial-data");
  if (!node) return null;
  try {
    const v = JSON.parse(node.textContent);
    return v && typeof v === "object" ? v : null;
  } catch (err) {
    console.warn("syncwatch: the page's first figures cannot be read", err);
    return null;
  }
}

/** setCrumbs appends steps ({text, href}; the last is the current page) to the breadcrumb. */
export function setCrumbs(steps) {
  const list = byId("crumbs");
  list.querySelectorAll("[data-step]").forEach((n) => n.remove());
  steps.forEach((s, i) => {
    const last = i === steps.length - 1;
    list.append(el("li", { dataset: { step: i }, attrs: last ? { "aria-current": "page" } : {} },
      s.href && !last ? el("a", { attrs: { href: s.href } }, s.text) : s.text));
  });
}

/** link is an <a> to href saying text (text inserted as text). */
export function link(href, text, className) {
  return el("a", { className, attrs: { href } }, text);
}

/** showProblem says in the banner why the page's figures could not be had; null clears it. */
export function showProblem(text, tone = "danger") {
  const node = byId("banner");
  node.hidden = text === null;
  node.className = "alert sw-banner alert-" + tone;
  node.textContent = text === null ? "" : text;
}

/** showUpdated says when the figures shown were computed, and whether they are stale. */
export function showUpdated(answer) {
  const at = parseTime(answer && answer.timestamp);
  const node = byId("updated");
  node.textContent = at ? "Figures of " + fmtClockSeconds(at) : "";
  if (answer && answer.stale) {
    const since = parseTime(answer.stale_since);
    showProblem("The database cannot be reached" + (since ? " since " + fmtClock(since, Date.now()) : "") +
      ": these are the last figures it gave.", "warning");
  }
}

/**
 * keepCurrent shows a page's answer and keeps it current: render(answer) paints it, url()
 * says where to ask. It paints initial (the answer the page came with) at once, or asks
 * for it; then, when intervalMs is set, asks again every interval while the page is
 * visible. unavailable(reason), when given, replaces what the page shows before its first
 * answer ("Loading…") when that answer cannot be had. It returns reload(), which asks at
 * once (after the viewer changed something url() reads).
 */
export function keepCurrent({ initial, url, render, intervalMs, unavailable }) {
  let timer = null;
  let asked = 0;

  function paint(answer) {
    body.dataset.painted = "1";
    showProblem(null);
    render(answer);
    showUpdated(answer);
    body.dataset.state = "ready";
    tickRelative();
  }

  async function ask() {
    const mine = ++asked;
    body.classList.add("sw-refreshing");
    try {
      const answer = await fetchJSON(url(), { timeoutMs: FETCH_TIMEOUT_MS });
      if (mine === asked) paint(answer);
    } catch (err) {
      if (mine !== asked) return;
      showProblem(reasonOf(err));
      if (unavailable && !body.dataset.painted) unavailable(reasonOf(err));
      body.dataset.state = "ready";
      body.dataset.error = err && err.code ? err.code : "error";
    } finally {
      if (mine === asked) body.classList.remove("sw-refreshing");
      schedule();
    }
  }

  function schedule() {
    clearTimeout(timer);
    if (intervalMs && !document.hidden) timer = setTimeout(ask, intervalMs);
  }

  document.addEventListener("visibilitychange", () => {
    if (!intervalMs) return;
    if (document.hidden) clearTimeout(timer);
    else ask();
  });
  setInterval(tickRelative, 15000);
  byId("viewer-zone").textContent = Intl.DateTimeFormat().resolvedOptions().timeZone || "your time zone";

  if (initial) {
    paint(initial);
    schedule();
  } else {
    ask();
  }
  return { reload: ask };
}
