package health

// Unit tests of the remote-control protocol: no services. The files in testdata/wire were
// captured (redis-cli MONITOR) from `celery inspect` and a Celery 5.2.6 worker.

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func validRequest(method string, destination []string) controlRequest {
	return controlRequest{
		Method: method, Destination: destination, Ticket: "ticket-1", RoutingKey: "rk-1",
		DeliveryTag: "tag-1", Expires: time.Unix(1795747485, 555768000),
	}
}

// TestEncodeControlCarriesEverythingWorkersNeed checks every envelope the package can
// send for the fields whose absence breaks every worker on the broker.
func TestEncodeControlCarriesEverythingWorkersNeed(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"ping", "stats", "active_queues", "active", "reserved"} {
		for _, dest := range [][]string{nil, {"w1@host"}, {"w1@host", "w2@host"}} {
			raw, err := encodeControl(validRequest(method, dest))
			if err != nil {
				t.Fatalf("encode %s to %v: %v", method, dest, err)
			}
			var env struct {
				Body            string         `json:"body"`
				ContentType     *string        `json:"content-type"`
				ContentEncoding *string        `json:"content-encoding"`
				Headers         map[string]any `json:"headers"`
				Properties      map[string]any `json:"properties"`
			}
			if err := json.Unmarshal(raw, &env); err != nil {
				t.Fatal(err)
			}
			if env.ContentType == nil || *env.ContentType != "application/json" {
				t.Errorf("%s: content-type: got %v, want application/json", method, deref(env.ContentType))
			}
			if env.ContentEncoding == nil || *env.ContentEncoding != "utf-8" {
				t.Errorf("%s: content-encoding: got %v, want utf-8", method, deref(env.ContentEncoding))
			}
			if got := env.Properties["delivery_tag"]; got != "tag-1" {
				t.Errorf("%s: properties.delivery_tag: got %v, want tag-1", method, got)
			}
			if got := env.Properties["body_encoding"]; got != "base64" {
				t.Errorf("%s: properties.body_encoding: got %v, want base64", method, got)
			}
			if got, want := env.Properties["delivery_info"], map[string]any{"exchange": "celery.pidbox", "routing_key": ""}; !cmp.Equal(got, want) {
				t.Errorf("%s: properties.delivery_info: got %v, want %v", method, got, want)
			}
			if got := env.Headers["expires"]; got != 1795747485.555768 {
				t.Errorf("%s: headers.expires: got %v, want 1795747485.555768", method, got)
			}
			body, err := base64.StdEncoding.DecodeString(env.Body)
			if err != nil {
				t.Fatalf("%s: body is not base64: %v", method, err)
			}
			var cmd map[string]any
			if err := json.Unmarshal(body, &cmd); err != nil {
				t.Fatalf("%s: body is not JSON: %v", method, err)
			}
			var wantDest any
			if dest != nil {
				wantDest = []any{}
				for _, d := range dest {
					wantDest = append(wantDest.([]any), d)
				}
			}
			want := map[string]any{
				"method": method, "arguments": map[string]any{}, "destination": wantDest,
				"pattern": nil, "matcher": nil, "ticket": "ticket-1",
				"reply_to": map[string]any{"exchange": "reply.celery.pidbox", "routing_key": "rk-1"},
			}
			if diff := cmp.Diff(want, cmd); diff != "" {
				t.Errorf("%s to %v: command (-want +got):\n%s", method, dest, diff)
			}
		}
	}
}

// TestEncodeControlMatchesCelerysOwnRequest compares the shape of the envelope and of the
// command with what `celery inspect ping` published.
func TestEncodeControlMatchesCelerysOwnRequest(t *testing.T) {
	t.Parallel()
	celerys, err := os.ReadFile(filepath.Join("testdata", "wire", "request_ping.json"))
	if err != nil {
		t.Fatal(err)
	}
	ours, err := encodeControl(validRequest("ping", nil))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := shapeOf(t, ours), shapeOf(t, celerys); !slices.Equal(got, want) {
		t.Errorf("envelope paths: got %v, want %v", got, want)
	}
	if err := validateEnvelope(celerys); err != nil {
		t.Errorf("Celery's own request fails our validation: %v", err)
	}
}

