// banner.js: shows what freshness.js decided: the page's one banner about stale or
// missing figures, and the "Updated 12 s ago" note of the top bar.

import { el, icon, setText } from "./dom.js";
import { banner, updatedNote } from "./freshness.js";

/**
 * showBanner shows the banner for the sources of a refresher in node, or hides it. The
 * node is rebuilt only when what it says changes, so a screen reader hears a red
 * banner (role alert) once, not on every refresh.
 */
export function showBanner(node, sources, refreshMs) {
  const b = banner(sources, refreshMs);
  const key = b.tone ? b.tone + "\n" + b.lead + b.text : "";
  if (node.dataset.key === key) return;
  node.dataset.key = key;
  node.dataset.tone = b.tone || "";
  if (!b.tone) {
    node.hidden = true;
    node.replaceChildren();
    return;
  }
  node.classList.toggle("alert-danger", b.tone === "danger");
  node.classList.toggle("alert-warning", b.tone === "warning");
  node.setAttribute("role", b.tone === "danger" ? "alert" : "status");
  node.replaceChildren(icon(b.tone === "danger" ? "cross" : "warn"),
    el("span", null, el("strong", null, b.lead), b.text));
  node.hidden = false;
}

/** showUpdated writes the note of how old the figures are (see freshness.updatedNote). */
export function showUpdated(node, facts) {
  const note = updatedNote(facts, Date.now());
  setText(node, note.text);
  node.classList.toggle("sw-tone-danger", Boolean(note.danger));
  if (note.title) node.title = note.title;
}
