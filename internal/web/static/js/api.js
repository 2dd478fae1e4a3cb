// api.js: asking syncwatch's JSON API. URLs are relative to the page, so a page works
// under any base path behind a proxy. A failure becomes an ApiError whose message is one
// short line a person can act on: the API's own message when it sent one
// ({"error": {"code", "message"}}), else what went wrong on the way.

import { oneLine } from "./format.js";

// A reason is one line; the API's messages are short, anything longer is cut.
const REASON_MAX = 160;

/** ApiError is a request to the API that gave no figures; message is its reason. */
export class ApiError extends Error {
  constructor(reason, status = 0, code = "") {
    super(reason);
    this.name = "ApiError";
    /** status is the HTTP status, or 0 when no answer came. */
    this.status = status;
    /** code is the API's error code ("unavailable", "bad_request"…), or "". */
    this.code = code;
  }
}

/**
 * errorFromAnswer makes the ApiError of an answer that is not a success: the API's
 * message (made one short line) when its body has one, else its status.
 */
export function errorFromAnswer(status, body) {
  const e = body && typeof body === "object" ? body.error : null;
  const message = e && typeof e.message === "string" ? oneLine(e.message, REASON_MAX) : "";
  const code = e && typeof e.code === "string" ? e.code : "";
  return new ApiError(message || "the server answered " + status, status, code);
}

/**
 * fetchJSON asks url for JSON and returns the decoded object. It gives up after
 * timeoutMs. Every failure is an ApiError: an answer that is not a success, an answer
 * that is not a JSON object, no answer in time, or no connection.
 * (fetchFn replaces the browser's fetch in tests.)
 */
export async function fetchJSON(url, { timeoutMs = 10000, fetchFn = globalThis.fetch } = {}) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    let res;
    try {
      res = await fetchFn(url, {
        headers: { Accept: "application/json" },
        cache: "no-store",
        credentials: "same-origin",
        signal: ctl.signal,
      });
    } catch (err) {
      if (err && err.name === "AbortError") throw timeoutError(timeoutMs);
      throw new ApiError("the server cannot be reached");
    }
    let data = null;
    try {
      data = await res.json();
    } catch (err) {
      if (err && err.name === "AbortError") throw timeoutError(timeoutMs);
      data = null;
    }
    if (!res.ok) throw errorFromAnswer(res.status, data);
    if (data === null || typeof data !== "object" || Array.isArray(data)) {
      throw new ApiError("the server's answer was not a JSON object", res.status);
    }
    return data;
  } finally {
    clearTimeout(timer);
  }
}

function timeoutError(ms) {
  return new ApiError("no answer within " + Math.round(ms / 1000) + " s");
}

/** reasonOf is the one-line reason of any error a request gave. */
export function reasonOf(err) {
  if (err instanceof ApiError) return err.message;
  return oneLine(err && err.message ? err.message : String(err), REASON_MAX) || "unknown error";
}
