package postgres

import "context"

// ExecForTest runs a statement through the store's pool, so tests can prove what the
// server lets those connections do.
func ExecForTest(ctx context.Context, db *DB, sql string) (string, error) {
	tag, err := db.pool.Exec(ctx, sql)
	if err != nil {
		return "", classify(err)
	}
	return tag.String(), nil
}
