package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/pgtest"
	"github.com/syncwatch/syncwatch/internal/postgres"
	"github.com/syncwatch/syncwatch/internal/storetest"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

func open(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// TestContract runs the behaviour every store must show, on both table shapes.
func TestContract(t *testing.T) {
	for _, shape := range pgtest.Shapes {
		t.Run("shape "+string(shape), func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) (syncs.Store, storetest.Fixture) {
				db := pgtest.New(t, shape)
				return open(t, db.URL), db
			})
		})
	}
}

func TestConnectionsCannotWrite(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, pgtest.ShapeA)
	store := open(t, db.URL)
	// The store never writes; prove the server would refuse it if it tried, whatever the
	// statement: through the pool's own connections.
	for _, stmt := range []string{
		`INSERT INTO orchestration.sync_history (crm_source, sync_type, start_time) VALUES ('x', 'y', now())`,
		`DELETE FROM orchestration.sync_history`,
		`CREATE TABLE orchestration.evil (id int)`,
	} {
		_, err := postgres.ExecForTest(context.Background(), store, stmt)
		if err == nil || !strings.Contains(err.Error(), "read-only transaction") {
			t.Errorf("%s: got %v, want the server to refuse a write in a read-only transaction", stmt, err)
		}
	}
}

func TestUnreachableServerIsUnavailable(t *testing.T) {
	t.Parallel()
	// Port 1 on loopback: nothing listens there.
	store := open(t, "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := store.RunningByCRM(ctx, time.Now())
	if !errors.Is(err, syncs.ErrUnavailable) {
		t.Errorf("got %v, want an error wrapping syncs.ErrUnavailable", err)
	}
	if _, err := store.Health(ctx); !errors.Is(err, syncs.ErrUnavailable) {
		t.Errorf("health: got %v, want an error wrapping syncs.ErrUnavailable", err)
	}
}

func TestOpenDoesNotQuoteThePassword(t *testing.T) {
	t.Parallel()
	_, err := postgres.Open(context.Background(), "postgres://u:s3cret@host:notaport/db", postgres.Options{})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("got %v, want an error that does not contain the password", err)
	}
}

func TestStatementTimeout(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, pgtest.ShapeA)
	store, err := postgres.Open(context.Background(), db.URL, postgres.Options{StatementTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	start := time.Now()
	_, err = postgres.ExecForTest(context.Background(), store, `SELECT pg_sleep(5)`)
	if !errors.Is(err, syncs.ErrUnavailable) || time.Since(start) > 3*time.Second {
		t.Errorf("got %v after %v, want the server to cancel the statement quickly as unavailable", err, time.Since(start))
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, pgtest.ShapeA)
	store := open(t, db.URL)
	h, err := store.Health(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The test's own writer connection and the store's are both connected to it.
	if h.ConnectionCount < 2 || h.ResponseTime <= 0 || h.ResponseTime > 5*time.Second {
		t.Errorf("got %+v, want at least 2 connections and a positive round trip", h)
	}
}
