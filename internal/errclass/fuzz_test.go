package errclass

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds are message shapes the sync engines write, and a few hostile ones.
var fuzzSeeds = []string{
	"",
	" \t\n",
	"HTTP 429: Too Many Requests",
	"Failed to fetch contacts: 429 Client Error: Too Many Requests for url: https://api.hubapi.com/crm/v3/objects/contacts?hapikey=abc123&limit=100",
	"401 Client Error: Unauthorized for url: https://api.callrail.com/v3/a.json?api_key=k",
	"Request failed after 3 attempts: HTTPSConnectionPool(host='x', port=443): Read timed out. (read timeout=30)",
	"HTTPSConnectionPool(host='a', port=443): Max retries exceeded with url: /v1?token=t (Caused by NewConnectionError('x: Failed to establish a new connection: [Errno 111] Connection refused'))",
	"2003 (HY000): Can't connect to MySQL server on 'genius-db:3306' (111)",
	"duplicate key value violates unique constraint \"pk\"\nDETAIL:  Key (id)=(1) already exists.",
	"Invalid pagination token - CorrelationId: 5b7a1c8e-9d55-4c1e-8f00-0a1b2c3d4e5f",
	"Five9 credentials not found in environment variables",
	"Sync stopped by user" + cleanupSuffix,
	"Failed entities: leads, users",
	readTimeoutTraceback,
	chainedTraceback,
	`{"api_key": "abc", "password": 'x', \"token\": \"y\"}`,
	"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
	"postgres://u:p@ss@h:5432/db redis://:pw@r:6379",
	"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----",
	"ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8 AKIAIOSFODNN7EXAMPLE",
	"token=password:'hunter2' x://token:zz;b@h",
	"<script>alert('api_key=1')</script>\xff\xfe",
	"… [1234 characters cut] …",
}

func FuzzClassify(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	all := Types()
	f.Fuzz(func(t *testing.T, msg string) {
		got := Classify(&msg)
		if !slices.Contains(all, got) {
			t.Fatalf("Classify(%q) = %q, not one of Types()", msg, got)
		}
		if blank := strings.TrimSpace(msg) == ""; blank != (got == Unknown) {
			t.Fatalf("Classify(%q) = %q; a message is unknown exactly when it is blank", msg, got)
		}
		// Case does not matter. (Traceback detection reads Python's own spelling, so this
		// is checked on messages without one.)
		lower := strings.ToLower(msg)
		if !strings.Contains(lower, "traceback (most recent call last)") && !strings.Contains(lower, "\n  file \"") {
			swapped := swapASCIICase(msg)
			if again := Classify(&swapped); again != got {
				t.Fatalf("Classify(%q) = %q but Classify(%q) = %q; want the same", msg, got, swapped, again)
			}
		}
	})
}

func swapASCIICase(s string) string {
	b := []byte(s)
	for i, c := range b {
		if isASCIILetter(c) {
			b[i] = c ^ 0x20
		}
	}
	return string(b)
}

// plantedNames are query parameters whose values Mask must always hide.
var plantedNames = []string{
	"api_key", "apikey", "key", "hapikey", "token", "access_token", "refresh_token", "auth",
	"password", "pass", "pwd", "secret", "client_secret", "signature", "sig", "x-api-key",
	"API_KEY", "Token", "X-Api-Key", "apiKey", "accessToken", "clientSecret", "X-Amz-Signature",
}

func FuzzMask(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, "Sup3rS3cretValue", uint8(i))
	}
	f.Fuzz(func(t *testing.T, text, secret string, param uint8) {
		checkMaskInvariants(t, text)

		// A secret planted in a URL's query string never survives, whatever surrounds it.
		var b strings.Builder
		for i := 0; i < len(secret); i++ {
			if isWordByte(secret[i]) {
				b.WriteByte(secret[i])
			}
		}
		sec := b.String()
		if len(sec) < 8 {
			sec += strings.Repeat("7", 8-len(sec))
		}
		name := plantedNames[int(param)%len(plantedNames)]
		half := len(text) / 2
		planted := text[:half] + "\nGET https://api.example.com/crm/v3/objects?" + name + "=" + sec + "&limit=10\n" + text[half:]
		out := checkMaskInvariants(t, planted)
		if strings.Count(planted, sec) == 1 && strings.Contains(out, sec) {
			t.Fatalf("Mask(%q) = %q, still contains the secret %q", planted, out, sec)
		}
	})
}

// checkMaskInvariants checks what Mask promises for any text, and returns Mask(text).
func checkMaskInvariants(t *testing.T, text string) string {
	t.Helper()
	out := Mask(text)
	if len(out) > len(text) {
		t.Fatalf("Mask(%q) = %q, longer than its input", text, out)
	}
	if utf8.ValidString(text) && !utf8.ValidString(out) {
		t.Fatalf("Mask(%q) = %q, invalid UTF-8 from valid input", text, out)
	}
	if again := Mask(out); again != out {
		t.Fatalf("Mask not idempotent:\n text %q\n once %q\ntwice %q", text, out, again)
	}
	return out
}