// shapeOf lists every JSON path of an envelope, with the decoded body's paths under body.
func shapeOf(t *testing.T, raw []byte) []string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	body, err := base64.StdEncoding.DecodeString(v["body"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var cmd any
	if err := json.Unmarshal(body, &cmd); err != nil {
		t.Fatal(err)
	}
	v["body"] = cmd
	return valuePaths(v)
}

// valuePaths lists every path of a decoded JSON value to its leaves (and its empty
// objects, as "{}"), sorted.
func valuePaths(v any) []string {
	var paths []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			paths = append(paths, prefix)
			return
		}
		if len(m) == 0 {
			paths = append(paths, prefix+"{}")
		}
		for k, sub := range m {
			walk(prefix+"."+k, sub)
		}
	}
	walk("", v)
	slices.Sort(paths)
	return paths
}

func TestEncodeControlRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  controlRequest
	}{
		{"a method that changes workers", validRequest("shutdown", nil)},
		{"pool_restart", validRequest("pool_restart", nil)},
		{"rate_limit", validRequest("rate_limit", nil)},
		{"an empty method", validRequest("", nil)},
		{"no ticket", func() controlRequest { r := validRequest("ping", nil); r.Ticket = ""; return r }()},
		{"no routing key", func() controlRequest { r := validRequest("ping", nil); r.RoutingKey = ""; return r }()},
		{"no delivery tag", func() controlRequest { r := validRequest("ping", nil); r.DeliveryTag = ""; return r }()},
		{"no expiry", func() controlRequest { r := validRequest("ping", nil); r.Expires = time.Time{}; return r }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if raw, err := encodeControl(tt.req); err == nil {
				t.Errorf("got envelope %s, want an error", raw)
			}
		})
	}
}

// TestValidateEnvelopeRejectsMalformed removes, one at a time, each field whose absence
// harms workers, and checks that the guard before PUBLISH refuses the result.
func TestValidateEnvelopeRejectsMalformed(t *testing.T) {
	t.Parallel()
	good, err := encodeControl(validRequest("ping", nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := validateEnvelope(good); err != nil {
		t.Fatalf("valid envelope: got %v, want nil", err)
	}
	editEnvelope := func(edit func(env map[string]any)) []byte {
		var env map[string]any
		_ = json.Unmarshal(good, &env)
		edit(env)
		out, _ := json.Marshal(env)
		return out
	}
	editCommand := func(edit func(cmd map[string]any)) []byte {
		return editEnvelope(func(env map[string]any) {
			body, _ := base64.StdEncoding.DecodeString(env["body"].(string))
			var cmd map[string]any
			_ = json.Unmarshal(body, &cmd)
			edit(cmd)
			body, _ = json.Marshal(cmd)
			env["body"] = base64.StdEncoding.EncodeToString(body)
		})
	}
	props := func(env map[string]any) map[string]any { return env["properties"].(map[string]any) }
	tests := []struct {
		name string
		raw  []byte
		want string
	}{
		{"no delivery_tag (kills every worker)", editEnvelope(func(e map[string]any) { delete(props(e), "delivery_tag") }), "delivery_tag"},
		{"empty delivery_tag", editEnvelope(func(e map[string]any) { props(e)["delivery_tag"] = "" }), "delivery_tag"},
		{"no properties", editEnvelope(func(e map[string]any) { delete(e, "properties") }), "properties"},
		{"no content-type (deafens every worker)", editEnvelope(func(e map[string]any) { delete(e, "content-type") }), "content-type"},
		{"another content-type", editEnvelope(func(e map[string]any) { e["content-type"] = "application/x-python-serialize" }), "content-type"},
		{"no content-encoding", editEnvelope(func(e map[string]any) { delete(e, "content-encoding") }), "content-encoding"},
		{"no body_encoding", editEnvelope(func(e map[string]any) { delete(props(e), "body_encoding") }), "body_encoding"},
		{"no headers", editEnvelope(func(e map[string]any) { delete(e, "headers") }), "headers"},
		{"no headers.expires", editEnvelope(func(e map[string]any) { delete(e["headers"].(map[string]any), "expires") }), "expires"},
		{"a body that is not base64", editEnvelope(func(e map[string]any) { e["body"] = "{not base64" }), "body"},
		{"no ticket", editCommand(func(c map[string]any) { delete(c, "ticket") }), "ticket"},
		{"no reply_to", editCommand(func(c map[string]any) { delete(c, "reply_to") }), "reply_to"},
		{"no reply_to routing_key", editCommand(func(c map[string]any) { delete(c["reply_to"].(map[string]any), "routing_key") }), "reply_to"},
		{"a destructive method", editCommand(func(c map[string]any) { c["method"] = "shutdown" }), "method"},
		{"null arguments", editCommand(func(c map[string]any) { c["arguments"] = nil }), "arguments"},
		{"not JSON", []byte("ping"), "envelope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateEnvelope(tt.raw)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error about %s", err, tt.want)
			}
		})
	}
}

