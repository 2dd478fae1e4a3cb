package health

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		secrets []string
		want    string
	}{
		{"no error", nil, nil, ""},
		{"a timeout keeps where it happened", fmt.Errorf("broker unreachable: %w", errTimeout{}), nil, "broker unreachable: timed out after 2s"},
		{"a joined timeout", fmt.Errorf("database: %w", errors.Join(errors.New("x"), errTimeout{})), nil, "database: timed out after 2s"},
		{"a plain error as it is", errors.New("redis unreachable: dial tcp 127.0.0.1:1: connect: connection refused"), nil,
			"redis unreachable: dial tcp 127.0.0.1:1: connect: connection refused"},
		{"a URL's password, the user kept", errors.New("dial redis://celery:pw123x@host:6379/0: refused"), nil,
			"dial redis://celery:***@host:6379/0: refused"},
		{"a connection string's password", errors.New("failed: host=db user=app password=Secr3t dbname=dw"), nil,
			"failed: host=db user=app password=*** dbname=dw"},
		{"a query's api key", errors.New("GET /v1?api_key=abcd&x=1"), nil, "GET /v1?api_key=***&x=1"},
		{"the known password, bare", errors.New("WRONGPASS for Secr3t"), []string{"Secr3t"}, "WRONGPASS for ***"},
		{"only the first line, white space collapsed", errors.New("\n  first\t\tline  here \nsecond line\npassword=x"), nil, "first line here"},
		{"control characters are white space", errors.New("a\x00b\x1bc"), nil, "a b c"},
		{"a secret on a later line is gone with its line", errors.New("connect failed\nDSN: postgres://u:Hidden-Pa55@h/db"), nil, "connect failed"},
	}
	for _, tt := range tests {
		if got := reason(tt.err, 2*time.Second, tt.secrets...); got != tt.want {
			t.Errorf("%s: reason(%q): got %q, want %q", tt.name, tt.err, got, tt.want)
		}
	}
}

// TestShortTextCutsCharactersNotBytes: a long reason in any script is cut to
// maxReasonLen characters, ends with "…", and stays valid UTF-8.
func TestShortTextCutsCharactersNotBytes(t *testing.T) {
	t.Parallel()
	for _, unit := range []string{"x", "é", "日本", "🐇", "a€"} {
		for _, n := range []int{maxReasonLen - 1, maxReasonLen, maxReasonLen + 1, 3 * maxReasonLen} {
			long := string([]rune(strings.Repeat(unit, n))[:n])
			got := shortText(long)
			if !utf8.ValidString(got) {
				t.Fatalf("shortText(%d × %q) = %q: invalid UTF-8", n, unit, got)
			}
			count := utf8.RuneCountInString(got)
			switch {
			case n <= maxReasonLen && got != long:
				t.Errorf("shortText(%d × %q): got %d characters, want it unchanged", n, unit, count)
			case n > maxReasonLen && (count != maxReasonLen || !strings.HasSuffix(got, "…") || !strings.HasPrefix(long, strings.TrimSuffix(got, "…"))):
				t.Errorf("shortText(%d × %q): got %d characters ending %q, want %d: a prefix and …", n, unit, count, got[len(got)-8:], maxReasonLen)
			}
		}
	}
	// Invalid bytes become U+FFFD instead of breaking the JSON answer's text.
	if got := shortText("bad \xff byte"); got != "bad \uFFFD byte" {
		t.Errorf("shortText with an invalid byte: got %q", got)
	}
}

// errTimeout is a net.Error that timed out, as a deadline on a socket produces.
type errTimeout struct{}

func (errTimeout) Error() string   { return "i/o timeout" }
func (errTimeout) Timeout() bool   { return true }
func (errTimeout) Temporary() bool { return true }
