// dom.js: building the page's elements. Every string given here goes into the document as
// text (text nodes, textContent, attributes set one by one), never through innerHTML, so
// text from the database can never become markup.

import { DASH, fmtAgo, fmtClock, fmtExact, parseTime } from "./format.js";

/** byId returns the element with this id, or throws naming the id the page lacks. */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error("syncwatch: the page has no #" + id);
  return node;
}

/**
 * el builds an element. props: className, title, hidden, dataset (object), attrs
 * (object); children: nodes, strings and numbers (inserted as text), arrays of them, or
 * null, undefined and false (skipped).
 */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    if (props.className) node.className = props.className;
    if (props.title) node.title = props.title;
    if (props.hidden) node.hidden = true;
    for (const [k, v] of Object.entries(props.dataset || {})) node.dataset[k] = String(v);
    for (const [k, v] of Object.entries(props.attrs || {})) node.setAttribute(k, String(v));
  }
  return append(node, children);
}

/** append adds children to node as el does: strings as text, nothing as nothing. */
export function append(node, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** setText replaces node's content with text, touching the DOM only when it changed. */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
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
// Shapes drawn without the circle around them.
const OPEN_ICONS = new Set(["warn", "refresh"]);

/** icon draws one of the shapes above (an unknown name draws a question mark). */
export function icon(name) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "sw-icon");
  if (!OPEN_ICONS.has(name)) {
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

/** spinner is Bootstrap's small spinning circle, hidden from screen readers. */
export function spinner() {
  return el("span", { className: "spinner-border sw-spinner", attrs: { "aria-hidden": "true" } });
}

/** nullMark is the DASH of a figure that cannot be computed, in grey. */
export function nullMark(text) {
  return el("span", { className: "sw-null" }, text || DASH);
}

/**
 * timeEl shows an API timestamp as "3 min ago" (style "ago"), or as a clock time with
 * "ago" under it (style "clock"), with the exact time in the viewer's zone on hover.
 * tickRelative keeps the "ago" current.
 */
export function timeEl(iso, style) {
  const d = parseTime(iso);
  if (!d) return nullMark();
  const node = el("time", {
    title: fmtExact(d),
    attrs: { datetime: iso },
    dataset: { rel: style || "ago" },
  });
  fillTime(node, d, Date.now());
  return node;
}

function fillTime(node, d, now) {
  if (node.dataset.rel === "clock") {
    node.replaceChildren(
      el("span", { className: "sw-clock" }, fmtClock(d, now)),
      el("span", { className: "sw-ago" }, fmtAgo(d, now)),
    );
  } else {
    setText(node, fmtAgo(d, now));
  }
}

/** tickRelative rewrites every relative time under root for the present moment. */
export function tickRelative(root = document) {
  const now = Date.now();
  for (const node of root.querySelectorAll("time[data-rel]")) {
    const d = parseTime(node.getAttribute("datetime"));
    if (d) fillTime(node, d, now);
  }
}

/** emptyRow is a table row of one cell across cols columns, saying text. */
export function emptyRow(cols, text, className) {
  return el("tr", { className: "sw-empty-row" + (className ? " " + className : "") },
    el("td", { attrs: { colspan: cols } }, text));
}

/**
 * labelled names a cell for the phone layout, where app.css shows table rows as cards
 * and each value under its column's name.
 */
export function labelled(td, label) {
  td.dataset.label = label;
  return td;
}
