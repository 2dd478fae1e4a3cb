// section-health.js: the dashboard's system health (api/system-health/): a tile per
// component (the database, Celery's workers, Redis, and any HTTP endpoints checked) with
// its figures, and a pill per main component in the top bar.

import { DASH, fmtDuration, fmtInt, fmtMillis, fmtOne, isNum } from "./format.js";
import { append, byId, el, icon, timeEl } from "./dom.js";
import { healthStatus } from "./statuses.js";
import { unavailableText } from "./freshness.js";

const statusCode = (v) => (isNum(v) ? String(v) : DASH);

function memoryText(c) {
  if (!isNum(c.memory_used_mb)) return DASH;
  const used = fmtOne(c.memory_used_mb) + " MiB";
  const limit = isNum(c.memory_max_mb) ? c.memory_max_mb : c.memory_limit_mb; // Redis, RabbitMQ
  return isNum(limit) ? used + " of " + fmtOne(limit) : used;
}

// The figures shown for each kind of component: label, field, and how it is written
// (from the field's value, or from the whole check when the figure takes two fields).
const FIGURES = {
  database: [
    ["Response time", "response_time_ms", fmtMillis],
    ["Connections", "connection_count", fmtInt],
  ],
  celery: [
    ["Active workers", "active_workers", fmtInt],
    ["Pending tasks", "pending_tasks", fmtInt],
    ["Reserved tasks", "reserved_tasks", fmtInt],
    ["Oldest reserved", "oldest_reserved_seconds", fmtDuration],
    ["Broker ping", "response_time_ms", fmtMillis],
  ],
  redis: [
    ["Memory used", "memory_used_mb", null],
    ["Clients", "connected_clients", fmtInt],
    ["Ping", "response_time_ms", fmtMillis],
    ["Uptime", "uptime_seconds", fmtDuration],
  ],
  rabbitmq: [
    ["Connect time", "connect_time_ms", fmtMillis],
    ["Channel", "response_time_ms", fmtMillis],
    ["Ready", "messages_ready", fmtInt],
    ["Unacked", "messages_unacknowledged", fmtInt],
    ["Connections", "connections", fmtInt],
    ["Memory used", "memory_used_mb", null],
  ],
  endpoint: [
    ["HTTP status", "status_code", statusCode],
    ["Response time", "response_time_ms", fmtMillis],
  ],
};

const PILL_NAMES = { database: "Database", celery: "Celery", redis: "Redis", rabbitmq: "RabbitMQ" };

function pill(p) {
  const st = healthStatus(p.check);
  return el("a", {
    className: "sw-pill sw-tone-" + st.tone,
    title: p.name + ": " + st.label,
    attrs: { href: "#health" },
    dataset: { component: p.key, status: (p.check && p.check.status) || "" },
  }, icon(st.icon), el("span", null, PILL_NAMES[p.key]), el("span", { className: "visually-hidden" }, ": " + st.label));
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

function tile(p) {
  const c = p.check || {};
  const st = healthStatus(c);
  const dl = el("dl", { className: "sw-figures" });
  for (const [label, field, fmt] of FIGURES[p.key]) {
    dl.append(el("dt", null, label),
      el("dd", { className: "sw-num", dataset: { field, value: isNum(c[field]) ? c[field] : "" } },
        fmt ? fmt(c[field]) : memoryText(c)));
  }
  const body = el("div", { className: "sw-health sw-tone-" + st.tone, dataset: { component: p.key, status: c.status || "" } },
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
    p.key === "rabbitmq" && !c.management && c.status !== "not_configured"
      ? el("div", { className: "sw-sub sw-queue-note" },
        "Unacknowledged messages, memory and connections come from RabbitMQ's management API: give it with --rabbitmq-management-url.")
      : null,
    c.checked_at ? el("div", { className: "sw-sub" }, "checked ", timeEl(c.checked_at)) : null);
  return el("div", { className: "col-md-4" }, body);
}

/** healthSection fills the health tiles (#health-tiles) and pills (#health-pills). */
export function healthSection() {
  function render(resp) {
    const r = resp || {};
    const parts = [
      { key: "database", name: "Database", sub: r.database && r.database.label, check: r.database },
      { key: "celery", name: "Celery workers", sub: r.celery && r.celery.broker, check: r.celery },
    ];
    // The broker's card: RabbitMQ's when the broker is RabbitMQ; Redis's otherwise, or
    // as well when REDIS_URL names a Redis of its own (the Django cache).
    const redis = { key: "redis", name: "Redis", sub: r.redis && (r.redis.server || "") + (r.redis.version ? " · v" + r.redis.version : ""), check: r.redis };
    if (r.rabbitmq) {
      parts.push({ key: "rabbitmq", name: "RabbitMQ", sub: (r.rabbitmq.server || "") + (r.rabbitmq.version ? " · v" + r.rabbitmq.version : ""), check: r.rabbitmq });
      if (r.redis && r.redis.status !== "not_configured") parts.push(redis);
    } else {
      parts.push(redis);
    }
    for (const e of Array.isArray(r.endpoints) ? r.endpoints : []) {
      parts.push({ key: "endpoint", name: e.name, sub: e.url, check: e });
    }
    byId("health-tiles").replaceChildren(...parts.map(tile));
    byId("health-pills").replaceChildren(...parts.slice(0, 3).map(pill));
    const hint = byId("health-hint");
    hint.replaceChildren();
    if (r.timestamp) append(hint, ["checked ", timeEl(r.timestamp)]);
  }

  function unavailable(reason) {
    byId("health-tiles").replaceChildren(el("div", { className: "col-12 sw-empty-row sw-unavailable" },
      unavailableText("system health", reason)));
  }

  return { render, unavailable };
}
