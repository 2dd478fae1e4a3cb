package sqlite

import "context"

// ExecForTest runs a statement on the Store's read pool, so tests can prove what those
// connections may do.
func ExecForTest(ctx context.Context, db *DB, q string) error {
	_, err := db.read.ExecContext(ctx, q)
	return unavailable(err)
}

// DayIndexSQL exposes dayIndexSQL to the tests.
var DayIndexSQL = dayIndexSQL
