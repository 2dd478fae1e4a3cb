// section-overview.js: the overview cards of the dashboard (api/stats/): active syncs,
// the last 24 hours' completed, failed and partial runs, the success rate and the
// overdue CRMs. The cards are in page.html; this fills their [data-stat] values and
// [data-note] notes.

import { DASH, fmtInt, fmtPercent, isNum } from "./format.js";
import { append, byId, icon } from "./dom.js";

/** overviewSection fills the overview cards. */
export function overviewSection() {
  const values = () => document.querySelectorAll("[data-stat]");

  function setNote(key, content, tone) {
    const node = document.querySelector('[data-note="' + key + '"]');
    node.replaceChildren();
    append(node, [content]);
    node.className = "sw-stat-note" + (tone ? " sw-tone-" + tone : "");
  }

  function toggleCard(id, cls, on) {
    byId(id).classList.toggle(cls, Boolean(on));
  }

  function activeNote(o) {
    if (o.stuck_syncs > 0) return [icon("warn"), " " + fmtInt(o.stuck_syncs) + " stuck"];
    return o.active_syncs > 0 ? "none stuck" : "idle";
  }

  function render(resp) {
    const o = (resp && resp.overview) || {};
    for (const node of values()) {
      const key = node.dataset.stat;
      const v = o[key];
      node.dataset.value = v === null || v === undefined ? "" : String(v);
      node.parentNode.removeAttribute("title");
      node.textContent = key === "success_rate" ? fmtPercent(v) : fmtInt(v);
    }
    const finished = [o.completed_today, o.failed_today, o.partial_today]
      .reduce((a, b) => a + (isNum(b) ? b : 0), 0);
    setNote("active_syncs", activeNote(o), o.stuck_syncs > 0 ? "danger" : null);
    setNote("completed_today", "successful runs", null);
    setNote("failed_today", o.failed_today > 0 ? "see Recent errors" : "no failures", null);
    setNote("partial_today", "some records failed", null);
    setNote("success_rate", isNum(o.success_rate)
      ? "of " + fmtInt(finished) + " finished runs" : "no finished runs", null);
    setNote("overdue_crms", o.overdue_crms > 0 ? "missed a scheduled run" : "schedules on time",
      o.overdue_crms > 0 ? "warning" : null);
    toggleCard("card-active", "sw-stat-alert", o.stuck_syncs > 0);
    toggleCard("card-failed", "sw-stat-bad", o.failed_today > 0);
    toggleCard("card-overdue", "sw-stat-warn", o.overdue_crms > 0);
  }

  // The cards are small: each says "not loaded", and the banner says why.
  function unavailable(reason) {
    for (const node of values()) {
      node.dataset.value = "";
      node.textContent = DASH;
      setNote(node.dataset.stat, "not loaded", null);
      node.parentNode.title = "The overview could not be loaded: " + reason;
    }
  }

  return { render, unavailable };
}
