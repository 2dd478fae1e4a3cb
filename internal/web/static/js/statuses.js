// statuses.js: how each status the API reports is shown. A status is never told by colour
// alone: each has a word, an icon shape (named here, drawn by dom.js) and a tone (a colour
// family of app.css). Pure data, no DOM.

const RUN_STATUS = {
  success: { label: "Success", icon: "check", tone: "success" },
  failed: { label: "Failed", icon: "cross", tone: "danger" },
  partial: { label: "Partial", icon: "bang", tone: "warning" },
  running: { label: "Running", icon: "spinner", tone: "info" },
  never: { label: "Never run", icon: "minus", tone: "muted" },
};

const STUCK = { label: "Stuck", icon: "warn", tone: "danger" };

/**
 * runStatus describes a run's (or a CRM's) status word. A running run past the stuck
 * threshold is "Stuck"; words the page does not know (skipped, cancelled…) are shown as
 * stored, in grey.
 */
export function runStatus(status, stuck) {
  if (status === "running" && stuck) return STUCK;
  return RUN_STATUS[status] || { label: String(status || "unknown"), icon: "question", tone: "muted" };
}

const HEALTH_STATUS = {
  healthy: { label: "Healthy", icon: "check", tone: "success" },
  degraded: { label: "Degraded", icon: "bang", tone: "warning" },
  unhealthy: { label: "Unhealthy", icon: "cross", tone: "danger" },
  not_configured: { label: "Not configured", icon: "minus", tone: "muted" },
};

/** healthStatus describes a component's health check; one not made yet is "Checking…". */
export function healthStatus(check) {
  if (check && check.pending) return { label: "Checking…", icon: "clock", tone: "muted" };
  return HEALTH_STATUS[check && check.status] || { label: "Unknown", icon: "question", tone: "muted" };
}
