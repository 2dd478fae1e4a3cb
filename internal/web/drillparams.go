package web

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/errclass"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// The parameters of the drill-down's endpoints. Every bad one is a 400 that names it.

// historyParamNames are the parameters of api/history/ and api/history.csv.
var historyParamNames = []string{"crm", "sync_type", "status", "error_type", "from", "to", "min_duration", "q", "limit", "cursor"}

const (
	// maxListValues bounds the values of crm and status.
	maxListValues = 20
	// maxMinDuration is the largest min_duration: a year, in seconds.
	maxMinDuration = 365 * 24 * 3600
)

// list reads a parameter that may hold several values: given more than once, or
// comma-separated, or both. Empty values are dropped.
func list(q url.Values, name string) ([]string, error) {
	var out []string
	for _, v := range q[name] {
		for part := range strings.SplitSeq(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	if len(out) > maxListValues {
		return nil, badParamf("%s takes at most %d values", name, maxListValues)
	}
	return out, nil
}

// plainText reports whether s is 1 to max characters of valid UTF-8 without control
// characters: what a name of the warehouse's can be, and what can be searched for.
func plainText(s string, max int) bool {
	return s != "" && utf8.ValidString(s) && utf8.RuneCountInString(s) <= max &&
		!strings.ContainsFunc(s, unicode.IsControl)
}

// sourceValue reads one CRM: a display name or a source in any case means that source;
// anything else is taken as stored (a source syncwatch does not know).
func sourceValue(name, v string) (string, error) {
	if source, ok := syncs.SourceNamed(v); ok {
		return source, nil
	}
	if !plainText(v, 50) || strings.Contains(v, ",") {
		return "", badParamf("%s must be a CRM source of 1 to 50 characters", name)
	}
	return v, nil
}

// timeParam reads an instant: RFC 3339 with its offset, or a date (midnight UTC).
func timeParam(q url.Values, name string) (time.Time, error) {
	raw, ok, err := single(q, name)
	if err != nil || !ok || raw == "" {
		return time.Time{}, err
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, raw); err == nil && t.Year() >= 1 && t.Year() <= 9998 {
			return t.UTC(), nil
		}
	}
	return time.Time{}, badParamf("%s must be a time such as 2025-10-09T10:30:00Z, or a date such as 2025-10-09", name)
}

// historyParams reads the parameters of api/history/ (export false) and api/history.csv
// (export true: limit is the most rows of the file).
func historyParams(q url.Values, export bool) (dashboard.HistoryQuery, error) {
	var hq dashboard.HistoryQuery
	var err error
	if export {
		hq.Limit, err = intParam(q, "limit", 1, dashboard.MaxExportRows, dashboard.DefaultExportRows)
	} else {
		hq.Limit, err = intParam(q, "limit", 1, dashboard.MaxHistoryLimit, dashboard.DefaultHistoryLimit)
	}
	if err != nil {
		return hq, err
	}
	crms, err := list(q, "crm")
	if err != nil {
		return hq, err
	}
	for _, v := range crms {
		source, err := sourceValue("crm", v)
		if err != nil {
			return hq, err
		}
		hq.CRMSources = append(hq.CRMSources, source)
	}
	syncType, _, err := single(q, "sync_type")
	if err != nil {
		return hq, err
	}
	if syncType != "" && !plainText(syncType, syncs.MaxWordLength) {
		return hq, badParamf("sync_type must be an entity's name of 1 to %d characters", syncs.MaxWordLength)
	}
	hq.SyncType = syncType
	statuses, err := list(q, "status")
	if err != nil {
		return hq, err
	}
	for _, st := range statuses {
		if !statusPattern.MatchString(st) {
			return hq, badParamf("status must be status words such as running, success, failed or partial, separated by commas")
		}
		hq.Statuses = append(hq.Statuses, syncs.CanonicalStatus(strings.ToLower(st)))
	}
	errorType, _, err := single(q, "error_type")
	if err != nil {
		return hq, err
	}
	if errorType != "" {
		if !slices.Contains(errclass.Types(), errclass.Type(errorType)) {
			return hq, badParamf("error_type must be one of %s", joinTypes())
		}
		hq.ErrorType = errorType
	}
	if hq.From, err = timeParam(q, "from"); err != nil {
		return hq, err
	}
	if hq.To, err = timeParam(q, "to"); err != nil {
		return hq, err
	}
	if !hq.From.IsZero() && !hq.To.IsZero() && !hq.To.After(hq.From) {
		return hq, badParamf("to must be after from")
	}
	if raw, ok, err := single(q, "min_duration"); err != nil {
		return hq, err
	} else if ok && raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 || n > maxMinDuration {
			return hq, badParamf("min_duration must be a whole number of seconds from 0 to %d", maxMinDuration)
		}
		hq.MinDurationSeconds = &n
	}
	text, _, err := single(q, "q")
	if err != nil {
		return hq, err
	}
	if text != "" && !plainText(text, dashboard.MaxSearchText) {
		return hq, badParamf("q must be 1 to %d characters of text to find in the error message", dashboard.MaxSearchText)
	}
	hq.Text = text
	cursor, _, err := single(q, "cursor")
	if err != nil {
		return hq, err
	}
	if cursor != "" {
		c, err := dashboard.ParseCursor(cursor)
		if err != nil {
			return hq, badParamf("cursor must be a next_cursor of an earlier page")
		}
		hq.Cursor = &c
	}
	return hq, nil
}

func joinTypes() string {
	var names []string
	for _, t := range errclass.Types() {
		names = append(names, string(t))
	}
	return strings.Join(names, ", ")
}

// crmDaysParam reads the days of a CRM's charts.
func crmDaysParam(q url.Values) (int, error) {
	return intParam(q, "days", 1, dashboard.MaxDays, 7)
}

// pathSource reads the source of a CRM's page from its path; false when it cannot be
// one (the page is then not found).
func pathSource(raw string) (string, bool) {
	if source, ok := syncs.SourceNamed(raw); ok {
		return source, true
	}
	return raw, plainText(raw, 50)
}

// pathRunID reads the id of a run's page from its path; false when it cannot be one.
func pathRunID(raw string) (int64, bool) {
	id, err := strconv.ParseInt(raw, 10, 64)
	return id, err == nil && id > 0 && strconv.FormatInt(id, 10) == raw
}
