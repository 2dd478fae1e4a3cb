package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// historyColumns are the columns of orchestration.sync_history that syncwatch reads,
// with the types it can read them as (both table shapes included).
var historyColumns = []struct {
	name  string
	types []string
}{
	{"id", []string{"integer", "bigint"}},
	{"crm_source", []string{"character varying", "text"}},
	{"sync_type", []string{"character varying", "text"}},
	{"status", []string{"character varying", "text"}},
	{"start_time", []string{"timestamp with time zone", "timestamp without time zone"}},
	{"end_time", []string{"timestamp with time zone", "timestamp without time zone"}},
	{"records_processed", []string{"integer", "bigint", "smallint"}},
	{"records_created", []string{"integer", "bigint", "smallint"}},
	{"records_updated", []string{"integer", "bigint", "smallint"}},
	{"records_failed", []string{"integer", "bigint", "smallint"}},
	{"error_message", []string{"text", "character varying"}},
}

// tablesState is what the catalog says about the two tables and the role's rights.
type tablesState struct {
	// schemaUsable: the role has USAGE on the schema orchestration, without which no
	// table in it can be read, whatever the table's own rights.
	schemaUsable               bool
	history, historyReadable   bool
	schedule, scheduleReadable bool
	// columns maps each column of sync_history to its type (without modifiers).
	columns map[string]string
	version string
}

// readTables asks the catalog, which every role may read, about the tables: a missing
// table or right is then reported as such, before any query of the figures fails on it.
func readTables(ctx context.Context, conn interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (tablesState, error) {
	var st tablesState
	var columns []byte
	// The tables are looked up in pg_class by name, not with to_regclass, which fails
	// ("permission denied for schema") for a role without USAGE on the schema.
	err := conn.QueryRow(ctx, `
		WITH n AS (SELECT oid FROM pg_namespace WHERE nspname = 'orchestration'),
		t AS (SELECT
			(SELECT c.oid FROM pg_class c JOIN n ON c.relnamespace = n.oid WHERE c.relname = 'sync_history') AS h,
			(SELECT c.oid FROM pg_class c JOIN n ON c.relnamespace = n.oid WHERE c.relname = 'sync_schedule') AS s,
			(SELECT has_schema_privilege(oid, 'USAGE') FROM n) AS usable)
		SELECT coalesce(usable, false),
		       h IS NOT NULL, h IS NOT NULL AND has_table_privilege(h, 'SELECT'),
		       s IS NOT NULL, s IS NOT NULL AND has_table_privilege(s, 'SELECT'),
		       (SELECT json_object_agg(attname, format_type(atttypid, NULL)) FROM pg_attribute
		         WHERE attrelid = h AND attnum > 0 AND NOT attisdropped),
		       current_setting('server_version')
		FROM t`).Scan(&st.schemaUsable, &st.history, &st.historyReadable, &st.schedule, &st.scheduleReadable, &columns, &st.version)
	if err != nil {
		return st, fmt.Errorf("tables: %w", classify(err))
	}
	if columns != nil {
		if err := json.Unmarshal(columns, &st.columns); err != nil {
			return st, fmt.Errorf("tables: columns: %w", err)
		}
	}
	return st, nil
}

// problems returns what keeps syncwatch from reading the figures (an error wrapping
// syncs.ErrNotReady, with its fix), and what leaves them incomplete (warnings).
func (st tablesState) problems(role string) (error, []string) {
	notReady := func(reason string) error {
		return &syncs.SourceError{Kind: syncs.ErrNotReady, Reason: reason + "; run `syncwatch doctor`",
			Err: fmt.Errorf("warehouse tables: %s", reason)}
	}
	switch {
	case !st.history:
		return notReady("table orchestration.sync_history does not exist (is DATABASE_URL the warehouse's database?)"), nil
	case !st.schemaUsable:
		return notReady(fmt.Sprintf("role %s may not use the schema orchestration (GRANT USAGE ON SCHEMA orchestration TO %s)", role, role)), nil
	case !st.historyReadable:
		return notReady(fmt.Sprintf("role %s may not read orchestration.sync_history (GRANT SELECT ON orchestration.sync_history TO %s)", role, role)), nil
	}
	var wrong []string
	for _, c := range historyColumns {
		got, ok := st.columns[c.name]
		switch {
		case !ok:
			wrong = append(wrong, "column "+c.name+" is missing")
		case !slices.Contains(c.types, got):
			wrong = append(wrong, fmt.Sprintf("column %s is %s, not %s", c.name, got, c.types[0]))
		}
	}
	if len(wrong) > 0 {
		return notReady("orchestration.sync_history is not the table syncwatch knows: " + strings.Join(wrong, ", ")), nil
	}
	var warnings []string
	switch {
	case !st.schedule:
		warnings = append(warnings, "table orchestration.sync_schedule does not exist: next runs and overdue marks are unknown; run `syncwatch doctor`")
	case !st.scheduleReadable:
		warnings = append(warnings, fmt.Sprintf("role %s may not read orchestration.sync_schedule: next runs and overdue marks are unknown (GRANT SELECT ON orchestration.sync_schedule TO %s)", role, role))
	}
	return nil, warnings
}
