// Package errclass reads the error messages of failed sync runs: Classify decides what
// kind of failure a message describes (the API's error_type), and Mask hides the secrets a
// message may carry (API keys in URLs, tokens, passwords) before it is shown.
//
// Both work on the message alone, as the sync engines wrote it (mostly Python's
// str(exception), sometimes a whole traceback, possibly cut by syncs.CutMessage into its
// first 3000 and last 1000 characters). Both are case-insensitive where words are
// concerned, linear in the length of the text, and safe on any input, invalid UTF-8
// included.
//
// # Classify
//
// A nil message (NULL), an empty one and one of white space only are "unknown". Otherwise
// phrases are looked for in the message; each belongs to a rule, and when several rules
// match, the first in this order wins:
//
//	#   type            matches (examples of the phrases; rules.go has them all)       example messages
//	--  --------------  -------------------------------------------------------------  --------------------------------------------------------------
//	1   terminated      the stale-sync cleanup's suffix: "cleanup_stale_syncs",       "… (auto-marked failed by cleanup_stale_syncs; no heartbeat
//	                    "auto-marked failed" (wins even over a traceback's last line)  for too long)"
//	2   terminated      stopped by a person or killed: "stopped by user", "process     "Sync stopped by user", "Sync process terminated unexpectedly",
//	                    terminated unexpectedly", "cleaned up stuck", SIGKILL, SIGTERM, "Cleaned up stuck process after 60 minutes",
//	                    WorkerLostError, KeyboardInterrupt, Celery's hard time limit   "WorkerLostError('Worker exited prematurely: signal 9 (SIGKILL)')"
//	3   configuration   missing keys, credentials or settings: "not configured",      "SalesRabbit API key not configured", "Five9 credentials not
//	                    "credentials not found", "environment variable", "missing api  found in environment variables", "No valid sheet configurations
//	                    key", "unable to locate credentials", ImproperlyConfigured,    found. Check GSHEET_202X_MARKETING_LEADS_ID environment
//	                    a frame reading os.environ                                     variables."
//	4   rate_limit      HTTP 429, "too many requests", "rate limit", "throttl…",       "HTTP 429: …", "429 Client Error: Too Many Requests for url: …",
//	                    "quota exceeded", HubSpot's "secondly limit"                   "CallRail API rate limit exceeded", "Rate limit exceeded, retry
//	                                                                                   after 30s"
//	5   authentication  HTTP 401/403, "unauthorized", "authentication failed",        "401 Client Error: Unauthorized for url: …", "CallRail
//	                    "forbidden", "access denied", "invalid api key/token",         authentication failed: …", "Authentication failed - invalid API
//	                    "token expired", "password authentication failed"             token"
//	6   timeout         HTTP 504/408, "…timeout…" (ReadTimeout, TimeoutError, but not  "HTTPSConnectionPool(host='…', port=443): Read timed out. (read
//	                    "timeout=30"), "timed out", "deadline exceeded",               timeout=30)", "requests.exceptions.ReadTimeout: …"
//	                    SoftTimeLimitExceeded
//	7   not_found       HTTP 404/410, "not found for url"                             "404 Client Error: Not Found for url: …", "API request failed
//	                                                                                   with status 404"
//	8   connection      HTTP 502/503, "connection refused/reset/aborted", "failed to   "… Max retries exceeded … [Errno 111] Connection refused",
//	                    connect", "can't connect", DNS failures, TLS errors, "server   "Failed to connect to Arrivy API: …", "Failed to connect to Five9
//	                    closed the connection", "broken pipe"                          API", "2003 (HY000): Can't connect to MySQL server on '…'"
//	9   database        a database object that "does not exist", "duplicate key",      "duplicate key value violates unique constraint \"…\"", "Query
//	                    "violates … constraint", psycopg/SQLAlchemy/MySQL errors,      execution failed: …", "Athena client initialization failed: …",
//	                    "deadlock", "syntax error at or near", "query execution        "psycopg2.errors.UniqueViolation: …"
//	                    failed", Athena
//	10  validation      HTTP 400/422, "bad request", "validation error", "invalid      "Invalid pagination token - CorrelationId: …", "ValueError: …",
//	                    parameter/value/date/…", "pagination token", JSONDecodeError,  "json.decoder.JSONDecodeError: Expecting value: …"
//	                    "is required", "malformed"
//	11  not_found       in words: "not found", "does not exist", "no such file",       "Contact matching query does not exist.", "Property x not found"
//	                    "could not find", …NotFound…
//	12  other           HTTP 500/501/505, "internal server error": the server failed;  "Failed to fetch deals: 500 Server Error: Internal Server Error
//	                    no type says more, and the weak rules below must not guess     for url: …"
//	13  connection (w)  urllib3's "Max retries exceeded" with no cause named           "HTTPSConnectionPool(…): Max retries exceeded with url: /x"
//	14  timeout (w)     "failed after N attempts/retries" with no cause named          "Request failed after 3 attempts: …"
//	15  authentication  a bare "authentication"                                       "Error during authentication"
//	    (w)
//	16  database (w)    a bare "database"                                             "Could not save batch to database"
//	17  validation (w)  "failed to fetch", a bare "invalid": the engines' fetch loops  "Failed to fetch contacts: …"
//	                    report requests the API refused
//	--  other           nothing matched                                                "Failed entities: leads, users", "All sheets failed to import",
//	                                                                                   "KeyError: 'properties'"
//
// Why this order: the earlier rules name the more specific cause, and the later ones are
// often the wrappers around them. A run stopped by a person or the cleanup was stopped,
// whatever it was doing. A missing key is not a refused one ("API key not configured"),
// and "credentials not found" is not a missing record. A rate limit explains the timeouts
// and retries around it, and some APIs send it as 403. An HTTP status is more precise than
// the words of the wrapper that reports it ("Failed to connect to Arrivy API: 404 Client
// Error…" is not_found). A timeout is a timeout even in "Connection to x timed out".
// "Can't connect to MySQL server" is connection, not database: the server was never
// reached, so the fix is in the network or the server's state, not in a query or a table;
// "database" means the database answered with an error. A "does not exist" about a table
// or column is database, about anything else not_found. Rules marked (w) are weak: they
// only name a wrapper ("Request failed after 3 attempts: …", "Failed to fetch contacts:
// …"), so all strong rules come before them and a weak rule decides only when no strong
// one matched anywhere. KeyError names a missing key, which may be in the data or in the
// configuration; the message alone cannot tell, so it is "other" (unless a frame shows
// os.environ).
//
// Tracebacks. When the message holds a Python traceback, its last exception line (an
// unindented "pkg.mod.ErrorName: message", with the lines under it) is classified first:
// the frames above it are code, whose words ("rate_limit", "timeout=") say nothing about
// this failure. If that line matches a strong rule, it decides; otherwise (a wrapper such
// as "Exception: Failed to fetch contacts", or "KeyError: 'x'") the whole text is
// classified, so a chained "HTTPError: 429" above still makes it rate_limit. The cleanup's
// suffix (rule 1) decides before all of this.
//
// How phrases match: ASCII letters case-insensitively; runs of white space, '_' and '-'
// as one separator ("rate limit" matches "RATE_LIMIT" and "Rate-Limit"); on word
// boundaries unless the phrase says otherwise ("invalid" does not match "invalidate";
// "…timeout…" matches "ReadTimeout"). A three-digit status counts only where it reads as
// an HTTP status ("HTTP 429", "status 404", "status_code=401", "<Response [429]>", "429
// Client Error", "401 Unauthorized"), so "Processed 404 records" is not a 404. URLs are
// skipped, so "/oauth/v1/token" or "?timeout=30" in a URL do not count. All phrases are
// found in a single pass over the text (an Aho–Corasick automaton), a few milliseconds for
// a 200 KB traceback at most.
//
// # Mask
//
// Mask replaces secret values with "***" and keeps their names:
//
//   - name=value, name: value, "name": "value", 'name': 'value', \"name\": \"value\" and
//     name => value, wherever they are: URL query strings ("?hapikey=***&limit=100"),
//     libpq connection strings, headers ("X-API-Key: ***"), JSON, Python reprs. A name is
//     secret when, lower-cased and without '-', '_' and '.', it is key, pass, sig, auth,
//     session, jwt or bearer, or ends with token, secret, password, passwd, pwd,
//     passphrase, credential(s), signature, authorization, auth, cookie, sessionid, apikey
//     (so hapikey, x-api-key), or one of the listed kinds of key (accesskey, secretkey,
//     privatekey, clientkey, appkey, …). So api_key, apiKey, X-API-Key, access_token,
//     refreshToken, client_secret, DB_PASSWORD and x-amz-signature are secret; monkey,
//     tokenizer, keyboard, bypass, primary_key and CorrelationId are not.
//   - A quoted value runs to its closing quote (or the end of the line); an unquoted one
//     to white space or one of & ; , " ' ` < > ( ) [ ] { } | \. An unquoted value after
//     "name = " (blanks around '=') is a line of Python code in a traceback ("token =
//     self.get_token()") and stays. null, true, false, None and nil stay.
//   - An authorization scheme before the credential is kept: "Authorization: Bearer ***",
//     "Basic ***", "Token ***". Outside a header, "Bearer x" is masked when x has at least
//     8 characters and a digit or punctuation, and "Basic x" when x is base64 of
//     user:password.
//   - The password of a URL: "https://user:***@host", "redis://:***@host",
//     "postgres://u:***@h/db". A password with '/', '?', '#', white space, quotes or
//     brackets unescaped is not recognised (RFC 3986 wants them percent-encoded).
//   - Bare tokens only when their format says they are credentials, by a prefix their
//     issuer puts on every token, which is kept: GitHub (ghp_…, github_pat_…), GitLab
//     (glpat-…), Slack (xoxb-…), AWS access key ids (AKIA…), Google API keys (AIza…),
//     Stripe (sk_live_…), OpenAI-style (sk-…), HubSpot private apps (pat-na1-…), JWTs
//     (eyJ….eyJ….…), and the bodies of PEM private keys. A long random-looking string with
//     no such prefix is left alone: it may as well be a record id, a CorrelationId, a UUID,
//     a hash or a pagination cursor, which an administrator needs to read.
//
// A value shorter than three bytes becomes as many stars as it has bytes, so Mask never
// lengthens a text; a value of stars only is already masked and stays. Where detections
// overlap, the one that starts first is masked whole and the others only past its end
// and the marker that ends it (closing quote, end of line, '@', "-----END "), so that a
// second Mask finds the same ends: Mask is idempotent. It cuts only next to ASCII bytes
// and writes only ASCII, so valid UTF-8 stays valid; invalid UTF-8 is passed through, not
// repaired. Mask does not escape HTML or anything else: that is the job of whoever writes
// the text into a page.
package errclass
