package errclass

import (
	"slices"
	"strings"
	"testing"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

func ptr(s string) *string { return &s }

const readTimeoutTraceback = `Traceback (most recent call last):
  File "/app/ingestion/sync/arrivy/client.py", line 88, in _request
    response = self.session.get(url, params=params, timeout=30)
  File "/usr/local/lib/python3.11/site-packages/requests/sessions.py", line 602, in get
    return self.request("GET", url, **kwargs)
  File "/app/ingestion/sync/arrivy/client.py", line 41, in _respect_rate_limit
    self.rate_limiter.wait()
  File "/usr/local/lib/python3.11/site-packages/requests/adapters.py", line 713, in send
    raise ReadTimeout(e, request=request)
requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='app.arrivy.com', port=443): Read timed out. (read timeout=30)
`

const uniqueViolationTraceback = `Traceback (most recent call last):
  File "/usr/local/lib/python3.11/site-packages/django/db/backends/utils.py", line 89, in _execute
    return self.cursor.execute(sql, params)
psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint "genius_appointment_pkey"
DETAIL:  Key (id)=(48213) already exists.
`

const keyErrorTraceback = `Traceback (most recent call last):
  File "/app/ingestion/sync/hubspot/contacts.py", line 120, in transform
    record["email"] = item["properties"]["email"]
KeyError: 'properties'
`

const environKeyErrorTraceback = `Traceback (most recent call last):
  File "/app/ingestion/sync/salesrabbit/client.py", line 12, in __init__
    self.api_key = os.environ["SALESRABBIT_API_KEY"]
  File "<frozen os>", line 679, in __getitem__
KeyError: 'SALESRABBIT_API_KEY'
`

const chainedTraceback = `Traceback (most recent call last):
  File "/app/ingestion/sync/hubspot/client.py", line 77, in fetch_page
    response.raise_for_status()
requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: https://api.hubapi.com/crm/v3/objects/contacts?limit=100

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/ingestion/sync/hubspot/contacts.py", line 33, in sync
    raise Exception(f"Failed to fetch contacts: {e}")
Exception: Failed to fetch contacts
`

const keyboardInterruptTraceback = `Traceback (most recent call last):
  File "/app/manage.py", line 22, in <module>
    main()
  File "/app/ingestion/sync/genius/engine.py", line 310, in run
    time.sleep(self.delay)
KeyboardInterrupt
`

const softTimeLimitTraceback = `Traceback (most recent call last):
  File "/usr/local/lib/python3.11/site-packages/celery/app/trace.py", line 453, in trace_task
    R = retval = fun(*args, **kwargs)
  File "/app/ingestion/tasks.py", line 54, in sync_genius
    engine.run(force_overwrite=False)
celery.exceptions.SoftTimeLimitExceeded: SoftTimeLimitExceeded()
`

const sqlalchemyConnectionTraceback = `Traceback (most recent call last):
  File "/app/ingestion/sync/genius/db.py", line 30, in connect
    return engine.connect()
sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "warehouse" (10.0.0.5), port 5432 failed: Connection refused
	Is the server running on that host and accepting TCP/IP connections?

(Background on this error at: https://sqlalche.me/e/20/e3q8)
`

// cleanupSuffix is what the nightly cleanup appends to the message of a row it marks failed.
const cleanupSuffix = " (auto-marked failed by cleanup_stale_syncs; no heartbeat for too long)"

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		message *string
		want    Type
	}{
		// No message.
		{"a NULL message is unknown", nil, Unknown},
		{"an empty message is unknown", ptr(""), Unknown},
		{"a message of white space is unknown", ptr(" \n\t\u00a0"), Unknown},

		// rate_limit
		{"HTTP 429 is a rate limit", ptr("HTTP 429: Too Many Requests"), RateLimit},
		{"HubSpot's secondly limit is a rate limit", ptr(`HTTP 429: {"status":"error","message":"You have reached your secondly limit.","errorType":"RATE_LIMIT","policyName":"TEN_SECONDLY_ROLLING"}`), RateLimit},
		{"requests' 429 Client Error is a rate limit", ptr("429 Client Error: Too Many Requests for url: https://api.hubapi.com/crm/v3/objects/contacts?limit=100&after=35166"), RateLimit},
		{"a failed fetch of contacts with a 429 is a rate limit", ptr("Failed to fetch contacts: 429 Client Error: Too Many Requests for url: https://api.hubapi.com/crm/v3/objects/contacts?limit=100"), RateLimit},
		{"CallRail's rate limit message is a rate limit", ptr("CallRail API rate limit exceeded"), RateLimit},
		{"a rate limit with retry-after is a rate limit", ptr("Rate limit exceeded, retry after 30s"), RateLimit},
		{"upper case is read the same", ptr("RATE LIMIT EXCEEDED"), RateLimit},
		{"Athena throttling inside a failed query is a rate limit", ptr("Query execution failed: An error occurred (ThrottlingException) when calling the StartQueryExecution operation: Rate exceeded"), RateLimit},
		{"urllib3 giving up on 429s is a rate limit", ptr("Failed to fetch contacts: HTTPSConnectionPool(host='api.hubapi.com', port=443): Max retries exceeded with url: /crm/v3/objects/contacts?limit=100 (Caused by ResponseError('too many 429 error responses'))"), RateLimit},
		{"retries that end in a 429 are a rate limit", ptr("Request failed after 3 attempts: 429 Client Error: Too Many Requests for url: https://api.callrail.com/v3/a/123/calls.json"), RateLimit},

		// authentication
		{"requests' 401 is authentication", ptr("401 Client Error: Unauthorized for url: https://api.callrail.com/v3/a/123/calls.json?per_page=250"), Authentication},
		{"CallRail's authentication failure is authentication", ptr(`CallRail authentication failed: {"error":"HTTP Token: Access denied."}`), Authentication},
		{"an invalid API token is authentication", ptr("Authentication failed - invalid API token"), Authentication},
		{"a 403 is authentication", ptr("403 Client Error: Forbidden for url: https://api.salesrabbit.com/leads"), Authentication},
		{"a refused PostgreSQL password is authentication", ptr(`connection to server at "warehouse" (10.0.0.5), port 5432 failed: FATAL:  password authentication failed for user "sync"`), Authentication},
		{"an expired OAuth token is authentication", ptr(`{"status":"error","message":"The OAuth token used to make this call expired 2 hour(s) ago.","category":"EXPIRED_AUTHENTICATION"}`), Authentication},

		// timeout
		{"a read timeout is a timeout", ptr("HTTPSConnectionPool(host='app.arrivy.com', port=443): Read timed out. (read timeout=30)"), Timeout},
		{"retries that end in a read timeout are a timeout", ptr("Request failed after 3 attempts: HTTPSConnectionPool(host='x', port=443): Read timed out. (read timeout=30)"), Timeout},
		{"retries with no cause named are a timeout", ptr("Request failed after 3 attempts: None"), Timeout},
		{"a connect timeout is a timeout, not a connection error", ptr("HTTPSConnectionPool(host='api.five9.com', port=443): Max retries exceeded with url: /x (Caused by ConnectTimeoutError(<urllib3.connection.HTTPSConnection object at 0x7f2b>, 'Connection to api.five9.com timed out. (connect timeout=10)'))"), Timeout},
		{"a statement timeout is a timeout", ptr("canceling statement due to statement timeout"), Timeout},
		{"a 504 is a timeout", ptr("504 Server Error: Gateway Time-out for url: https://api.genius.com/v1/leads"), Timeout},
		{"a soft time limit is a timeout", ptr("SoftTimeLimitExceeded()"), Timeout},

		// connection
		{"a refused connection after retries is connection", ptr("HTTPSConnectionPool(host='api.salesrabbit.com', port=443): Max retries exceeded with url: /leads?page=2 (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f3a9c>: Failed to establish a new connection: [Errno 111] Connection refused'))"), Connection},
		{"failing to connect to Arrivy is connection", ptr("Failed to connect to Arrivy API: HTTPSConnectionPool(host='app.arrivy.com', port=443): Max retries exceeded with url: /api/tasks (Caused by NameResolutionError(\"<urllib3.connection.HTTPSConnection object at 0x7f>: Failed to resolve 'app.arrivy.com' ([Errno -3] Temporary failure in name resolution)\"))"), Connection},
		{"failing to connect to Five9 is connection", ptr("Failed to connect to Five9 API"), Connection},
		{"MySQL's 2003 is connection, not database", ptr("2003 (HY000): Can't connect to MySQL server on 'genius-db.example.com:3306' (111)"), Connection},
		{"a 503 is connection", ptr("503 Server Error: Service Unavailable for url: https://api.leadconduit.com/events"), Connection},
		{"urllib3 giving up with no cause named is connection", ptr("HTTPSConnectionPool(host='api.salespro.com', port=443): Max retries exceeded with url: /v1/jobs"), Connection},
		{"psycopg2 unable to reach the server is connection", ptr("could not connect to server: Connection refused\n\tIs the server running on host \"warehouse\" (10.0.0.5) and accepting\n\tTCP/IP connections on port 5432?"), Connection},

		// not_found
		{"requests' 404 is not found", ptr("404 Client Error: Not Found for url: https://api.callrail.com/v3/a/123/calls/CAL8f.json"), NotFound},
		{"a status 404 is not found", ptr("API request failed with status 404"), NotFound},
		{"a 404 inside a failed connection is not found", ptr("Failed to connect to Arrivy API: 404 Client Error: Not Found for url: https://app.arrivy.com/api/v2/tasks"), NotFound},
		{"Django's DoesNotExist is not found", ptr("Contact matching query does not exist."), NotFound},
		{"a 404 with keywords in its URL is still not found", ptr("404 Client Error: Not Found for url: https://api.hubapi.com/oauth/v1/token/rate_limit?timeout=30"), NotFound},

		// database
		{"a duplicate key is database", ptr("duplicate key value violates unique constraint \"hubspot_contact_pkey\"\nDETAIL:  Key (id)=(1042) already exists."), Database},
		{"a failed Athena query is database", ptr("Query execution failed: SYNTAX_ERROR: line 1:8: Column 'lead_idd' cannot be resolved"), Database},
		{"a failed Athena client is database", ptr("Athena client initialization failed: You must specify a region."), Database},
		{"a missing relation is database, not not found", ptr(`relation "orchestration.sync_history" does not exist`), Database},
		{"a missing MySQL table is database", ptr("1146 (42S02): Table 'genius.appointment' doesn't exist"), Database},

		// validation
		{"an invalid pagination token is validation, not authentication", ptr("Invalid pagination token - CorrelationId: 5b7a1c8e-9d55-4c1e-8f00-0a1b2c3d4e5f"), Validation},
		{"a failed fetch with no cause named is validation", ptr("Failed to fetch contacts: unexpected end of data"), Validation},
		{"a failed fetch of deals with bad input is validation", ptr(`Failed to fetch deals: {"status":"error","message":"Invalid input JSON on line 1","category":"VALIDATION_ERROR"}`), Validation},
		{"a 400 is validation", ptr("400 Client Error: Bad Request for url: https://api.hubapi.com/crm/v3/objects/deals/search"), Validation},

		// configuration
		{"an unconfigured SalesRabbit key is configuration", ptr("SalesRabbit API key not configured"), Configuration},
		{"missing Five9 credentials are configuration, not not found", ptr("Five9 credentials not found in environment variables"), Configuration},
		{"missing sheet settings are configuration", ptr("No valid sheet configurations found. Check GSHEET_202X_MARKETING_LEADS_ID environment variables."), Configuration},
		{"missing AWS credentials inside an Athena failure are configuration", ptr("Athena client initialization failed: Unable to locate credentials"), Configuration},

		// terminated
		{"a sync stopped by a user is terminated", ptr("Sync stopped by user"), Terminated},
		{"a sync process that died is terminated", ptr("Sync process terminated unexpectedly"), Terminated},
		{"a stuck process cleaned up is terminated", ptr("Cleaned up stuck process after 60 minutes"), Terminated},
		{"the cleanup's suffix alone is terminated", ptr(strings.TrimSpace(cleanupSuffix)), Terminated},
		{"the cleanup's suffix wins over an earlier timeout", ptr("Request failed after 3 attempts: Read timed out." + cleanupSuffix), Terminated},
		{"the cleanup's suffix wins over a traceback's last line", ptr(readTimeoutTraceback + cleanupSuffix), Terminated},
		{"a lost Celery worker is terminated", ptr("WorkerLostError('Worker exited prematurely: signal 9 (SIGKILL) Job: 12.')"), Terminated},
		{"Celery's hard time limit is terminated", ptr("TimeLimitExceeded: Hard time limit (1800s) exceeded for ingestion.tasks.sync_genius[5f1c]"), Terminated},

		// other
		{"a list of failed entities is other", ptr("Failed entities: leads, users"), Other},
		{"failed sheets are other", ptr("All sheets failed to import"), Other},
		{"a server error inside a failed fetch is other", ptr("Failed to fetch appointments: 500 Server Error: Internal Server Error for url: https://api.genius.com/v1/appointments"), Other},
		{"a number that is not a status is not a status", ptr("Processed 404 records before stopping early"), Other},
		{"invalidated is not invalid", ptr("Cache invalidated twice"), Other},

		// Tracebacks: the last exception line first.
		{"a traceback ending in ReadTimeout is a timeout though its frames mention rate limits", ptr(readTimeoutTraceback), Timeout},
		{"a traceback ending in UniqueViolation is database", ptr(uniqueViolationTraceback), Database},
		{"a traceback ending in KeyError is other", ptr(keyErrorTraceback), Other},
		{"a KeyError raised by os.environ is configuration", ptr(environKeyErrorTraceback), Configuration},
		{"a chained 429 under a wrapper exception is a rate limit", ptr(chainedTraceback), RateLimit},
		{"a traceback ending in KeyboardInterrupt is terminated", ptr(keyboardInterruptTraceback), Terminated},
		{"a traceback ending in SoftTimeLimitExceeded is a timeout", ptr(softTimeLimitTraceback), Timeout},
		{"a traceback ending in a refused SQLAlchemy connection is connection", ptr(sqlalchemyConnectionTraceback), Connection},
		{"a traceback with Windows line ends is read the same", ptr(strings.ReplaceAll(uniqueViolationTraceback, "\n", "\r\n")), Database},
		{"a long traceback cut by the store is classified by its tail", ptr(cutTraceback()), Timeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Classify(tt.message); got != tt.want {
				t.Errorf("Classify(%.200q) = %q, want %q", deref(tt.message), got, tt.want)
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// cutTraceback is a traceback of many kilobytes as a store returns it: cut in the middle
// by syncs.CutMessage, with frames that mention other error words in the part kept.
func cutTraceback() string {
	frame := "  File \"/app/ingestion/sync/genius/engine.py\", line 210, in _fetch_with_retry\n    self._handle_rate_limit(response)  # connection refused? database?\n"
	full := "Traceback (most recent call last):\n" + strings.Repeat(frame, 200) + strings.SplitN(readTimeoutTraceback, "\n", 2)[1]
	runes := []rune(full)
	head := string(runes[:syncs.MessageHead])
	tail := string(runes[len(runes)-syncs.MessageTail:])
	return syncs.CutMessage(head, tail, len(runes))
}

func TestClassifyReturnsOneOfTypes(t *testing.T) {
	t.Parallel()
	all := Types()
	for _, msg := range []string{"", "x", "\xff\xfe", "Traceback (most recent call last):\nKeyError", "HTTP 429"} {
		if got := Classify(&msg); !slices.Contains(all, got) {
			t.Errorf("Classify(%q) = %q, not one of Types()", msg, got)
		}
	}
}

func TestTypesListsEveryContractValueOnce(t *testing.T) {
	t.Parallel()
	want := []Type{"timeout", "rate_limit", "authentication", "connection", "not_found",
		"validation", "database", "configuration", "terminated", "unknown", "other"}
	if got := Types(); !slices.Equal(got, want) {
		t.Errorf("Types() = %q, want %q", got, want)
	}
	got := Types()
	got[0] = "changed"
	if Types()[0] != Timeout {
		t.Errorf("changing the slice Types returned changed the next one")
	}
}

// TestEveryPhraseMatchesItself checks the table: each phrase, written out as a message,
// must trigger its own rule (rules with a context check are exercised by TestClassify).
// A phrase that cannot match, for instance one hidden by normalisation, fails here.
func TestEveryPhraseMatchesItself(t *testing.T) {
	t.Parallel()
	for ri, r := range rules {
		if r.check != nil {
			continue
		}
		for _, p := range r.phrases {
			text := strings.Trim(p, "*")
			if got := classifier.scan(text); !got.has(ri) {
				t.Errorf("phrase %q does not match its own rule %d (%s)", p, ri, r.typ)
			}
		}
	}
}

func TestRulesFitInTheMatchSet(t *testing.T) {
	t.Parallel()
	if len(rules) > 64 {
		t.Errorf("len(rules) = %d, want at most 64 (matches is a 64-bit set)", len(rules))
	}
	if rules[ruleCleanup].typ != Terminated {
		t.Errorf("rules[ruleCleanup].typ = %q, want %q", rules[ruleCleanup].typ, Terminated)
	}
}

func TestMatcherTransformAgreesWithScan(t *testing.T) {
	t.Parallel()
	// The scan loop inlines transform; phrases compiled with transform must be found by
	// the scan in any text that contains them, whatever surrounds them.
	for _, tc := range []struct{ text, phrase string }{
		{"xx Rate-Limit yy", "rate limit"},
		{"RATE__LIMIT", "rate limit"},
		{"requests.exceptions.ReadTimeout: x", "*timeout*"},
		{"Can't   connect", "can't connect"},
		{"throttlingException", "throttl*"},
	} {
		m := newMatcher([]rule{{typ: Other, phrases: []string{tc.phrase}}})
		if !m.scan(tc.text).has(0) {
			t.Errorf("phrase %q not found in %q", tc.phrase, tc.text)
		}
	}
	for _, tc := range []struct{ text, phrase string }{
		{"invalidated", "invalid"},
		{"xrate limit", "rate limit"},
		{"https://x/rate_limit", "rate limit"},
	} {
		m := newMatcher([]rule{{typ: Other, phrases: []string{tc.phrase}}})
		if m.scan(tc.text).has(0) {
			t.Errorf("phrase %q found in %q, want no match", tc.phrase, tc.text)
		}
	}
}

func TestHTTPStatusContext(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]bool{
		"HTTP 429: x":                       true,
		"HTTP/1.1 429 Too Many":             true,
		"status 404":                        true,
		"with status code: 401":             true,
		"status_code=403":                   true,
		`{"status": 429}`:                   true,
		"<Response [429]>":                  true,
		"HTTPError: 429":                    true,
		"requests.exceptions.HTTPError 429": true,
		"429 Client Error: Too Many":        true,
		"(429) Too Many Requests":           true,
		"401 Unauthorized":                  true,
		"server returned 404":               true,
		"Processed 429 records":             false,
		"429":                               false,
		"line 429, in fetch":                false,
		"429 Gonements":                     false,
	} {
		i := strings.Index(text, "4")
		if got := httpStatus(text, i+3); got != want {
			t.Errorf("httpStatus(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestDatabaseNounBeforeDoesNotExist(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]bool{
		`relation "orchestration.x" does not exist`:                true,
		`column sh.foo does not exist`:                             true,
		`ERROR: function lower(integer) does not exist`:            true,
		"Table 'genius.appointment' doesn't exist":                 true,
		"Contact matching query does not exist":                    false,
		"relation\nProperty x does not exist":                      false,
		"Relations of property x do not matter; it does not exist": false,
	} {
		i := strings.Index(text, "does")
		end := i + len("does not exist")
		if strings.Contains(text, "doesn't") {
			i = strings.Index(text, "doesn't")
			end = i + len("doesn't exist")
		}
		if got := afterDatabaseNoun(text, end); got != want {
			t.Errorf("afterDatabaseNoun(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestIsExceptionLine(t *testing.T) {
	t.Parallel()
	for line, want := range map[string]bool{
		"KeyError: 'x'":                        true,
		"requests.exceptions.ReadTimeout: x":   true,
		"socket.timeout: timed out":            true,
		"KeyboardInterrupt":                    true,
		"psycopg2.errors.UniqueViolation: d":   true,
		"DETAIL:  Key (id)=(1) already exists": false,
		"  File \"x.py\", line 1, in f":        false,
		"Traceback (most recent call last):":   false,
		"During handling of the above":         false,
		"https://x.y/z":                        false,
		"":                                     false,
		"a..b: x":                              false,
	} {
		if got := isExceptionLine(line); got != want {
			t.Errorf("isExceptionLine(%q) = %v, want %v", line, got, want)
		}
	}
}

// bigTraceback is a 200 KB message: a deep traceback whose last line is the cause.
func bigTraceback() string {
	frame := "  File \"/usr/local/lib/python3.11/site-packages/ingestion/sync/hubspot/engine.py\", line 1234, in fetch_page\n    response = self.session.get(url, params={'limit': 100, 'after': cursor}, timeout=30)\n"
	var b strings.Builder
	b.WriteString("Traceback (most recent call last):\n")
	for b.Len() < 200<<10 {
		b.WriteString(frame)
	}
	b.WriteString("requests.exceptions.ConnectionError: ('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))\n")
	return b.String()
}

func TestClassifyBigMessage(t *testing.T) {
	t.Parallel()
	msg := bigTraceback()
	if got := Classify(&msg); got != Connection {
		t.Errorf("Classify(200 KB traceback) = %q, want %q", got, Connection)
	}
	plain := strings.Repeat("no cause here, only words and numbers 12345 ", 5000)
	if got := Classify(&plain); got != Other {
		t.Errorf("Classify(200 KB of plain words) = %q, want %q", got, Other)
	}
}

func BenchmarkClassify200KB(b *testing.B) {
	msg := bigTraceback()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		Classify(&msg)
	}
}

func BenchmarkClassifyShort(b *testing.B) {
	msg := "Failed to fetch contacts: 429 Client Error: Too Many Requests for url: https://api.hubapi.com/crm/v3/objects/contacts?limit=100"
	for b.Loop() {
		Classify(&msg)
	}
}
