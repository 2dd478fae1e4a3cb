package errclass

import (
	"regexp"
	"strings"
)

// rule is one line of the classifier's table: a type, the phrases that signal it, and an
// optional check of each occurrence in its context. Rules are tried in the order of the
// table: when several match, the first wins. A weak rule names only a wrapper ("Failed to
// fetch contacts: …", "Request failed after 3 attempts: …") and never hides a strong rule
// of a later position: all strong rules precede all weak ones.
//
// Phrase syntax (see matcher.go): case-insensitive; white space, '_' and '-' are one
// separator; a phrase matches whole words unless a '*' at an end allows more letters there.
type rule struct {
	typ     Type
	weak    bool
	phrases []string
	// check, when set, must accept an occurrence: text is the whole text, end the offset
	// just past the occurrence.
	check func(text string, end int) bool
}

// ruleCleanup is the index of the stale-sync cleanup's rule, which wins over everything
// (see Classify).
const ruleCleanup = 0

// rules is the classifier's table, in precedence order. doc.go explains the order; keep
// both in step.
var rules = []rule{
	// 0. The nightly cleanup's suffix: the run never finished; what it wrote earlier is
	// not why it is failed.
	{typ: Terminated, phrases: []string{"cleanup_stale_syncs", "auto-marked failed"}},

	// 1. Stopped by a person or killed. Checked before every cause: a run stopped while
	// it was, say, retrying a timeout was stopped, not timed out.
	{typ: Terminated, phrases: []string{
		"stopped by user", "stopped by the user", "stopped by admin*", "stopped by an admin*",
		"stopped by operator", "cancelled by user", "canceled by user", "cancelled by the user",
		"canceled by the user", "aborted by user", "killed by user", "terminated by user",
		"terminated by admin*", "stopped manually", "manually stopped", "manually cancel*",
		"manually terminated", "manually killed", "sync stopped", "sync was stopped",
		"sync cancelled", "sync canceled", "sync was cancelled", "sync was canceled",
		"sync aborted", "sync killed", "sync process terminated", "process terminated unexpectedly",
		"process was terminated", "process was killed", "cleaned up stuck*", "stuck process",
		"no heartbeat*", "workerlosterror", "worker exited prematurely", "worker lost",
		"sigkill", "sigterm", "signal 9", "signal 15", "killed by signal", "oomkilled",
		"keyboardinterrupt", "hard time limit", "timelimitexceeded", "task revoked",
		"task was revoked",
	}},

	// 2. Missing keys, credentials or settings: before authentication ("API key not
	// configured" is not a refused key) and not_found ("credentials not found").
	{typ: Configuration, phrases: []string{
		"not configured", "is not set", "are not set", "not set in", "must be set",
		"misconfigur*", "improperlyconfigured", "improperly configured",
		"environment variable*", "env var", "env vars", "os.environ",
		"credentials not found", "credentials were not found", "credential not found",
		"credentials not provided", "credentials were not provided", "credentials missing",
		"credentials are missing", "missing credentials", "no credentials",
		"unable to locate credentials", "nocredentialserror", "partialcredentialserror",
		"api key not found", "api key is missing", "api key missing", "missing api key",
		"no api key", "api key is required", "api key required", "api token not found",
		"api token is missing", "missing api token", "no api token", "api token is required",
		"missing required setting*", "missing setting*", "setting not found",
		"settings not found", "missing configuration", "configuration missing",
		"configuration is missing", "configuration not found", "config not found",
		"no configuration*", "no valid configuration*", "configurations found",
		"configuration error", "invalid configuration", "invalid config",
	}},

	// 3. Rate limits and quotas: before authentication (some APIs answer 403 "rate limit
	// exceeded") and before the timeouts and connection errors of retry loops.
	{typ: RateLimit, phrases: []string{"429"}, check: httpStatus},
	{typ: RateLimit, phrases: []string{
		"too many requests", "rate limit*", "ratelimit*", "rate exceeded", "throttl*",
		"quota exceeded", "quota exhausted", "quotaexceeded", "exceeded your quota",
		"exceeded the quota", "over quota", "secondly limit", "daily limit",
		"ten secondly rolling", "api limit reached", "requestlimitexceeded",
		"429 error responses", // urllib3's "too many 429 error responses"
	}},

	// 4. Credentials presented and refused.
	{typ: Authentication, phrases: []string{"401", "403"}, check: httpStatus},
	{typ: Authentication, phrases: []string{
		"unauthorized", "unauthorised", "unauthenticated", "not authenticated",
		"authentication failed", "authentication failure", "authentication error",
		"authentication required", "authentication is required", "authentication credentials",
		"authenticationerror", "authenticationfailed", "auth failed", "auth error", "autherror",
		"authorization failed", "authorization error", "not authorized", "notauthorized*",
		"forbidden", "access denied", "accessdenied*", "insufficient permission*",
		"insufficient scope*", "missing scope*", "required scopes",
		"invalid api key", "invalid api token", "invalid token", "invalid access token",
		"invalid auth token", "invalid bearer token", "invalid refresh token",
		"invalid credentials", "invalid credential", "invalid api credentials",
		"invalid password", "invalid username or password", "invalid client", "invalid grant",
		"invalid signature", "api key is invalid", "api key invalid", "token is invalid",
		"signaturedoesnotmatch", "invalidclienttokenid", "unrecognizedclientexception",
		"expiredtoken*", "token expired", "token has expired", "token is expired",
		"expired token", "expired access token", "expired oauth*", "token revoked",
		"token has been revoked", "token was revoked", "bad credentials", "wrong password",
		"incorrect password", "incorrect username or password", "login failed",
		"password authentication failed",
	}},

	// 5. Out of time. Before connection: "Connection to x timed out" and urllib3's
	// ConnectTimeoutError are timeouts; requests' "HTTPSConnectionPool(…): Read timed out"
	// names a pool, not a connection failure.
	{typ: Timeout, phrases: []string{"504", "408"}, check: httpStatus},
	{typ: Timeout, phrases: []string{"*timeout*"}, check: notAnAssignment},
	{typ: Timeout, phrases: []string{
		"timed out", "*timedout*", "time out", "deadline exceeded", "deadlineexceeded",
		"took too long", "softtimelimitexceeded", "soft time limit",
	}},

	// 6. An HTTP 404 or 410 is precise even when a wrapper says "Failed to connect to
	// Arrivy API: 404 Client Error: Not Found for url: …".
	{typ: NotFound, phrases: []string{"404", "410"}, check: httpStatus},
	{typ: NotFound, phrases: []string{"not found for url"}},

	// 7. The other side could not be reached, or dropped the connection. Before database:
	// "2003 (HY000): Can't connect to MySQL server" and psycopg2's "could not connect to
	// server" mean the server was not reached, which the administrator fixes in the
	// network or the server's state, not in a query or a table.
	{typ: Connection, phrases: []string{"502", "503"}, check: httpStatus},
	{typ: Connection, phrases: []string{
		"bad gateway", "service unavailable", "service temporarily unavailable",
		"connection refused", "connectionrefused*", "connection reset", "connectionreset*",
		"connection aborted", "connectionaborted*", "connection closed",
		"connection was closed", "connection has been closed", "connection already closed",
		"connection lost", "lost connection", "connection error", "*connectionerror",
		"connection failed", "connection failure", "connection to server",
		"failed to establish", "failed to connect", "could not connect", "couldn't connect",
		"couldnt connect", "can't connect", "cant connect", "cannot connect",
		"unable to connect", "unable to reach", "could not reach", "unreachable",
		"no route to host", "name or service not known", "nodename nor servname",
		"temporary failure in name resolution", "name resolution", "could not resolve",
		"failed to resolve", "getaddrinfo", "could not translate host name", "unknown host",
		"unknown mysql server host", "server closed the connection", "remote end closed",
		"remotedisconnected", "broken pipe", "brokenpipeerror", "connection broken",
		"incompleteread", "chunkedencodingerror", "protocolerror", "econnrefused",
		"econnreset", "enotfound", "ehostunreach", "errno 111", "errno 104", "errno 113",
		"errno 101", "sslerror", "ssl error", "certificate verify failed", "ssl handshake",
		"proxyerror", "proxy error", "mysql server has gone away", "server has gone away",
		"terminating connection", "the database system is starting up",
		"the database system is shutting down",
	}},

	// 8. The warehouse answered with an error.
	{typ: Database, phrases: []string{"does not exist", "doesn't exist"}, check: afterDatabaseNoun},
	{typ: Database, phrases: []string{
		"duplicate key", "unique constraint", "violates foreign key constraint",
		"violates not null constraint", "violates check constraint", "integrityerror",
		"uniqueviolation", "foreignkeyviolation", "notnullviolation", "checkviolation",
		"psycopg*", "sqlalchemy", "django.db", "mysql.connector", "pymysql",
		"programmingerror", "operationalerror", "dataerror", "databaseerror",
		"deadlock*", "lock wait", "serialization failure", "could not serialize",
		"current transaction is aborted", "infailedsqltransaction", "syntax error at or near",
		"sql syntax", "value too long for type", "invalid input syntax",
		"invalid input value for enum", "numeric field overflow", "out of range for type",
		"null value in column", "database is locked", "no such table", "no such column",
		"unknown column", "undefinedtable", "undefinedcolumn", "table not found",
		"query execution failed", "query failed", "athena*", "sqlstate", "database error",
		"db error", "sql error", "datatype mismatch", "querycanceled", "canceling statement",
	}},

	// 9. A request or response refused as invalid.
	{typ: Validation, phrases: []string{"400", "422"}, check: httpStatus},
	{typ: Validation, phrases: []string{
		"bad request", "badrequest*", "unprocessable*", "validation error",
		"validation failed", "validationerror", "failed validation", "invalid input",
		"invalid parameter*", "invalid param", "invalid params", "invalid argument*",
		"invalid request", "invalid value*", "invalid field*", "invalid property",
		"invalid filter*", "invalid date*", "invalid format", "invalid json", "invalid query",
		"invalid cursor", "invalid page*", "invalid pagination", "invalid offset",
		"invalid limit", "invalid id", "pagination token", "jsondecodeerror", "json decode*",
		"expecting value", "valueerror", "malformed", "could not parse", "failed to parse",
		"unable to parse", "parse error", "parsing error", "is required", "required field*",
		"missing required field*", "missing required param*", "missing field*",
		"unknown field", "unknown property", "unknown parameter", "not a valid",
		"is not valid", "are not valid", "were not valid", "must be a", "must be an",
		"unexpected response", "unexpected format", "decodeerror", "unicodedecodeerror",
	}},

	// 10. Not found, said in words. After database ("relation \"x\" does not exist"),
	// configuration ("credentials not found") and connection ("host not found").
	{typ: NotFound, phrases: []string{
		"not found", "*notfound*", "does not exist", "doesn't exist", "doesnotexist",
		"no such file", "no such", "nosuch*", "could not find", "couldn't find", "cannot find",
		"can't find", "unable to find", "filenotfounderror",
	}},

	// 11. The remote server failed (HTTP 500, 501, 505): no type says more than "other",
	// but it must stop the weak rules below from guessing.
	{typ: Other, phrases: []string{"500", "501", "505"}, check: httpStatus},
	{typ: Other, phrases: []string{"internal server error"}},

	// Weak rules: wrappers whose own words hint at a cause, used only when nothing above
	// matched anywhere in the message.

	// urllib3 gives up with "Max retries exceeded" after connection-level failures.
	{typ: Connection, weak: true, phrases: []string{"max retries exceeded", "maxretryerror"}},
	// "Request failed after 3 attempts: …" wraps the retry loops that time out.
	{typ: Timeout, weak: true, phrases: []string{"failed after"}, check: beforeAttempts},
	{typ: Authentication, weak: true, phrases: []string{"authentication"}},
	{typ: Database, weak: true, phrases: []string{"database"}},
	// "Failed to fetch contacts: …" and a bare "invalid": the engines' fetch loops report
	// requests the API refused (real-world-facts.md lists them with the validation errors).
	{typ: Validation, weak: true, phrases: []string{"failed to fetch", "invalid"}},
}

