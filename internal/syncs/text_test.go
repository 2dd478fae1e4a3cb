package syncs

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanText(t *testing.T) {
	cases := []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain text is unchanged", "HTTP 429: Too Many Requests", 100, "HTTP 429: Too Many Requests"},
		{"HTML is left as text", `<script>alert(1)</script>`, 100, `<script>alert(1)</script>`},
		{"newlines and tabs stay", "line 1\n\tline 2", 100, "line 1\n\tline 2"},
		{"control characters go", "bell\a nul\x00 esc\x1b[31mred\r", 100, "bell nul esc[31mred"},
		{"invalid UTF-8 is replaced", "caf\xe9", 100, "caf\uFFFD"},
		{"bidirectional overrides go", "admin\u202Egnp.exe", 100, "admingnp.exe"},
		{"long text is cut with an ellipsis", "abcdefghij", 5, "abcd…"},
		{"text of exactly max characters is whole", "abcde", 5, "abcde"},
		{"the cut counts characters, not bytes", "ééééé", 5, "ééééé"},
		{"multi-byte text is cut on a character", "éééééé", 5, "éééé…"},
	}
	for _, c := range cases {
		if got := CleanText(c.in, c.max); got != c.want {
			t.Errorf("%s: CleanText(%q, %d) = %q, want %q", c.name, c.in, c.max, got, c.want)
		}
	}
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"", "abc", "\x00\xff\u202E", strings.Repeat("é", 300), "<img onerror=x>"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 1 || max > 10000 {
			return
		}
		got := CleanText(s, max)
		if !utf8.ValidString(got) {
			t.Fatalf("CleanText(%q, %d) = %q: invalid UTF-8", s, max, got)
		}
		if n := utf8.RuneCountInString(got); n > max {
			t.Fatalf("CleanText(%q, %d) has %d characters", s, max, n)
		}
		if strings.ContainsFunc(got, dropped) {
			t.Fatalf("CleanText(%q, %d) = %q keeps a dropped character", s, max, got)
		}
		if CleanText(got, max) != got {
			t.Fatalf("CleanText is not idempotent on %q", s)
		}
	})
}
