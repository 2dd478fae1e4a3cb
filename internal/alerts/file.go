package alerts

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver
)

// StateFileName is the name of the state file in the state directory.
const StateFileName = "alerts.sqlite"

// fileSchemaVersion is recorded in the file's user_version.
const fileSchemaVersion = 1

const fileSchema = `
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
-- One row per pending, firing or resolved alert; data is the Record in JSON.
CREATE TABLE IF NOT EXISTS alerts (
	fingerprint TEXT NOT NULL,
	resolved    INTEGER NOT NULL,
	data        TEXT NOT NULL,
	PRIMARY KEY (fingerprint, resolved)
);
-- What each channel was told: one row per firing episode not yet told resolved. Times
-- are microseconds since the Unix epoch.
CREATE TABLE IF NOT EXISTS told (
	channel     TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	episode     INTEGER NOT NULL,
	sent_at     INTEGER NOT NULL,
	PRIMARY KEY (channel, fingerprint)
);
-- Each channel's status and its sends of the last hour; data is JSON.
CREATE TABLE IF NOT EXISTS channels (
	id   TEXT PRIMARY KEY,
	data TEXT NOT NULL
);`

// File is the state file: syncwatch's own SQLite database under the state directory
// (never the warehouse). One process uses it at a time.
type File struct {
	db      *sql.DB
	path    string
	release func()
}

// OpenFile opens (creating it and dir when absent) the state file in dir, and holds it:
// a second process on the same file is refused, as two writers would each forget what
// the other sent.
func OpenFile(ctx context.Context, dir string) (*File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	path := filepath.Join(dir, StateFileName)
	release, err := claim(path)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		release()
		return nil, err
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	// What was sent must survive a power loss as well as a crash: each save is small.
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		release()
		return nil, fmt.Errorf("state file: %w", err)
	}
	db.SetMaxOpenConns(1)
	f := &File{db: db, path: abs, release: release}
	if err := f.migrate(ctx); err != nil {
		f.Close()
		return nil, fmt.Errorf("state file %s: %w", abs, err)
	}
	return f, nil
}

// Path is the state file's path.
func (f *File) Path() string { return f.path }

// Close closes the file and lets another process open it.
func (f *File) Close() error {
	err := f.db.Close()
	f.release()
	return err
}

func (f *File) migrate(ctx context.Context) error {
	tx, err := f.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version > fileSchemaVersion {
		return fmt.Errorf("made by a newer syncwatch (schema version %d; this one knows %d)", version, fileSchemaVersion)
	}
	if _, err := tx.ExecContext(ctx, fileSchema); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", fileSchemaVersion)); err != nil {
		return err
	}
	return tx.Commit()
}

// Load reads the state and the replica's meta.
func (f *File) Load(ctx context.Context) (State, Meta, error) {
	st := newState()
	var meta Meta
	rows, err := f.db.QueryContext(ctx, "SELECT key, value FROM meta")
	if err != nil {
		return st, meta, fmt.Errorf("state file: %w", err)
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return st, meta, fmt.Errorf("state file: %w", err)
		}
		switch k {
		case "replica_id":
			meta.ReplicaID = v
		case "sender":
			meta.Sender = v == "1"
		}
	}
	rows.Close()

	rows, err = f.db.QueryContext(ctx, "SELECT fingerprint, resolved, data FROM alerts")
	if err != nil {
		return st, meta, fmt.Errorf("state file: %w", err)
	}
	for rows.Next() {
		var fp, data string
		var resolved bool
		var r Record
		if err := rows.Scan(&fp, &resolved, &data); err != nil {
			rows.Close()
			return st, meta, fmt.Errorf("state file: %w", err)
		}
		if err := json.Unmarshal([]byte(data), &r); err != nil {
			rows.Close()
			return st, meta, fmt.Errorf("state file: alert %s: %w", fp, err)
		}
		if resolved {
			st.Resolved[fp] = &r
		} else {
			st.Active[fp] = &r
		}
	}
	rows.Close()

	rows, err = f.db.QueryContext(ctx, "SELECT id, data FROM channels")
	if err != nil {
		return st, meta, fmt.Errorf("state file: %w", err)
	}
	for rows.Next() {
		var id, data string
		c := &ChannelState{}
		if err := rows.Scan(&id, &data); err != nil {
			rows.Close()
			return st, meta, fmt.Errorf("state file: %w", err)
		}
		if err := json.Unmarshal([]byte(data), c); err != nil {
			rows.Close()
			return st, meta, fmt.Errorf("state file: channel %s: %w", id, err)
		}
		c.Told = map[string]Told{}
		st.Channels[id] = c
	}
	rows.Close()

	rows, err = f.db.QueryContext(ctx, "SELECT channel, fingerprint, episode, sent_at FROM told")
	if err != nil {
		return st, meta, fmt.Errorf("state file: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, fp string
		var episode, sent int64
		if err := rows.Scan(&id, &fp, &episode, &sent); err != nil {
			return st, meta, fmt.Errorf("state file: %w", err)
		}
		c := st.Channels[id]
		if c == nil {
			c = &ChannelState{Told: map[string]Told{}}
			st.Channels[id] = c
		}
		c.Told[fp] = Told{Episode: time.UnixMicro(episode).UTC(), SentAt: time.UnixMicro(sent).UTC()}
	}
	return st, meta, rows.Err()
}

// Save replaces the file's state with s, in one transaction.
func (f *File) Save(ctx context.Context, s State, meta Meta) error {
	tx, err := f.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	defer tx.Rollback()
	exec := func(q string, args ...any) {
		if err == nil {
			_, err = tx.ExecContext(ctx, q, args...)
		}
	}
	// The rows are many (an alert per entity, told to each channel): each insert is
	// prepared once per save.
	prepare := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = tx.PrepareContext(ctx, q)
		return st
	}
	run := func(st *sql.Stmt, args ...any) {
		if err == nil {
			_, err = st.ExecContext(ctx, args...)
		}
	}
	exec("DELETE FROM alerts")
	exec("DELETE FROM told")
	exec("DELETE FROM channels")
	exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('replica_id', ?), ('sender', ?)",
		meta.ReplicaID, map[bool]string{true: "1", false: "0"}[meta.Sender])
	insertAlert := prepare("INSERT INTO alerts (fingerprint, resolved, data) VALUES (?, ?, ?)")
	insertTold := prepare("INSERT INTO told (channel, fingerprint, episode, sent_at) VALUES (?, ?, ?, ?)")
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	defer insertAlert.Close()
	defer insertTold.Close()
	for resolved, m := range map[bool]map[string]*Record{false: s.Active, true: s.Resolved} {
		for fp, r := range m {
			data, jerr := json.Marshal(r)
			if jerr != nil {
				return fmt.Errorf("state file: %w", jerr)
			}
			run(insertAlert, fp, resolved, string(data))
		}
	}
	for id, c := range s.Channels {
		status := *c
		status.Told = nil
		data, jerr := json.Marshal(status)
		if jerr != nil {
			return fmt.Errorf("state file: %w", jerr)
		}
		exec("INSERT INTO channels (id, data) VALUES (?, ?)", id, string(data))
		for fp, t := range c.Told {
			run(insertTold, id, fp, t.Episode.UnixMicro(), t.SentAt.UnixMicro())
		}
	}
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	return nil
}

// newReplicaID makes a replica's name: 16 random hexadecimal digits.
func newReplicaID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(errors.New("alerts: no randomness")) // crypto/rand never fails on supported systems
	}
	return hex.EncodeToString(b[:])
}
