package errclass

import (
	"strings"
)

// Type is the kind of failure an error message describes: one of the constants below,
// which are the values the API reports as error_type.
type Type string

// The error types, as the API contract names them.
const (
	// Timeout: a request, connection, query or task ran out of time.
	Timeout Type = "timeout"
	// RateLimit: the remote API refused because of request rate or quota (HTTP 429).
	RateLimit Type = "rate_limit"
	// Authentication: credentials were presented and refused (HTTP 401/403, bad or
	// expired key or token, wrong password).
	Authentication Type = "authentication"
	// Connection: the other side could not be reached or dropped the connection
	// (refused, reset, DNS, TLS, HTTP 502/503).
	Connection Type = "connection"
	// NotFound: the thing asked for does not exist (HTTP 404/410, "not found").
	NotFound Type = "not_found"
	// Validation: a request or response was malformed or refused as invalid
	// (HTTP 400/422, bad parameter, bad pagination token, unparseable JSON).
	Validation Type = "validation"
	// Database: the warehouse (PostgreSQL, MySQL, Athena) answered with an error
	// (constraint violation, missing table, failed query).
	Database Type = "database"
	// Configuration: keys, credentials or settings are missing.
	Configuration Type = "configuration"
	// Terminated: the run was stopped by a person, killed, or marked failed by the
	// stale-sync cleanup.
	Terminated Type = "terminated"
	// Unknown: there is no message (NULL, empty or only white space).
	Unknown Type = "unknown"
	// Other: a message that matches none of the rules.
	Other Type = "other"
)

// Types returns every Type, in the order the API contract lists them. The slice is new on
// every call, so callers may change it.
func Types() []Type {
	return []Type{
		Timeout, RateLimit, Authentication, Connection, NotFound, Validation,
		Database, Configuration, Terminated, Unknown, Other,
	}
}

// Classify decides the Type of a failed run from its error message alone; nil stands for a
// NULL column. The rules and their precedence are described in the package documentation
// and listed, in order, in rules.go. Classify is case-insensitive, runs in time linear in
// the length of the message, and never panics.
func Classify(message *string) Type {
	if message == nil {
		return Unknown
	}
	text := *message
	if strings.TrimSpace(text) == "" {
		return Unknown
	}
	whole := classifier.scan(text)
	// The stale-sync cleanup rewrote the outcome, whatever the run wrote before.
	if whole.has(ruleCleanup) {
		return Terminated
	}
	// In a Python traceback the last exception line states the cause; the frames above it
	// are code that merely mentions words. Trust it when it names a cause; when it is only
	// a wrapper ("Exception: Failed to fetch contacts"), the chained exceptions above may
	// say more, so read the whole text.
	if block := finalException(text); block != "" && len(block) < len(text) {
		if r, ok := classifier.scan(block).best(); ok && !rules[r].weak {
			return rules[r].typ
		}
	}
	if r, ok := whole.best(); ok {
		return rules[r].typ
	}
	return Other
}

// tracebackMarkers are the signs that a message holds a Python traceback.
var tracebackMarkers = []string{"Traceback (most recent call last)", "\n  File \""}

// finalException returns the text from the last line of a Python traceback that looks like
// an exception line ("requests.exceptions.ReadTimeout: …", "KeyError: 'x'") to the end, or
// "" when the text holds no traceback or no such line. It scans lines from the end, so it
// costs at most one pass over the text.
func finalException(text string) string {
	found := false
	for _, m := range tracebackMarkers {
		if strings.Contains(text, m) {
			found = true
			break
		}
	}
	if !found {
		return ""
	}
	end := len(text)
	for end > 0 {
		start := strings.LastIndexByte(text[:end], '\n') + 1
		if isExceptionLine(strings.TrimSuffix(text[start:end], "\r")) {
			return text[start:]
		}
		end = start - 1
	}
	return ""
}

// isExceptionLine reports whether line has the shape Python prints an exception in:
// unindented, a dotted name, then ": message" or nothing. An undotted name must be in
// CapWords ("KeyError", not "DETAIL"), so the DETAIL and HINT lines PostgreSQL adds under
// its message are not taken for the exception.
func isExceptionLine(line string) bool {
	i := 0
	lastDot := -1
	for i < len(line) {
		c := line[i]
		if c == '.' {
			if i == 0 || line[i-1] == '.' {
				return false
			}
			lastDot = i
		} else if !(c == '_' || isASCIILetter(c) || (i > 0 && isASCIIDigit(c))) {
			break
		}
		i++
	}
	if i == 0 || line[i-1] == '.' {
		return false
	}
	if i < len(line) && !(line[i] == ':' && (i+1 == len(line) || line[i+1] == ' ')) {
		return false
	}
	if lastDot >= 0 {
		return true
	}
	name := line[:i]
	if name[0] < 'A' || name[0] > 'Z' {
		return false
	}
	return strings.IndexFunc(name, func(r rune) bool { return r >= 'a' && r <= 'z' }) >= 0
}

func isASCIILetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isASCIIDigit(c byte) bool  { return c >= '0' && c <= '9' }