// classifier is the compiled table. It is built once and only read afterwards.
var classifier = newMatcher(rules)

// Contexts in which a three-digit number is an HTTP status: after "HTTP", "HTTP/1.1",
// "status", "status code", "status_code", "\"status\":", "code", "error", "HTTPError",
// "<Response [", "returned", "got", "received" and at most four bytes of punctuation; or
// before "Client Error", "Unauthorized", "Not Found", … (requests' "429 Client Error:
// Too Many Requests"). Written out rather than as regexps: a message can hold thousands
// of numbers, and each costs a check.
var (
	statusWordsBefore = []string{
		"http", "httperror", "status", "statuscode", "status_code", "status-code", "code",
		"error", "response", "returned", "got", "received",
	}
	statusPhrasesAfter = []string{
		"client error", "server error", "unauthorized", "unauthorised", "forbidden",
		"not found", "too many requests", "bad request", "unprocessable", "bad gateway",
		"gateway timeout", "gateway time-out", "service unavailable", "internal server error",
		"request timeout", "request time-out", "gone", "not implemented",
	}
)

// httpStatus accepts a three-digit number only where it reads as an HTTP status, so that
// "Processed 404 records" is not a 404.
func httpStatus(text string, end int) bool {
	start := end - 3
	// The word before, past up to four bytes of punctuation.
	i := start
	for k := 0; k < 4 && i > 0 && !isStatusWordByte(text[i-1]); k++ {
		i--
	}
	j := i
	for j > 0 && i-j < 40 && isStatusWordByte(text[j-1]) {
		j--
	}
	word := text[j:i]
	if hasPrefixFold(word, "http/") {
		return true
	}
	if dot := strings.LastIndexByte(word, '.'); dot >= 0 {
		word = word[dot+1:] // requests.exceptions.HTTPError
	}
	for _, w := range statusWordsBefore {
		if strings.EqualFold(word, w) {
			return true
		}
	}
	// The reason phrase after, past up to three bytes of punctuation.
	i = end
	for k := 0; k < 3 && i < len(text) && !isWordByte(text[i]) && text[i] != '_'; k++ {
		i++
	}
	for _, p := range statusPhrasesAfter {
		if hasPrefixFold(text[i:], p) && (i+len(p) == len(text) || !isWordByte(text[i+len(p)])) {
			return true
		}
	}
	return false
}

