package demo

import (
	_ "embed"
	"fmt"
	"strings"
)

// The warehouse's tables, for "syncwatch seed --create-schema" into an empty PostgreSQL
// database. They are copies of internal/pgtest's files, which tests build their databases
// from; schema_test.go fails when the copies drift from them.
var (
	//go:embed schema/shape-a.sql
	shapeA string
	//go:embed schema/shape-b.sql
	shapeBHistory string
)

// WarehouseSchema returns the SQL that creates orchestration.sync_history,
// orchestration.sync_schedule and django-celery-beat's periodic task table in one of the
// two shapes the warehouse's sync_history takes in the wild (see real-world-facts.md):
// "A", the hand-written migration, or "B", Django's generated table.
func WarehouseSchema(shape string) (string, error) {
	switch strings.ToUpper(shape) {
	case "A":
		return shapeA, nil
	case "B":
		// Shape B differs only in sync_history; the rest is shape A's, as in pgtest.
		rest := shapeA[strings.Index(shapeA, "-- orchestration.sync_schedule"):]
		return shapeBHistory + "\n" + rest, nil
	}
	return "", fmt.Errorf("unknown table shape %q: want A (django-schema.sql) or B (Django's generated table)", shape)
}