// FuzzEncodeControl feeds the encoder arbitrary names, tickets and keys: whatever it
// returns without error must pass the guard. Offline only; never fuzz real workers.
func FuzzEncodeControl(f *testing.F) {
	f.Add("ping", "w1@host", "ticket", "rk", "tag", int64(1795747485))
	f.Add("stats", "", "t\x06\x16", "r\"k", "t\\g", int64(1))
	f.Add("shutdown", "w1", "t", "r", "g", int64(0))
	f.Fuzz(func(t *testing.T, method, dest, ticket, rk, tag string, expires int64) {
		req := controlRequest{Method: method, Ticket: ticket, RoutingKey: rk, DeliveryTag: tag, Expires: time.Unix(expires, 0)}
		if dest != "" {
			req.Destination = []string{dest}
		}
		raw, err := encodeControl(req)
		if err != nil {
			return
		}
		if err := validateEnvelope(raw); err != nil {
			t.Errorf("encoded envelope fails the guard: %v\n%s", err, raw)
		}
	})
}

func TestDecodeReplyFromARealWorker(t *testing.T) {
	t.Parallel()
	read := func(name string) []byte {
		raw, err := os.ReadFile(filepath.Join("testdata", "wire", name))
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	replies := map[string]map[string]json.RawMessage{}
	for _, tt := range []struct{ file, method, ticket string }{
		{"reply_ping.json", "ping", "c2128284-cddc-41e0-bb8b-beff7f526e0e"},
		{"reply_stats.json", "stats", "0cdd7882-0eb5-4484-afda-d46d3bdf62a9"},
		{"reply_active_queues.json", "active_queues", "42b5a834-7f0c-4ef6-9db9-619a984d2f99"},
	} {
		ticket, results, err := decodeReply(read(tt.file))
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if ticket != tt.ticket {
			t.Errorf("%s ticket: got %q, want %q", tt.file, ticket, tt.ticket)
		}
		if _, ok := results["fixture@syncwatch-test"]; !ok || len(results) != 1 {
			t.Errorf("%s: got nodes %v, want fixture@syncwatch-test", tt.file, results)
		}
		replies[tt.method] = results
	}
	got := workersFromReplies(replies)
	want := map[string]workerFacts{"fixture@syncwatch-test": {
		PID: ptr[int64](20234), PoolSize: ptr[int64](1), Processed: ptr[int64](0),
		UptimeSeconds: ptr[int64](4), Prefetch: ptr[int64](1), Queues: []string{"dw-production"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("workers (-want +got):\n%s", diff)
	}
}

func TestDecodeReplyRejects(t *testing.T) {
	t.Parallel()
	for name, raw := range map[string]string{
		"not JSON":          `pong`,
		"pickle":            `{"body": "gASV", "content-type": "application/x-python-serialize", "properties": {"body_encoding": "base64"}}`,
		"body not base64":   `{"body": "{{", "content-type": "application/json", "properties": {"body_encoding": "base64"}}`,
		"body not a object": `{"body": "WzFd", "content-type": "application/json", "properties": {"body_encoding": "base64"}}`,
	} {
		if _, _, err := decodeReply([]byte(raw)); err == nil {
			t.Errorf("%s: got no error, want one", name)
		}
	}
}

func TestWorkersFromRepliesSkipsBroadcastQueuesAndBadStats(t *testing.T) {
	t.Parallel()
	replies := map[string]map[string]json.RawMessage{
		"ping":  {"a@h": json.RawMessage(`{"ok": "pong"}`)},
		"stats": {"b@h": json.RawMessage(`{"pool": "not an object"}`)},
		"active_queues": {"a@h": json.RawMessage(`[{"name": "dw-production", "exchange": {"type": "direct"}},
			{"name": "bcast.1234", "exchange": {"type": "fanout"}}]`)},
	}
	want := map[string]workerFacts{
		"a@h": {Queues: []string{"dw-production"}},
		"b@h": {},
	}
	if diff := cmp.Diff(want, workersFromReplies(replies)); diff != "" {
		t.Errorf("workers (-want +got):\n%s", diff)
	}
}

func TestKombuNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		names            kombuNames
		channel, binding string
		queue            [4]string
		unacked, index   string
	}{
		{kombuNames{"", 0}, "/0.celery.pidbox", "_kombu.binding.reply.celery.pidbox",
			[4]string{"dw-production", "dw-production\x06\x163", "dw-production\x06\x166", "dw-production\x06\x169"},
			"unacked", "unacked_index"},
		{kombuNames{"", 3}, "/3.celery.pidbox", "_kombu.binding.reply.celery.pidbox",
			[4]string{"dw-production", "dw-production\x06\x163", "dw-production\x06\x166", "dw-production\x06\x169"},
			"unacked", "unacked_index"},
		{kombuNames{"pfx:", 12}, "pfx:/12.celery.pidbox", "pfx:_kombu.binding.reply.celery.pidbox",
			[4]string{"pfx:dw-production", "pfx:dw-production\x06\x163", "pfx:dw-production\x06\x166", "pfx:dw-production\x06\x169"},
			"pfx:unacked", "pfx:unacked_index"},
	}
	for _, tt := range tests {
		if got := tt.names.broadcastChannel(); got != tt.channel {
			t.Errorf("%+v channel: got %q, want %q", tt.names, got, tt.channel)
		}
		if got := tt.names.replyBindingKey(); got != tt.binding {
			t.Errorf("%+v binding: got %q, want %q", tt.names, got, tt.binding)
		}
		if got := tt.names.queueKeys("dw-production"); got != tt.queue {
			t.Errorf("%+v queue keys: got %q, want %q", tt.names, got, tt.queue)
		}
		if got := tt.names.unackedKey(); got != tt.unacked {
			t.Errorf("%+v unacked: got %q, want %q", tt.names, got, tt.unacked)
		}
		if got := tt.names.unackedIndexKey(); got != tt.index {
			t.Errorf("%+v unacked index: got %q, want %q", tt.names, got, tt.index)
		}
		// The binding member names the queue without the prefix: kombu adds it at LPUSH.
		if got, want := tt.names.bindingMember("rk"), "rk\x06\x16\x06\x16rk.reply.celery.pidbox"; got != want {
			t.Errorf("%+v binding member: got %q, want %q", tt.names, got, want)
		}
		if got, want := tt.names.queueKeys(tt.names.replyQueueName("rk"))[0], tt.names.prefix+"rk.reply.celery.pidbox"; got != want {
			t.Errorf("%+v reply list: got %q, want %q", tt.names, got, want)
		}
	}
}

func TestBrpopTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		left time.Duration
		want string
		ok   bool
	}{
		{1500 * time.Millisecond, "1.500", true},
		{300 * time.Millisecond, "0.300", true},
		{1999*time.Millisecond + 999*time.Microsecond, "1.999", true}, // rounded down, never past the deadline
		{time.Millisecond, "0.001", true},
		{999 * time.Microsecond, "", false}, // "0" would block forever
		{0, "", false},
		{-time.Second, "", false},
		{2 * time.Second, "2.000", true},
	}
	for _, tt := range tests {
		got, ok := brpopTimeout(tt.left)
		if got != tt.want || ok != tt.ok {
			t.Errorf("brpopTimeout(%s): got %q, %v; want %q, %v", tt.left, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNewIDIsAUUID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		id := newID()
		if len(id) != 36 || id[14] != '4' || strings.Count(id, "-") != 4 || seen[id] {
			t.Fatalf("got %q, want a fresh version-4 UUID", id)
		}
		seen[id] = true
	}
}
