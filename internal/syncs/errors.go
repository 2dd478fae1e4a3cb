package syncs

import "errors"

// ErrUnavailable wraps every error that means the data source could not be reached or
// did not answer in time, as opposed to a bug or a bad question.
var ErrUnavailable = errors.New("data source unavailable")

// ErrNotReady wraps every error that means the data source answers but is not as
// syncwatch needs it: a table, schema or column missing, a column of another type, or no
// right to read a table. Unlike an outage it lasts until someone fixes the warehouse or
// syncwatch's settings, and the reason says how.
var ErrNotReady = errors.New("warehouse not ready")

// SourceError is an error of a data source that carries, apart from its cause, a short
// reason a person can act on: one line, no secrets ("cannot connect to 127.0.0.1:5999:
// connection refused"). Error() is the whole story, for the log; Reason is what a page
// or an API answer shows.
type SourceError struct {
	// Kind is ErrUnavailable or ErrNotReady.
	Kind error
	// Reason is the short public reason.
	Reason string
	// Err is the cause.
	Err error
}

func (e *SourceError) Error() string { return e.Kind.Error() + ": " + e.Err.Error() }

// Unwrap lets errors.Is find both the kind and the cause.
func (e *SourceError) Unwrap() []error { return []error{e.Kind, e.Err} }

// Reason returns the short public reason of the first SourceError in err's chain, and
// false when there is none.
func Reason(err error) (string, bool) {
	var se *SourceError
	if errors.As(err, &se) && se.Reason != "" {
		return se.Reason, true
	}
	return "", false
}
