package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// kind is a way a run fails, with the message a sync engine writes for it: the shapes of
// real-world-facts.md, each written by the engines that write it there.
type kind int

const (
	kindHTTP429 kind = iota
	kindTooManyRequestsURL
	kindCallRailRateLimit
	kindRateLimitRetry
	kindUnauthorizedKeyInURL
	kindCallRailAuth
	kindAuthInvalidToken
	kindReadTimeout
	kindRetriesTimeout
	kindConnectionRefused
	kindConnectArrivy
	kindConnectFive9
	kindMySQLConnect
	kindNotFoundKeyInURL
	kindAPIStatus404
	kindDuplicateKey
	kindQueryFailed
	kindAthena
	kindPagination
	kindFetchFailed
	kindSalesRabbitKey
	kindFive9Credentials
	kindSheetConfig
	kindStoppedByUser
	kindProcessTerminated
	kindCleanedUpStuck
	kindAllSheetsFailed
	kindMySQLLost
	kindBigTraceback
	kindServerError
	kindTerminated
	kindNoMessage
)

// cleanupSuffix is what the warehouse's nightly cleanup_stale_syncs appends to the message
// of a row it marks failed; cleanupBase stands for the message of a row that had none.
const (
	cleanupSuffix = " (auto-marked failed by cleanup_stale_syncs; no heartbeat for too long)"
	cleanupBase   = "Sync started"
)

// failure is how long a run of a kind lasts before it fails, as a share of a normal run
// (or a fixed time for the kinds that fail at once or after fixed retries), and whether
// it got through part of its records first.
func (k kind) failure(r *rand.Rand, normal time.Duration) (time.Duration, float64) {
	switch k {
	case kindUnauthorizedKeyInURL, kindCallRailAuth, kindAuthInvalidToken, kindSalesRabbitKey,
		kindFive9Credentials, kindSheetConfig, kindAthena:
		return between(r, 150*time.Millisecond, 1500*time.Millisecond), 0
	case kindReadTimeout:
		return 30*time.Second + between(r, 0, 4*time.Second), r.Float64() * 0.6
	case kindRetriesTimeout:
		return 3*30*time.Second + between(r, 2*time.Second, 15*time.Second), r.Float64() * 0.6
	case kindConnectionRefused, kindConnectArrivy, kindConnectFive9, kindMySQLConnect:
		return between(r, 2*time.Second, 20*time.Second), 0
	case kindHTTP429, kindTooManyRequestsURL, kindCallRailRateLimit, kindRateLimitRetry:
		return between(r, 5*time.Second, 60*time.Second), r.Float64() * 0.8
	case kindStoppedByUser, kindTerminated, kindProcessTerminated:
		return time.Duration(float64(normal) * (0.2 + r.Float64())), r.Float64() * 0.5
	case kindCleanedUpStuck:
		return 60*time.Minute + between(r, 0, 4*time.Minute), r.Float64() * 0.3
	}
	return time.Duration(float64(normal) * (0.1 + 0.9*r.Float64())), r.Float64() * 0.9
}

// message is the text a run of c syncing e writes when it fails this way at t; nil for a
// failure that leaves no message (an engine that sets the status and nothing else).
func (k kind) message(r *rand.Rand, c *crm, e entity, t time.Time) *string {
	if k == kindNoMessage {
		return nil
	}
	return ptr(k.text(r, c, e, t))
}

