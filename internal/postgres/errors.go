package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// classify tells the dashboard what an error of the database means: the server could not
// be reached or did not answer in time (syncs.ErrUnavailable: the last good figures are
// served, marked stale), the warehouse is not as syncwatch needs it (syncs.ErrNotReady:
// a table, column or right is missing, which only a person can fix), or neither (a bug).
// Each carries a short reason a person can act on; the whole error stays for the log.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var se *syncs.SourceError
	if errors.As(err, &se) {
		return err // classified already
	}
	unavailable := func(reason string) error {
		return &syncs.SourceError{Kind: syncs.ErrUnavailable, Reason: reason, Err: err}
	}
	// A statement that ran out of its time is also syncs.ErrTooSlow: the drill-down then
	// answers what it found before, and says so.
	tooSlow := func(reason string) error {
		return &syncs.SourceError{Kind: syncs.ErrUnavailable, Reason: reason, Err: fmt.Errorf("%w: %w", syncs.ErrTooSlow, err)}
	}
	notReady := func(reason string) error {
		return &syncs.SourceError{Kind: syncs.ErrNotReady, Reason: reason + "; run `syncwatch doctor`", Err: err}
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return unavailable(connectReason(connectErr))
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "57014": // query_canceled: statement_timeout
			return tooSlow("a query ran longer than the statement timeout (--statement-timeout)")
		case pgErr.Code == "40001", // serialization_failure: a read replica's conflict with recovery
			pgErr.Code == "40P01": // deadlock_detected
			return tooSlow("the database cancelled a query (" + pgErr.Message + "); it is asked again at the next refresh")
		case pgErr.Code == "55P03": // lock_not_available: lock_timeout
			return unavailable("a query waited too long for a lock on the table (a migration holding it?)")
		case pgErr.Code[:2] == "08", // connection exceptions
			pgErr.Code[:2] == "57", // operator intervention: shutdown, cannot connect now
			pgErr.Code == "53300":  // too_many_connections
			return unavailable("the database refused: " + pgErr.Message)
		case pgErr.Code == "42P01": // undefined_table: `relation "x.y" does not exist`
			_, name, _ := strings.Cut(pgErr.Message, `"`)
			name, _, _ = strings.Cut(name, `"`)
			return notReady("table " + name + " does not exist (is DATABASE_URL the warehouse's database?)")
		case pgErr.Code == "3F000": // invalid_schema_name
			return notReady(pgErr.Message + " (is DATABASE_URL the warehouse's database?)")
		case pgErr.Code == "42501": // insufficient_privilege
			if strings.Contains(pgErr.Message, "schema") {
				return notReady(pgErr.Message + " (GRANT USAGE ON SCHEMA orchestration TO syncwatch's role)")
			}
			return notReady(pgErr.Message + " (GRANT SELECT ON orchestration.sync_history, orchestration.sync_schedule TO syncwatch's role)")
		case pgErr.Code == "42703": // undefined_column
			return notReady(pgErr.Message + ": orchestration.sync_history is not the table syncwatch knows")
		case pgErr.Code == "42883", // undefined_function: an operator on a column of another type
			pgErr.Code == "42804", // datatype_mismatch
			pgErr.Code == "22P02": // invalid_text_representation
			return notReady("a column of orchestration.sync_history has an unexpected type: " + pgErr.Message)
		}
		return err
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		return tooSlow("the database did not answer in time")
	case errors.As(err, &netErr), errors.Is(err, net.ErrClosed):
		return unavailable("lost the connection to the database: " + shortNetError(err))
	}
	return err
}

// unexpectedType classifies an error of scanning a row: the query ran, so the columns
// exist, but one holds another type than the table syncwatch knows.
func unexpectedType(err error) error {
	return &syncs.SourceError{
		Kind:   syncs.ErrNotReady,
		Reason: "a column of orchestration.sync_history has an unexpected type; run `syncwatch doctor`",
		Err:    err,
	}
}

// connectReason says in one line why a connection failed: "cannot connect to
// 127.0.0.1:5999: connection refused", "cannot connect to db:5432 as reader: password
// authentication failed for user "reader"". pgx tries TLS then plain text and reports
// both attempts, so the same reason is given once.
func connectReason(ce *pgconn.ConnectError) string {
	where := "the database"
	if ce.Config != nil {
		where = net.JoinHostPort(ce.Config.Host, strconv.Itoa(int(ce.Config.Port)))
		if strings.HasPrefix(ce.Config.Host, "/") {
			where = ce.Config.Host // a Unix socket's directory
		}
	}
	var pgErr *pgconn.PgError
	if errors.As(ce, &pgErr) {
		user := ""
		if ce.Config != nil && ce.Config.User != "" {
			user = " as " + ce.Config.User
		}
		return fmt.Sprintf("cannot connect to %s%s: %s", where, user, pgErr.Message)
	}
	if errors.Is(ce, context.DeadlineExceeded) || pgconn.Timeout(ce) {
		return "cannot connect to " + where + ": timed out"
	}
	return "cannot connect to " + where + ": " + shortNetError(ce)
}

// shortNetError is the innermost cause of a network error: "connection refused", "no
// such host", a TLS failure.
func shortNetError(err error) string {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "no such host " + dnsErr.Name
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		inner := opErr.Err
		for {
			next := errors.Unwrap(inner)
			if next == nil {
				break
			}
			inner = next
		}
		return inner.Error()
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return strings.TrimSpace(strings.SplitN(msg, "\n", 2)[0])
}
