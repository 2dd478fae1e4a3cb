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

// scheduleColumns are the columns of orchestration.sync_schedule that syncwatch reads.
var scheduleColumns = []struct {
	name  string
	types []string
}{
	{"id", []string{"bigint", "integer"}},
	{"name", []string{"character varying", "text"}},
	{"crm_source", []string{"character varying", "text"}},
	{"model_name", []string{"character varying", "text"}},
	{"mode", []string{"character varying", "text"}},
	{"source_key", []string{"character varying", "text"}},
	{"recurrence_type", []string{"character varying", "text"}},
	{"every", []string{"integer", "bigint", "smallint"}},
	{"period", []string{"character varying", "text"}},
	{"minute", []string{"character varying", "text"}},
	{"hour", []string{"character varying", "text"}},
	{"day_of_week", []string{"character varying", "text"}},
	{"day_of_month", []string{"character varying", "text"}},
	{"month_of_year", []string{"character varying", "text"}},
	{"start_at", []string{"timestamp with time zone", "timestamp without time zone"}},
	{"end_at", []string{"timestamp with time zone", "timestamp without time zone"}},
	{"enabled", []string{"boolean"}},
	{"updated_at", []string{"timestamp with time zone", "timestamp without time zone"}},
}

// wrongColumns lists how a table's columns (name → type) differ from what syncwatch reads.
func wrongColumns(have map[string]string, want []struct {
	name  string
	types []string
}) []string {
	var wrong []string
	for _, c := range want {
		got, ok := have[c.name]
		switch {
		case !ok:
			wrong = append(wrong, "column "+c.name+" is missing")
		case !slices.Contains(c.types, got):
			wrong = append(wrong, fmt.Sprintf("column %s is %s, not %s", c.name, got, c.types[0]))
		}
	}
	return wrong
}

// tablesState is what the catalog says about the two tables and the role's rights.
type tablesState struct {
	// schemaUsable: the role has USAGE on the schema orchestration, without which no
	// table in it can be read, whatever the table's own rights.
	schemaUsable               bool
	history, historyReadable   bool
	schedule, scheduleReadable bool
	// columns and scheduleColumns map each column of sync_history and sync_schedule to
	// its type (without modifiers).
	columns, scheduleColumns map[string]string
	version                  string
}

// readTables asks the catalog, which every role may read, about the tables: a missing
// table or right is then reported as such, before any query of the figures fails on it.
func readTables(ctx context.Context, conn interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (tablesState, error) {
	var st tablesState
	var columns, schedColumns []byte
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
		       (SELECT json_object_agg(attname, format_type(atttypid, NULL)) FROM pg_attribute
		         WHERE attrelid = s AND attnum > 0 AND NOT attisdropped),
		       current_setting('server_version')
		FROM t`).Scan(&st.schemaUsable, &st.history, &st.historyReadable, &st.schedule, &st.scheduleReadable,
		&columns, &schedColumns, &st.version)
	if err != nil {
		return st, fmt.Errorf("tables: %w", classify(err))
	}
	if columns != nil {
		if err := json.Unmarshal(columns, &st.columns); err != nil {
			return st, fmt.Errorf("tables: columns: %w", err)
		}
	}
	if schedColumns != nil {
		if err := json.Unmarshal(schedColumns, &st.scheduleColumns); err != nil {
			return st, fmt.Errorf("tables: sync_schedule's columns: %w", err)
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
	if wrong := wrongColumns(st.columns, historyColumns); len(wrong) > 0 {
		return notReady("orchestration.sync_history is not the table syncwatch knows: " + strings.Join(wrong, ", ")), nil
	}
	var warnings []string
	switch {
	case !st.schedule:
		warnings = append(warnings, "table orchestration.sync_schedule does not exist: next runs and overdue marks are unknown; run `syncwatch doctor`")
	case !st.scheduleReadable:
		warnings = append(warnings, fmt.Sprintf("role %s may not read orchestration.sync_schedule: next runs and overdue marks are unknown (GRANT SELECT ON orchestration.sync_schedule TO %s)", role, role))
	default:
		if wrong := wrongColumns(st.scheduleColumns, scheduleColumns); len(wrong) > 0 {
			warnings = append(warnings, "orchestration.sync_schedule is not the table syncwatch knows ("+
				strings.Join(wrong, ", ")+"): next runs and overdue marks are unknown; run `syncwatch doctor`")
		}
	}
	return nil, warnings
}