func (k kind) text(r *rand.Rand, c *crm, e entity, t time.Time) string {
	url := e.endpoint
	if url == "" {
		url = "https://" + c.host + "/api/" + e.name
	}
	switch k {
	case kindHTTP429:
		return "HTTP 429: Too Many Requests - You have reached your ten_secondly_rolling limit."
	case kindTooManyRequestsURL:
		return "429 Client Error: Too Many Requests for url: " + url + "?start_date=" + t.Add(-time.Hour).Format("2006-01-02") + "&per_page=250&page=" + fmt.Sprint(2+r.IntN(30))
	case kindCallRailRateLimit:
		return "CallRail API rate limit exceeded"
	case kindRateLimitRetry:
		return fmt.Sprintf("Rate limit exceeded, retry after %ds", []int{30, 30, 60, 15}[r.IntN(4)])
	case kindUnauthorizedKeyInURL:
		// Legacy HubSpot API keys travel in the URL: the page must mask it.
		return "401 Client Error: Unauthorized for url: " + url + "?hapikey=demo-5f1c2a7e-8b3d-4c9e-a6f0-2d7b9e1c4a83&limit=100&archived=false"
	case kindCallRailAuth:
		return `CallRail authentication failed: 401 {"error":"HTTP Token: Access denied."}`
	case kindAuthInvalidToken:
		return "Authentication failed - invalid API token"
	case kindReadTimeout:
		return fmt.Sprintf("HTTPSConnectionPool(host='%s', port=443): Read timed out. (read timeout=30)", c.host)
	case kindRetriesTimeout:
		return fmt.Sprintf("Request failed after 3 attempts: HTTPSConnectionPool(host='%s', port=443): Read timed out. (read timeout=30)", c.host)
	case kindConnectionRefused:
		return fmt.Sprintf("HTTPSConnectionPool(host='%s', port=443): Max retries exceeded with url: /%s (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f%010x>: Failed to establish a new connection: [Errno 111] Connection refused'))",
			c.host, e.name, r.Uint64()&0xffffffffff)
	case kindConnectArrivy:
		return fmt.Sprintf("Failed to connect to Arrivy API: HTTPSConnectionPool(host='%s', port=443): Max retries exceeded with url: /api/%s (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f%010x>: Failed to establish a new connection: [Errno 111] Connection refused'))",
			c.host, e.name, r.Uint64()&0xffffffffff)
	case kindConnectFive9:
		return "Failed to connect to Five9 API"
	case kindMySQLConnect:
		return "2003 (HY000): Can't connect to MySQL server on 'genius-db.internal:3306' (111)"
	case kindNotFoundKeyInURL:
		return "404 Client Error: Not Found for url: " + url + "?api_key=lc_demo_9f8e7d6c5b4a3210fedc&limit=500"
	case kindAPIStatus404:
		return "API request failed with status 404"
	case kindDuplicateKey:
		return fmt.Sprintf("duplicate key value violates unique constraint \"genius_%s_pkey\"\nDETAIL:  Key (id)=(%d) already exists.", strings.TrimSuffix(e.name, "s"), 100000+r.IntN(900000))
	case kindQueryFailed:
		return fmt.Sprintf("Query execution failed: (1205, 'Lock wait timeout exceeded; try restarting transaction') [SELECT * FROM %s WHERE updated_at >= '%s' ORDER BY id LIMIT 5000]",
			e.name, t.Add(-2*time.Hour).Format("2006-01-02 15:04:05"))
	case kindAthena:
		return "Athena client initialization failed: An error occurred (UnrecognizedClientException) when calling the StartQueryExecution operation: The security token included in the request is invalid."
	case kindPagination:
		return fmt.Sprintf("Invalid pagination token - CorrelationId: %08x-%04x-%04x-%04x-%012x",
			r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()&0xffffffffffff)
	case kindFetchFailed:
		return fmt.Sprintf("Failed to fetch %s: 400 Client Error: Bad Request for url: %s?after=%d", e.name, url, r.IntN(1_000_000))
	case kindSalesRabbitKey:
		return "SalesRabbit API key not configured"
	case kindFive9Credentials:
		return "Five9 credentials not found in environment variables"
	case kindSheetConfig:
		return "No valid sheet configurations found. Check GSHEET_202X_MARKETING_LEADS_ID environment variables."
	case kindStoppedByUser:
		return "Sync stopped by user"
	case kindProcessTerminated, kindTerminated:
		return "Sync process terminated unexpectedly"
	case kindCleanedUpStuck:
		return "Cleaned up stuck process after 60 minutes"
	case kindAllSheetsFailed:
		return "All sheets failed to import"
	case kindMySQLLost:
		return mysqlTraceback(c, e)
	case kindBigTraceback:
		return bigTraceback(r, c, e)
	case kindServerError:
		return "500 Server Error: Internal Server Error for url: " + url
	}
	return "Unexpected error"
}

// mysqlTraceback is a whole Python traceback, as a subprocess writes it to stderr.
func mysqlTraceback(c *crm, e entity) string {
	return `Traceback (most recent call last):
  File "/app/ingestion/sync/genius/engine.py", line 214, in run
    self.sync_entity(entity)
  File "/app/ingestion/sync/genius/engine.py", line 301, in sync_entity
    for batch in self.client.fetch_batches(query, batch_size=5000):
  File "/app/ingestion/sync/genius/client.py", line 88, in fetch_batches
    cursor.execute(query, params)
  File "/usr/local/lib/python3.11/site-packages/mysql/connector/cursor_cext.py", line 330, in execute
    result = self._cnx.cmd_query(
  File "/usr/local/lib/python3.11/site-packages/mysql/connector/connection_cext.py", line 633, in cmd_query
    raise get_mysql_exception(
mysql.connector.errors.OperationalError: 2013 (HY000): Lost connection to MySQL server during query (while syncing ` + e.name + ` from ` + c.host + `)`
}

// bigTraceback is a traceback of many kilobytes: a retry loop whose every attempt was
// chained to the last, as Python prints it. Its cause is on its last line, which the
// page must still show after the store cuts the middle out.
func bigTraceback(r *rand.Rand, c *crm, e entity) string {
	var b strings.Builder
	attempts := 8 + r.IntN(8)
	for i := range attempts {
		if i > 0 {
			b.WriteString("\nDuring handling of the above exception, another exception occurred:\n\n")
		}
		b.WriteString("Traceback (most recent call last):\n")
		b.WriteString(`  File "/usr/local/lib/python3.11/site-packages/urllib3/connectionpool.py", line 537, in _make_request
    response = conn.getresponse()
  File "/usr/local/lib/python3.11/site-packages/urllib3/connection.py", line 466, in getresponse
    httplib_response = super().getresponse()
  File "/usr/local/lib/python3.11/http/client.py", line 1378, in getresponse
    response.begin()
  File "/usr/local/lib/python3.11/http/client.py", line 318, in begin
    version, status, reason = self._read_status()
  File "/usr/local/lib/python3.11/socket.py", line 706, in readinto
    return self._sock.recv_into(b)
  File "/usr/local/lib/python3.11/ssl.py", line 1278, in recv_into
    return self.read(nbytes, buffer)
`)
		fmt.Fprintf(&b, "TimeoutError: The read operation timed out (attempt %d of %d, GET /crm/v3/objects/%s)\n", i+1, attempts, e.name)
	}
	fmt.Fprintf(&b, "\nThe above exception was the direct cause of the following exception:\n\nrequests.exceptions.ReadTimeout: HTTPSConnectionPool(host='%s', port=443): Read timed out. (read timeout=30)", c.host)
	return b.String()
}

// between is a uniform random duration in [lo, hi).
func between(r *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.Int64N(int64(hi-lo)))
}
