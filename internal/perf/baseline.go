// Package perf measures syncwatch on a large sync_history: benchmarks of every endpoint's
// figures, computed the way syncwatch computes them and the straightforward way the
// requirements sketch (Baseline), so the report can put the two side by side.
//
// Nothing here is used by syncwatch itself.
package perf

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/syncwatch/syncwatch/internal/errclass"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// Baseline computes the dashboard's figures as the requirements' sketch does, translated
// from the Django ORM to SQL statement for statement: separate counts, one query per CRM,
// one query per chart day. It exists only to be measured against syncwatch; its figures
// follow the sketch, not the contract.
type Baseline struct {
	Pool    *pgxpool.Pool
	Sources []string
}

func (b *Baseline) count(ctx context.Context, sql string, args ...any) (int64, error) {
	var n int64
	err := b.Pool.QueryRow(ctx, sql, args...).Scan(&n)
	return n, err
}

// Stats is the sketch's "Get Overview Statistics": four separate counts.
func (b *Baseline) Stats(ctx context.Context, now time.Time) error {
	yesterday := now.Add(-24 * time.Hour)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`SELECT count(*) FROM orchestration.sync_history WHERE status = 'running'`, nil},
		{`SELECT count(*) FROM orchestration.sync_history WHERE status = 'success' AND end_time >= $1`, []any{yesterday}},
		{`SELECT count(*) FROM orchestration.sync_history WHERE status = 'failed' AND end_time >= $1`, []any{yesterday}},
		{`SELECT count(*) FROM orchestration.sync_history WHERE status = 'partial' AND end_time >= $1`, []any{yesterday}},
	} {
		if _, err := b.count(ctx, q.sql, q.args...); err != nil {
			return fmt.Errorf("baseline stats: %w", err)
		}
	}
	return nil
}

// CRMStatus is the sketch's "Get Last Sync Per CRM": for each CRM, its last row by
// end_time, then its running count.
func (b *Baseline) CRMStatus(ctx context.Context) error {
	for _, crm := range b.Sources {
		rows, err := b.Pool.Query(ctx, `SELECT id, status, end_time, records_processed FROM orchestration.sync_history
			WHERE crm_source = $1 ORDER BY end_time DESC LIMIT 1`, crm)
		if err != nil {
			return fmt.Errorf("baseline crm status: %w", err)
		}
		rows.Close()
		if _, err := b.count(ctx, `SELECT count(*) FROM orchestration.sync_history WHERE crm_source = $1 AND status = 'running'`, crm); err != nil {
			return fmt.Errorf("baseline crm status: %w", err)
		}
	}
	return nil
}

// RecentSyncs is the sketch's "Get Recent Syncs".
func (b *Baseline) RecentSyncs(ctx context.Context) error {
	rows, err := b.Pool.Query(ctx, `SELECT * FROM orchestration.sync_history ORDER BY start_time DESC LIMIT 20`)
	if err != nil {
		return fmt.Errorf("baseline recent syncs: %w", err)
	}
	rows.Close()
	return rows.Err()
}

// Charts computes each chart day by day and CRM by CRM.
func (b *Baseline) Charts(ctx context.Context, now time.Time, days int) error {
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	for i := days - 1; i >= 0; i-- {
		from, to := today.AddDate(0, 0, -i), today.AddDate(0, 0, -i+1)
		var avg *float64
		if err := b.Pool.QueryRow(ctx, `SELECT avg(extract(epoch FROM end_time - start_time)) FROM orchestration.sync_history
			WHERE status = 'success' AND end_time >= $1 AND end_time < $2`, from, to).Scan(&avg); err != nil {
			return fmt.Errorf("baseline charts: %w", err)
		}
		for _, status := range []string{"success", "failed"} {
			if _, err := b.count(ctx, `SELECT count(*) FROM orchestration.sync_history
				WHERE status = $3 AND end_time >= $1 AND end_time < $2`, from, to, status); err != nil {
				return fmt.Errorf("baseline charts: %w", err)
			}
		}
	}
	from := today.AddDate(0, 0, -days+1)
	for _, crm := range b.Sources {
		if _, err := b.count(ctx, `SELECT coalesce(sum(records_processed), 0) FROM orchestration.sync_history
			WHERE crm_source = $1 AND end_time >= $2`, crm, from); err != nil {
			return fmt.Errorf("baseline charts: %w", err)
		}
		if _, err := b.count(ctx, `SELECT count(*) FROM orchestration.sync_history
			WHERE crm_source = $1 AND start_time >= $2`, crm, from); err != nil {
			return fmt.Errorf("baseline charts: %w", err)
		}
	}
	return nil
}

// Errors lists the last failures, classifies every failure of the shown days in Go, and
// counts failures and totals CRM by CRM.
func (b *Baseline) Errors(ctx context.Context, now time.Time, days int) error {
	from := now.AddDate(0, 0, -days)
	rows, err := b.Pool.Query(ctx, `SELECT id, error_message FROM orchestration.sync_history
		WHERE status = 'failed' ORDER BY end_time DESC LIMIT 10`)
	if err != nil {
		return fmt.Errorf("baseline errors: %w", err)
	}
	rows.Close()
	rows, err = b.Pool.Query(ctx, `SELECT error_message FROM orchestration.sync_history
		WHERE status = 'failed' AND end_time >= $1`, from)
	if err != nil {
		return fmt.Errorf("baseline errors: %w", err)
	}
	for rows.Next() {
		var msg *string
		if err := rows.Scan(&msg); err != nil {
			rows.Close()
			return err
		}
		errclass.Classify(msg)
	}
	rows.Close()
	for _, crm := range b.Sources {
		if _, err := b.count(ctx, `SELECT count(*) FROM orchestration.sync_history
			WHERE crm_source = $1 AND status = 'failed' AND end_time >= $2`, crm, from); err != nil {
			return fmt.Errorf("baseline errors: %w", err)
		}
		if _, err := b.count(ctx, `SELECT count(*) FROM orchestration.sync_history
			WHERE crm_source = $1 AND end_time >= $2`, crm, from); err != nil {
			return fmt.Errorf("baseline errors: %w", err)
		}
	}
	return nil
}

// Refresh is one refresh of the page: every endpoint once, one after another.
func (b *Baseline) Refresh(ctx context.Context, now time.Time) error {
	if err := b.Stats(ctx, now); err != nil {
		return err
	}
	if err := b.CRMStatus(ctx); err != nil {
		return err
	}
	if err := b.RecentSyncs(ctx); err != nil {
		return err
	}
	if err := b.Charts(ctx, now, 7); err != nil {
		return err
	}
	return b.Errors(ctx, now, 7)
}

// NewBaseline opens a pool for the baseline (read-only, like syncwatch's).
func NewBaseline(ctx context.Context, url string) (*Baseline, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Baseline{Pool: pool, Sources: syncs.DefaultSources()}, nil
}
