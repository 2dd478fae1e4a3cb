package health

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/syncwatch/syncwatch/internal/errclass"
)

// maxReasonLen bounds, in characters, the length of a reason shown on the page.
const maxReasonLen = 200

// reason turns an error into the one short line a report carries: context deadlines
// named as timeouts, then shortText. secrets are the passwords the check knows, masked
// wherever they appear.
func reason(err error, timeout time.Duration, secrets ...string) string {
	if err == nil {
		return ""
	}
	var s string
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		s = "timed out after " + timeout.String()
		if prefix := errorPrefix(err); prefix != "" {
			s = prefix + ": " + s
		}
	case errors.Is(err, context.Canceled):
		s = "check cancelled"
	default:
		s = err.Error()
	}
	return shortText(s, secrets...)
}

// shortText is the one helper every text of a report passes through: secrets masked
// (errclass.MaskKnown, with the passwords the caller knows), the first line that is not
// blank, white space collapsed to single spaces, cut to maxReasonLen characters without
// splitting one. A person reads it on the page and acts on it; a stack of lines or a
// half-character would only be noise.
func shortText(s string, secrets ...string) string {
	return cut(oneLine(errclass.MaskKnown(s, secrets...)), maxReasonLen)
}

// oneLine returns the first line of s that is not blank, with runs of white space (and
// other control characters) made single spaces, and invalid UTF-8 replaced.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	for line := range strings.Lines(s) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		return strings.Join(strings.FieldsFunc(line, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsControl(r)
		}), " ")
	}
	return ""
}

// cut returns s if it has at most n characters, else its first n-1 characters and "…".
// It counts and cuts characters, never bytes, so no character is split.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n-1 {
			break
		}
		count++
	}
	return s[:i] + "…"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// errorPrefix returns the context an error was wrapped with ("broker unreachable" from
// "broker unreachable: i/o timeout"), so a timeout still says where it happened.
func errorPrefix(err error) string {
	var w interface{ Unwrap() error }
	if !errors.As(err, &w) {
		return ""
	}
	prefix, _, ok := strings.Cut(err.Error(), ": ")
	if !ok {
		return ""
	}
	return prefix
}

// slowWarning is the warning of a component that answered in over half its timeout.
func slowWarning(what string, elapsed, timeout time.Duration) string {
	return fmt.Sprintf("slow: %s answered in %s, over half the %s timeout", what, elapsed.Round(time.Millisecond), timeout)
}

// lateCheck is the report of a check that did not return within its timeout.
func lateCheck(what string, timeout time.Duration) Check {
	return Check{Status: StatusUnhealthy, Error: what + ": timed out after " + timeout.String()}
}

// stillRunningCheck is the report of a check whose previous run has not returned yet
// (it ignores its context): no second one is started behind it.
func stillRunningCheck(what string, timeout time.Duration) Check {
	return Check{Status: StatusUnhealthy, Error: what + ": timed out after " + timeout.String() + "; the previous check has not returned yet"}
}

// withoutURL returns err without the *url.Error around it, if any: url.Error repeats the
// whole URL, password included, and the reason names the server already.
func withoutURL(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}
