package perf

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// EntitiesPerEntity answers the question of syncs.Store.Entities another way, measured
// against the store's (docs/performance.md): it finds the entities by a loose scan of the
// (crm_source, sync_type, start_time) index, then reads each entity's rows since since
// along that index, in order, so that no sort of all of them is needed. It exists only
// to be measured: the store reads one start_time range instead, which both shapes can
// bound. It returns how many rows it read back.
func EntitiesPerEntity(ctx context.Context, pool *pgxpool.Pool, since time.Time, successes int) (int, error) {
	const sql = `WITH RECURSIVE entities AS (
			(SELECT crm_source, sync_type FROM orchestration.sync_history ORDER BY crm_source, sync_type LIMIT 1)
			UNION ALL
			SELECT n.crm_source, n.sync_type FROM entities e CROSS JOIN LATERAL (
				SELECT crm_source, sync_type FROM orchestration.sync_history h
				WHERE (h.crm_source, h.sync_type) > (e.crm_source, e.sync_type)
				ORDER BY crm_source, sync_type LIMIT 1) n
		)
		SELECT p.* FROM entities e CROSS JOIN LATERAL (
			SELECT * FROM (
				SELECT *,
					count(*) FILTER (WHERE status = 'failed' AND nth_success = 0) OVER () AS consecutive_failures,
					max(COALESCE(end_time, start_time)) FILTER (WHERE succeeded) OVER () AS last_success
				FROM (
					SELECT *,
						row_number() OVER w AS nth,
						count(*) FILTER (WHERE finished) OVER w AS nth_finished,
						count(*) FILTER (WHERE timed) OVER w AS nth_timed,
						count(*) FILTER (WHERE succeeded) OVER w AS nth_success
					FROM (
						SELECT id, crm_source, sync_type,
							CASE status WHEN 'in_progress' THEN 'running' WHEN 'completed' THEN 'success' ELSE status END AS status,
							start_time, end_time, records_processed, records_created, records_updated, records_failed,
							status IN ('success', 'completed', 'partial') AS succeeded,
							status NOT IN ('running', 'in_progress') AS finished,
							status NOT IN ('running', 'in_progress') AND end_time IS NOT NULL AND end_time >= start_time AS timed
						FROM orchestration.sync_history h
						WHERE h.crm_source = e.crm_source AND h.sync_type = e.sync_type AND h.start_time >= $1
					) h
					WINDOW w AS (ORDER BY start_time DESC, id DESC ROWS UNBOUNDED PRECEDING)
				) r
			) t
			WHERE nth = 1 OR (finished AND nth_finished = 1) OR (timed AND nth_timed = 1) OR (succeeded AND nth_success <= $2)
		) p`
	rows, err := pool.Query(ctx, sql, since, successes)
	if err != nil {
		return 0, fmt.Errorf("entities per entity: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}
