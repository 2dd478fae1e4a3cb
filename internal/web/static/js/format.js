// format.js: how syncwatch's pages write numbers, durations, rates and times. Pure
// functions of their arguments (and of the viewer's locale and time zone, through Intl):
// no DOM, no clock of their own, so Node's test runner checks them (internal/web/jstest).
//
// null, undefined and NaN mean "cannot be computed" and are written as DASH, never as 0.

/** DASH stands for a figure that cannot be computed. */
export const DASH = "—";

const numberFmt = new Intl.NumberFormat();
const oneDecimalFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const rateFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const compactFmt = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
const clockFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const clockSecondsFmt = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit", minute: "2-digit", second: "2-digit",
});
const dayClockFmt = new Intl.DateTimeFormat(undefined, {
  month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
});
const exactFmt = new Intl.DateTimeFormat(undefined, {
  weekday: "short", year: "numeric", month: "short", day: "numeric",
  hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short",
});

/** isNum tells a finite number from everything else (null, strings, NaN, Infinity). */
export const isNum = (v) => typeof v === "number" && Number.isFinite(v);

/** fmtInt writes a count with the viewer's digit grouping: "1,306". */
export const fmtInt = (v) => (isNum(v) ? numberFmt.format(v) : DASH);

/** fmtOne writes a number with at most one decimal: "1.8". */
export const fmtOne = (v) => (isNum(v) ? oneDecimalFmt.format(v) : DASH);

/** fmtPercent writes a percentage (0–100) with at most two decimals: "96.38 %". */
export const fmtPercent = (v) => (isNum(v) ? rateFmt.format(v) + " %" : DASH);

/** fmtCompact writes a large count short, for chart axes: "12.5K". */
export const fmtCompact = (v) => (isNum(v) ? compactFmt.format(v) : DASH);

/** fmtMillis writes a response time: "1.8 ms". */
export const fmtMillis = (v) => (isNum(v) ? oneDecimalFmt.format(v) + " ms" : DASH);

/** fmtRate writes a throughput in records per second: "4.6 rec/s". */
export const fmtRate = (v) => (isNum(v) ? oneDecimalFmt.format(v) + " rec/s" : DASH);

const pad2 = (n) => String(n).padStart(2, "0");

/**
 * fmtDuration writes seconds the way people read them: "8.5 s", "45 s", "2m 05s",
 * "1h 02m", "3d 4h".
 */
export function fmtDuration(sec) {
  if (!isNum(sec)) return DASH;
  if (sec < 0) return "-" + fmtDuration(-sec);
  // Rounded first, so 9.96 s is "10 s" and 59.6 s is "1m 00s", never "60 s".
  if (Math.round(sec * 10) / 10 < 10) return oneDecimalFmt.format(sec) + " s";
  const s = Math.round(sec);
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + "m " + pad2(s % 60) + "s";
  if (s < 86400) return Math.floor(s / 3600) + "h " + pad2(Math.floor((s % 3600) / 60)) + "m";
  return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * fmtAgo writes how far a time is from now (both in ms since the epoch, or Dates):
 * "just now", "45 s ago", "3 min ago", "5 h ago", "3 d ago", and "in 2 h" for the future.
 * Hours run up to two days, so "yesterday evening" reads as "26 h ago", not "1 d ago".
 */
export function fmtAgo(when, now) {
  const diff = Number(now) - Number(when);
  if (!Number.isFinite(diff)) return DASH;
  const abs = Math.abs(diff);
  if (abs < 5 * SECOND) return "just now";
  // Each unit is chosen after rounding, so 59.6 s is "1 min", never "60 s".
  const secs = Math.round(abs / SECOND);
  const mins = Math.round(abs / MINUTE);
  const hours = Math.round(abs / HOUR);
  let text;
  if (secs < 60) text = secs + " s";
  else if (mins < 60) text = mins + " min";
  else if (hours < 48) text = hours + " h";
  else text = Math.round(abs / DAY) + " d";
  return diff >= 0 ? text + " ago" : "in " + text;
}

/**
 * fmtAgoSeconds writes the age of figures to the second while it is short, for a note
 * that ticks every second: "12 s ago", "3 min 05 s ago", then as fmtAgo.
 */
export function fmtAgoSeconds(secs) {
  if (!isNum(secs)) return DASH;
  const s = Math.max(0, Math.round(secs));
  if (s < 60) return s + " s ago";
  if (s < 3600) return Math.floor(s / 60) + " min " + pad2(s % 60) + " s ago";
  return fmtAgo(0, s * SECOND);
}

/** fmtSpan writes a long stretch of time (ms) in words: "26 hours", "3 days". */
export function fmtSpan(ms) {
  if (!isNum(ms)) return DASH;
  const hours = Math.floor(ms / HOUR);
  if (hours < 48) return hours === 1 ? "1 hour" : hours + " hours";
  return Math.floor(hours / 24) + " days";
}

/** fmtClock writes a time as a clock time, with the date when it is not today. */
export function fmtClock(date, now) {
  const sameDay = new Date(now).toDateString() === date.toDateString();
  return sameDay ? clockFmt.format(date) : dayClockFmt.format(date);
}

/** fmtClockShort writes a time as hours and minutes: "14:32" or "02:32 PM". */
export const fmtClockShort = (date) => clockFmt.format(date);

/** fmtClockSeconds writes a time to the second: "14:32:05". */
export const fmtClockSeconds = (date) => clockSecondsFmt.format(date);

/** fmtExact writes a time in full, with its zone, for hover texts. */
export const fmtExact = (date) => exactFmt.format(date);

/** parseTime reads an API timestamp (RFC 3339); anything else is null. */
export function parseTime(iso) {
  if (typeof iso !== "string" || iso === "") return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * headline is the line of an error message that says what went wrong: the first, except
 * for a Python traceback, whose last line names the exception.
 */
export function headline(message) {
  if (typeof message !== "string") return "";
  const lines = message.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  if (lines.length === 0) return "";
  return lines[0].startsWith("Traceback (most recent call last)") ? lines[lines.length - 1] : lines[0];
}

/**
 * cut shortens text to at most max characters (code points, so an emoji or an accented
 * letter is never split), at a word boundary when one is near, and marks the cut with
 * "…". Text that fits is returned as it is.
 */
export function cut(text, max) {
  const chars = Array.from(String(text));
  if (chars.length <= max) return String(text);
  let kept = chars.slice(0, Math.max(0, max - 1)).join("");
  const space = kept.lastIndexOf(" ");
  if (space >= kept.length * 0.6) kept = kept.slice(0, space);
  return kept.replace(/[\s,;:.-]+$/u, "") + "…";
}

/**
 * oneLine makes a reason fit on one line: its headline, with runs of white space
 * collapsed, cut to max characters.
 */
export function oneLine(text, max = 160) {
  return cut(headline(String(text ?? "")).replace(/\s+/gu, " "), max);
}

/** listWords joins words for a sentence: "a", "a and b", "a, b and c". */
export function listWords(words) {
  if (words.length <= 1) return words.join("");
  return words.slice(0, -1).join(", ") + " and " + words[words.length - 1];
}

/** capitalize upper-cases the first letter: "recent activity" → "Recent activity". */
export function capitalize(text) {
  const s = String(text);
  return s.charAt(0).toUpperCase() + s.slice(1);
}
