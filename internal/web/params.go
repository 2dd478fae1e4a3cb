package web

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// badParam is a query parameter with a bad value; its message names the parameter and
// says what is accepted, and is safe to show (it never echoes the value).
type badParam struct{ msg string }

func (e *badParam) Error() string { return e.msg }

func badParamf(format string, args ...any) error {
	return &badParam{msg: fmt.Sprintf(format, args...)}
}

// parseQuery reads a raw query string strictly. url.Values drops a pair it cannot decode
// without a word, so ?limit=%zz would silently take the default limit; here a pair whose
// name is one of known and whose value is not valid percent-encoding is a 400 naming it.
// Unknown parameters are ignored, well-formed or not.
func parseQuery(raw string, known []string) (url.Values, error) {
	q := url.Values{}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		rawKey, rawValue, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			continue // not a name any endpoint knows
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			if slices.Contains(known, key) {
				return nil, badParamf("%s is not valid percent-encoding (%%XX with two hex digits)", key)
			}
			continue
		}
		q[key] = append(q[key], value)
	}
	return q, nil
}

// single returns a parameter's only value; a parameter given twice is ambiguous.
func single(q url.Values, name string) (string, bool, error) {
	values, ok := q[name]
	if !ok {
		return "", false, nil
	}
	if len(values) > 1 {
		return "", false, badParamf("%s is given more than once", name)
	}
	return values[0], true, nil
}

// intParam reads an integer parameter in [lo, hi], def when absent.
func intParam(q url.Values, name string, lo, hi, def int) (int, error) {
	raw, ok, err := single(q, name)
	if err != nil || !ok {
		return def, err
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, badParamf("%s must be a whole number from %d to %d", name, lo, hi)
	}
	return n, nil
}

// A source is what crm_source holds (varchar(50)): letters, digits and a few separators.
var sourcePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$`)

// A status word is letters with underscores or hyphens, at most the column's 20
// characters (the sync engines write lower case; others may not).
var statusPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z_-]{0,19}$`)

// recentParams reads the parameters of api/recent-syncs/.
func recentParams(q url.Values) (dashboard.RecentQuery, error) {
	var rq dashboard.RecentQuery
	var err error
	if rq.Limit, err = intParam(q, "limit", 1, dashboard.MaxRecentLimit, dashboard.DefaultRecentLimit); err != nil {
		return rq, err
	}
	crm, _, err := single(q, "crm")
	if err != nil {
		return rq, err
	}
	if source, ok := syncs.SourceNamed(crm); ok {
		crm = source // HubSpot, HUBSPOT and hubspot all mean hubspot
	}
	if crm != "" && !sourcePattern.MatchString(crm) {
		return rq, badParamf("crm must be a CRM source: 1 to 50 letters, digits, '_', '.' or '-'")
	}
	rq.CRMSource = crm
	status, _, err := single(q, "status")
	if err != nil {
		return rq, err
	}
	if status != "" && !statusPattern.MatchString(status) {
		return rq, badParamf("status must be a status word such as running, success, failed or partial")
	}
	// The sync engines write status words in lower case: SUCCESS means success.
	rq.Status = syncs.CanonicalStatus(strings.ToLower(status))
	return rq, nil
}

// daysParam reads the days parameter of the charts and errors.
func daysParam(q url.Values, def int) (int, error) {
	return intParam(q, "days", 1, dashboard.MaxDays, def)
}
