// Package syncs is syncwatch's domain: a sync run as the warehouse records it in
// orchestration.sync_history, its statuses and their aliases, the CRMs and their display
// names, and the questions a Store answers about the rows. It depends on nothing else in
// syncwatch, so every other package can speak in its terms.
package syncs

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The canonical status words. The sync engines also write two aliases (see CanonicalStatus);
// any other value is passed through verbatim and counts as neither success nor failure.
const (
	StatusRunning = "running"
	StatusSuccess = "success"
	StatusFailed  = "failed"
	StatusPartial = "partial"
)

// aliases maps each alias that some sync engines write to the canonical word it stands for.
var aliases = map[string]string{
	"in_progress": StatusRunning,
	"completed":   StatusSuccess,
}

// CanonicalStatus reads a raw status column through the aliases: in_progress counts as
// running and completed as success. Every other value is returned unchanged.
func CanonicalStatus(raw string) string {
	if canonical, ok := aliases[raw]; ok {
		return canonical
	}
	return raw
}

// RawStatuses returns every raw column value that reads as the given status: the status
// itself and its aliases. Stores use it to filter with an index on the raw column.
func RawStatuses(status string) []string {
	raw := []string{status}
	for alias, canonical := range aliases {
		if canonical == status {
			raw = append(raw, alias)
		}
	}
	return raw
}

// Run is one row of orchestration.sync_history, with the columns the dashboard shows.
// Nullable columns are pointers: nil is NULL.
type Run struct {
	ID        int64
	CRMSource string
	SyncType  string
	// Status is canonical (aliases already resolved).
	Status           string
	Start            time.Time
	End              *time.Time
	RecordsProcessed *int64
	RecordsCreated   *int64
	RecordsUpdated   *int64
	RecordsFailed    *int64
	// ErrorMessage is the stored text, possibly cut by the store (see CutMessage).
	ErrorMessage *string
}

// FinishedAt is when a row that is not running finished: its end time, or its start time
// when the end time is NULL. A running row has none.
func (r Run) FinishedAt() (time.Time, bool) {
	if r.Status == StatusRunning {
		return time.Time{}, false
	}
	if r.End != nil {
		return *r.End, true
	}
	return r.Start, true
}

// Duration is end − start. It is unknown while running, without an end time, and when the
// end precedes the start (clock skew is reported as unknown, never as a negative duration).
func (r Run) Duration() (time.Duration, bool) {
	if r.Status == StatusRunning || r.End == nil || r.End.Before(r.Start) {
		return 0, false
	}
	return r.End.Sub(r.Start), true
}

// Message cutting. A message can be many kilobytes (whole Python tracebacks); a store
// returns a message of up to MessageHead+MessageTail characters whole, and of a longer one
// its first MessageHead and last MessageTail characters and its length, which is enough
// to classify it (an exception's type is at the start or at the very end of a traceback)
// and to show it. The tail is generous on purpose: a secret whose value crosses the cut
// must still have its name ("api_key=") in the text, or masking could not see it.
const (
	MessageHead = 3000
	MessageTail = 1300
)

// CutMessage joins what a store read of a message: the whole message as head when it has
// at most MessageHead+MessageTail characters (tail is then empty), else its first
// MessageHead and last MessageTail characters; length is its length in characters. The
// result says how much was left out. Invalid UTF-8 is replaced, so the text is always
// safe to encode.
func CutMessage(head, tail string, length int) string {
	head = strings.ToValidUTF8(head, "\uFFFD")
	if length <= MessageHead+MessageTail || tail == "" {
		return head
	}
	tail = strings.ToValidUTF8(tail, "\uFFFD")
	omitted := length - utf8.RuneCountInString(head) - utf8.RuneCountInString(tail)
	if omitted <= 0 {
		return head + tail
	}
	return head + "\n… [" + strconv.Itoa(omitted) + " characters cut] …\n" + tail
}
