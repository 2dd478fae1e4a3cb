// links.js: the URLs of the drill-down's pages and of the API behind them, and the
// history's filters as they live in a URL. Every URL is relative to the page it is used
// on: root leads from that page back to the base path (nothing on the overview, ../ from
// history/, ../../ from crm/<source>/ and runs/<id>/), so the pages work under any base
// path behind a proxy. (A quoted dot-slash path here would be read as an import.) Pure functions: Node's test runner checks them.

/** FILTERS are the history's filters, in the order a URL writes them. */
export const FILTERS = ["crm", "sync_type", "status", "error_type", "from", "to", "min_duration", "q", "limit", "cursor"];

// The filters that hold several values, written comma-separated.
const LISTS = new Set(["crm", "status"]);

/** crmURL is a CRM's page. */
export function crmURL(root, source) {
  return root + "crm/" + encodeURIComponent(source) + "/";
}

/** runURL is one run's page. */
export function runURL(root, id) {
  return root + "runs/" + encodeURIComponent(String(id)) + "/";
}

/** crmAPI is a CRM's figures, with its charts over days. */
export function crmAPI(root, source, days) {
  return root + "api/crms/" + encodeURIComponent(source) + "/?days=" + encodeURIComponent(String(days));
}

/** runAPI is one run's figures. */
export function runAPI(root, id) {
  return root + "api/runs/" + encodeURIComponent(String(id)) + "/";
}

/**
 * emptyFilters is a filter object with nothing set: lists empty, other filters "".
 */
export function emptyFilters() {
  const f = {};
  for (const name of FILTERS) f[name] = LISTS.has(name) ? [] : "";
  return f;
}

/**
 * filterQuery writes filters (an object of the FILTERS, any missing) as a query string
 * without "?": only the filters set, in FILTERS' order, lists comma-separated.
 * except names filters to leave out.
 */
export function filterQuery(filters, except = []) {
  const q = new URLSearchParams();
  for (const name of FILTERS) {
    if (except.includes(name)) continue;
    const v = filters ? filters[name] : undefined;
    if (LISTS.has(name)) {
      const values = (Array.isArray(v) ? v : v ? [v] : []).map(String).filter((s) => s !== "");
      if (values.length) q.set(name, values.join(","));
    } else if (v !== undefined && v !== null && String(v) !== "") {
      q.set(name, String(v));
    }
  }
  return q.toString();
}

/** filtersFromQuery reads the filters of a query string ("?a=b…" or "a=b…"). */
export function filtersFromQuery(search) {
  const q = new URLSearchParams(search);
  const f = emptyFilters();
  for (const name of FILTERS) {
    const all = q.getAll(name);
    if (LISTS.has(name)) {
      f[name] = all.flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
    } else if (all.length) {
      f[name] = all[0];
    }
  }
  return f;
}

function withQuery(path, query) {
  return query ? path + "?" + query : path;
}

/** historyURL is the history page showing these filters. */
export function historyURL(root, filters) {
  return withQuery(root + "history/", filterQuery(filters));
}

/** historyAPI is the page of the history these filters ask for. */
export function historyAPI(root, filters) {
  return withQuery(root + "api/history/", filterQuery(filters));
}

/**
 * csvURL is the CSV of every row these filters select, from the newest: the page's
 * cursor and size do not apply to a file.
 */
export function csvURL(root, filters) {
  return withQuery(root + "api/history.csv", filterQuery(filters, ["cursor", "limit"]));
}

/**
 * localInputValue writes an RFC 3339 time as a datetime-local input's value in the
 * viewer's zone ("2025-10-09T12:30:05"); "" for anything else.
 */
export function localInputValue(iso) {
  const d = new Date(iso);
  if (typeof iso !== "string" || iso === "" || Number.isNaN(d.getTime())) return "";
  const p = (n) => String(n).padStart(2, "0");
  return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + "T" +
    p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
}

/**
 * instantFromInput reads a datetime-local input's value (the viewer's zone) as an RFC
 * 3339 time in UTC; "" for an empty or invalid value.
 */
export function instantFromInput(value) {
  if (typeof value !== "string" || value === "") return "";
  const d = new Date(value); // a date-time without offset is local time
  return Number.isNaN(d.getTime()) ? "" : d.toISOString().replace(".000Z", "Z");
}
