package web_test

import (
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/browsertest"
	"github.com/syncwatch/syncwatch/internal/pgtest"
	"github.com/syncwatch/syncwatch/internal/storetest"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// unreadableJS lists what a viewer of the page cannot read in full, one line per defect:
//
//   - a box that clips or scrolls its content sideways (a table cut inside its card, a
//     word cut by overflow: hidden or an ellipsis), or a table cell, grid or flex item
//     whose content spills into its neighbour;
//   - a label drawn by CSS (::before, ::after: the column names of the phone cards) that
//     is wider than its box, where it is cut or runs into its neighbour (scrollWidth
//     cannot see those, so each is measured with a copy of its text);
//   - a number split from its unit across two lines ("24" then "h" alone below);
//   - a Chart.js legend drawn on a canvas whose words run past the canvas's edge.
//
// Elements inside a [hidden] ancestor or not rendered are skipped, and so is text for
// screen readers only (.visually-hidden), and anything inside an element marked
// data-may-scroll (none today: a part of a page that must scroll sideways would say so).
const unreadableJS = `(() => {
	const problems = [];
	const name = (el) => {
		let s = el.tagName.toLowerCase();
		if (el.id) s += "#" + el.id;
		else if (typeof el.className === "string" && el.className.trim()) s += "." + el.className.trim().split(/\s+/).join(".");
		const text = (el.innerText || el.textContent || "").trim().replace(/\s+/g, " ");
		return s + (text ? " \"" + text.slice(0, 50) + "\"" : "");
	};
	// Text for screen readers only is clipped to a pixel on purpose.
	const shown = (el) => el.getClientRects().length > 0 && !el.closest("[hidden], [data-may-scroll], .visually-hidden") &&
		getComputedStyle(el).visibility !== "hidden";
	const px = (v) => parseFloat(v) || 0;

	// The text of a pseudo-element's content: its quoted strings (attr() comes resolved).
	const contentText = (content) => (content.match(/"(?:[^"\\]|\\.)*"/g) || [])
		.map((q) => { try { return JSON.parse(q); } catch (_) { return q.slice(1, -1); } }).join("");
	const measure = (text, cs) => {
		const probe = document.createElement("span");
		for (const p of ["fontFamily", "fontSize", "fontWeight", "fontStyle", "fontStretch", "letterSpacing", "wordSpacing", "textTransform"]) probe.style[p] = cs[p];
		probe.style.position = "absolute";
		probe.style.visibility = "hidden";
		probe.style.whiteSpace = "pre";
		probe.textContent = text;
		document.body.append(probe);
		const w = probe.getBoundingClientRect().width;
		probe.remove();
		return w;
	};

	for (const el of document.body.querySelectorAll("*")) {
		if (!shown(el) || el instanceof SVGElement || el.tagName === "CANVAS") continue;
		const cs = getComputedStyle(el);
		// Content that spills out of a box that does not clip it is caught where an
		// ancestor clips it, or by the page's width; except out of a table cell or out of
		// a grid or flex item, where it runs into the neighbouring cell or item.
		const parent = el.parentElement ? getComputedStyle(el.parentElement).display : "";
		const spillMatters = cs.overflowX !== "visible" || /^(TD|TH)$/.test(el.tagName) || /(grid|flex)$/.test(parent);
		if (spillMatters && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
			problems.push(name(el) + ": its content is " + el.scrollWidth + " px wide in " + el.clientWidth +
				" px (overflow-x " + cs.overflowX + (cs.textOverflow === "ellipsis" ? ", ellipsis" : "") + ")");
		}
		for (const pseudo of ["::before", "::after"]) {
			const ps = getComputedStyle(el, pseudo);
			if (ps.display === "none") continue;
			const text = contentText(ps.content);
			if (!text.trim()) continue;
			// A label that may wrap needs room for its longest word; one that may not, for all of it.
			const pieces = /^(nowrap|pre)$/.test(ps.whiteSpace) ? [text] : text.split(/\s+/);
			const wide = Math.max(...pieces.map((p) => measure(p, ps)));
			const room = el.clientWidth - px(cs.paddingLeft) - px(cs.paddingRight);
			if (room > 0 && wide > room + 1) {
				problems.push(name(el) + pseudo + ": the label \"" + text + "\" needs " + Math.ceil(wide) + " px, its box has " + Math.floor(room) +
					(ps.textOverflow === "ellipsis" ? " (cut with an ellipsis)" : ""));
			}
		}
	}

	// A number and its unit on two lines.
	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	const unit = /\d[\d.,]*[\s\u00a0]+(?:h|s|d|min|ms|%|MiB|rec\/s)(?![\w])/g;
	for (let node = walker.nextNode(); node; node = walker.nextNode()) {
		if (!node.parentElement || !shown(node.parentElement)) continue;
		for (const m of node.data.matchAll(unit)) {
			const range = document.createRange();
			range.setStart(node, m.index);
			range.setEnd(node, m.index + m[0].length);
			const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
			if (tops.size > 1) problems.push(name(node.parentElement) + ": \"" + m[0] + "\" is split across lines");
		}
	}

	// Legends drawn on a canvas by Chart.js.
	if (window.Chart) {
		for (const chart of Object.values(Chart.instances)) {
			const legend = chart.legend;
			const opts = chart.options.plugins.legend;
			if (!legend || !opts || opts.display === false || !legend.legendHitBoxes) continue;
			const font = Chart.helpers.toFont(opts.labels.font, Chart.defaults.font);
			const box = opts.labels.boxWidth !== undefined ? opts.labels.boxWidth : font.size;
			chart.ctx.save();
			chart.ctx.font = font.string;
			legend.legendItems.forEach((item, i) => {
				const hit = legend.legendHitBoxes[i];
				const right = hit.left + box + font.size / 2 + chart.ctx.measureText(item.text).width;
				if (hit.left < 0 || right > chart.width + 1) {
					problems.push("the legend of " + name(chart.canvas) + ": \"" + item.text + "\" runs to " + Math.ceil(right) + " px on a canvas " + chart.width + " px wide");
				}
			});
			chart.ctx.restore();
		}
	}
	return problems;
})()`

// checkReadable fails for every text of the page that a viewer at this width cannot read
// in full (see unreadableJS), and for a page wider than the screen.
func checkReadable(t *testing.T, tab *browsertest.Tab, width int) {
	t.Helper()
	checkPageWidth(t, tab, width)
	for _, p := range browsertest.Eval[[]string](t, tab, unreadableJS) {
		t.Errorf("at %d px, %s", width, p)
	}
}

// readableWidths are the phone widths every state of the page is checked at: 360 px is a
// common Android width, 375 px an iPhone's.
var readableWidths = []int64{360, 375}

// seedEveryErrorType adds, three days back, one failed run of each error type syncwatch
// tells apart, as the sync engines word them, so the error analysis shows its longest
// legend ("authentication", "configuration"… and "unknown" for a run without message).
// They are older than each CRM's latest run, so no CRM's status changes.
func seedEveryErrorType(now time.Time) func(t *testing.T, db *pgtest.DB) {
	return func(t *testing.T, db *pgtest.DB) {
		t.Helper()
		at := now.Truncate(24 * time.Hour).Add(-3*24*time.Hour + 7*time.Hour)
		messages := []*string{
			ptr("Sync process terminated unexpectedly"),
			ptr("SalesRabbit API key not configured"),
			ptr("429 Client Error: Too Many Requests for url: https://api.hubapi.example/crm/v3/objects/deals"),
			ptr("401 Client Error: Unauthorized for url: https://api.five9.example/v1/calls"),
			ptr("requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='api.arrivy.example', port=443): Read timed out."),
			ptr("404 Client Error: Not Found for url: https://api.salespro.example/v2/appointments"),
			ptr("Failed to connect to Arrivy API: [Errno 111] Connection refused"),
			ptr(`duplicate key value violates unique constraint "leads_pkey"`),
			ptr("json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)"),
			ptr("KeyError: 'properties'"),
			nil, // unknown
		}
		var rows []storetest.Row
		for i, msg := range messages {
			start := at.Add(time.Duration(i) * time.Minute)
			rows = append(rows, storetest.Row{CRMSource: "hubspot", SyncType: "deals", Status: syncs.StatusFailed,
				Start: start, End: ptr(start.Add(20 * time.Second)), ErrorMessage: msg})
		}
		db.Insert(t, rows...)
	}
}
