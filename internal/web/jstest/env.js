// env.js: the environment the unit tests expect. The page formats for the viewer's locale
// and time zone (Intl with no locale given), so the tests fix both: internal/web's
// TestJavaScriptUnits runs Node with LC_ALL=en_US.UTF-8 and TZ=UTC.

const locale = new Intl.NumberFormat().resolvedOptions().locale;
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (locale !== "en-US" || zone !== "UTC") {
  throw new Error("the JavaScript unit tests expect LC_ALL=en_US.UTF-8 and TZ=UTC, got " +
    locale + " and " + zone + ": run them with `go test ./internal/web -run TestJavaScript`");
}

/** plain replaces the no-break spaces some ICU versions put in times ("2:32 PM"). */
export const plain = (s) => String(s).replace(/[\u00a0\u202f]/g, " ");

/** at is the time of an RFC 3339 string, in ms since the epoch. */
export const at = (iso) => Date.parse(iso);
