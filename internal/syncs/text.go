package syncs

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The longest texts the dashboard shows: a name or a word (source, entity, status,
// schedule name), and an error message (already cut by the store; see CutMessage).
const (
	MaxWordLength    = 100
	MaxMessageLength = MessageHead + MessageTail + 100
)

// CleanText makes a text from the database safe and sane to show, whatever a sync engine
// or a hostile hand put in the column: invalid UTF-8 is replaced, control characters
// other than newline and tab are dropped (they could forge lines in a log view or ring a
// terminal's bell), bidirectional overrides are dropped (they can make text read
// differently from what it is), and the text is cut to max characters, saying so with an
// ellipsis. HTML is left alone: the page always inserts text as text.
func CleanText(s string, max int) string {
	if utf8.ValidString(s) && len(s) <= max && !strings.ContainsFunc(s, dropped) {
		return s // the common case: nothing to do
	}
	kept := make([]rune, 0, min(len(s), max))
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if dropped(r) {
			continue
		}
		if len(kept) == max {
			kept[max-1] = '…'
			break
		}
		kept = append(kept, r)
	}
	return string(kept)
}

func dropped(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case unicode.IsControl(r):
		return true
	case r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}