func isStatusWordByte(c byte) bool {
	return isWordByte(c) || c == '_' || c == '-' || c == '.' || c == '/'
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// databaseNouns are the objects PostgreSQL and MySQL say "does not exist" about.
var databaseNouns = []string{
	"relation", "column", "table", "schema", "database", "function", "sequence", "role",
	"index", "constraint", "view", "operator", "extension", "trigger", "cursor",
	"statement", "savepoint",
}

// afterDatabaseNoun accepts "does not exist" when its line names a database object
// before it (within 160 bytes): `relation "x" does not exist`, `Table 'db.t' doesn't
// exist`; not Django's "Contact matching query does not exist" or HubSpot's "Property x
// does not exist".
func afterDatabaseNoun(text string, end int) bool {
	i := max(0, end-len("does not exist"))
	lo := max(0, i-160)
	for i > lo && text[i-1] != '\n' {
		if !isASCIILetter(text[i-1]) {
			i--
			continue
		}
		j := i
		for j > lo && isASCIILetter(text[j-1]) {
			j--
		}
		word := text[j:i]
		for _, n := range databaseNouns {
			if len(n) == len(word) && strings.EqualFold(n, word) {
				return true
			}
		}
		i = j
	}
	return false
}

var attempts = regexp.MustCompile(`(?i)^\s+\d+\s+(?:attempts|retries|tries)\b`)

// beforeAttempts accepts "failed after" when a number of attempts follows.
func beforeAttempts(text string, end int) bool {
	return attempts.MatchString(text[end:min(len(text), end+40)])
}

// notAnAssignment rejects "timeout=30", the parameter echoed in "(read timeout=30)" and
// in configuration dumps, which says what the limit was, not that it was reached.
func notAnAssignment(text string, end int) bool {
	i := end
	for i < len(text) && i < end+8 && text[i] == ' ' {
		i++
	}
	return i >= len(text) || text[i] != '='
}
