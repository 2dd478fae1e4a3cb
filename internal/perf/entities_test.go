package perf_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/syncwatch/syncwatch/internal/perf"
	"github.com/syncwatch/syncwatch/internal/postgres"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// BenchmarkSyncwatchEntities measures the questions alerts and metrics ask of the
// warehouse once per refresh (never per viewer or scrape): every entity's figures over 30
// days, the stuck runs, and one entity's successful runs' records over the 30 days before
// its latest success (the empty-runs rule's median; asked of the busiest and the rarest
// entity). Beside them, the alternative the store's Entities was measured against.
//
// With SYNCWATCH_EXPLAIN_OUT set to a file, it first writes there the plan of each
// question as it ran (EXPLAIN ANALYZE with BUFFERS, through auto_explain: a superuser).
func BenchmarkSyncwatchEntities(b *testing.B) {
	url := benchDatabase(b)
	ctx := context.Background()
	now := time.Now()
	q := syncs.EntityQuery{Since: now.Add(-30 * 24 * time.Hour), Successes: 3}
	store, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })

	entities, err := store.Entities(ctx, q)
	if err != nil {
		b.Fatal(err)
	}
	if len(entities) == 0 {
		b.Fatal("no entity ran in the last 30 days: the benchmark database is stale; seed it again")
	}
	// The busiest and the rarest entity with a success: the empty-runs rule asks for the
	// records of the 30 days before its latest successes.
	type span struct {
		source, syncType string
		from, to         time.Time
	}
	var spans []span
	for _, e := range entities {
		if len(e.RecentSuccesses) > 0 {
			last := e.RecentSuccesses[len(e.RecentSuccesses)-1].Start
			spans = append(spans, span{e.CRMSource, e.SyncType, last.Add(-30 * 24 * time.Hour), last})
		}
	}
	if len(spans) == 0 {
		b.Fatal("no entity succeeded in the last 30 days: the benchmark database is not the demo's history")
	}
	busiest, rarest := spans[0], spans[0]
	counts := map[span]int{}
	for _, s := range spans {
		v, err := store.SuccessRecords(ctx, s.source, s.syncType, s.from, s.to, 100_000)
		if err != nil {
			b.Fatal(err)
		}
		counts[s] = len(v)
		if counts[s] > counts[busiest] {
			busiest = s
		}
		if counts[s] < counts[rarest] {
			rarest = s
		}
	}
	b.Logf("%d entities; success records of the busiest, %s %s: %d; of the rarest, %s %s: %d",
		len(entities), busiest.source, busiest.syncType, counts[busiest], rarest.source, rarest.syncType, counts[rarest])

	questions := []struct {
		name string
		ask  func(syncs.Store) error
	}{
		{"entities", func(s syncs.Store) error { _, err := s.Entities(ctx, q); return err }},
		{"stuck-runs", func(s syncs.Store) error { _, err := s.StuckRuns(ctx, now.Add(-time.Hour), 100); return err }},
		{"success-records/busiest", func(s syncs.Store) error {
			_, err := s.SuccessRecords(ctx, busiest.source, busiest.syncType, busiest.from, busiest.to, 10_000)
			return err
		}},
		{"success-records/rarest", func(s syncs.Store) error {
			_, err := s.SuccessRecords(ctx, rarest.source, rarest.syncType, rarest.from, rarest.to, 10_000)
			return err
		}},
	}
	if out := os.Getenv("SYNCWATCH_EXPLAIN_OUT"); out != "" {
		writePlans(b, url, out, func(s syncs.Store, pool *pgxpool.Pool) {
			for _, question := range questions {
				if err := question.ask(s); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := perf.EntitiesPerEntity(ctx, pool, q.Since, q.Successes); err != nil {
				b.Fatal(err)
			}
		})
	}
	cpu := serverCPU(b, url)
	for _, question := range questions {
		b.Run(question.name, func(b *testing.B) { cpu.timed(b, func() error { return question.ask(store) }) })
	}

	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	b.Run("alternative/entities-per-entity", func(b *testing.B) {
		cpu.timed(b, func() error {
			_, err := perf.EntitiesPerEntity(ctx, pool, q.Since, q.Successes)
			return err
		})
	})
}

// backendCPU reads the CPU time the server's backends connected to one database have
// used, when the server runs on this machine: a measure of the work a question costs
// the warehouse that the other processes of a busy machine do not inflate as much as
// they inflate its duration.
type backendCPU struct {
	conn *pgx.Conn
}

// serverCPU watches the backends of url's database, other than its own.
func serverCPU(b *testing.B, url string) backendCPU {
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close(context.Background()) })
	return backendCPU{conn}
}

// used returns the CPU time the watched backends have used so far, read from Linux's
// /proc/PID/schedstat; false when a backend's cannot be read (a server elsewhere).
func (c backendCPU) used() (time.Duration, bool) {
	rows, err := c.conn.Query(context.Background(), `SELECT pid FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	if err != nil {
		return 0, false
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return 0, false
	}
	var total time.Duration
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
		if err != nil {
			return 0, false
		}
		fields := strings.Fields(string(stat))
		if len(fields) == 0 {
			return 0, false
		}
		ns, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, false
		}
		total += time.Duration(ns)
	}
	return total, true
}

// timed is the package's timed, and reports besides the mean server CPU time of an
// iteration, when it can be read. The connections of the store measured must stay open
// through the loop, as a pool's do.
func (c backendCPU) timed(b *testing.B, f func() error) {
	before, ok := c.used()
	timed(b, f)
	if after, ok2 := c.used(); ok && ok2 && after >= before {
		b.ReportMetric(float64((after-before).Microseconds())/1000/float64(b.N), "server-cpu-ms")
	}
}

// writePlans runs ask on a store, and on a pool for the alternatives, that receive the
// plan of every statement they run, and writes the plans to path.
func writePlans(b *testing.B, url, path string, ask func(syncs.Store, *pgxpool.Pool)) {
	var mu sync.Mutex
	var plans []string
	explain := func(plan string) {
		mu.Lock()
		defer mu.Unlock()
		plans = append(plans, plan)
	}
	s, err := postgres.Open(context.Background(), url, postgres.Options{Explain: explain})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		b.Fatal(err)
	}
	// The settings postgres.Open gives its connections when Options.Explain is set.
	for k, v := range map[string]string{"session_preload_libraries": "auto_explain",
		"auto_explain.log_min_duration": "0", "auto_explain.log_analyze": "on",
		"auto_explain.log_buffers": "on", "auto_explain.log_level": "notice"} {
		cfg.ConnConfig.RuntimeParams[k] = v
	}
	cfg.ConnConfig.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		if strings.HasPrefix(n.Message, "duration:") {
			explain(n.Message)
		}
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	ask(s, pool)
	mu.Lock()
	defer mu.Unlock()
	var out strings.Builder
	for i, p := range plans {
		fmt.Fprintf(&out, "--- statement %d of %d\n%s\n\n", i+1, len(plans), p)
	}
	if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
		b.Fatal(err)
	}
}
