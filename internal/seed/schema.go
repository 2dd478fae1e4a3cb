package seed

import (
	_ "embed"
	"fmt"
	"strings"
)

// The warehouse's tables, the one copy in the project: "syncwatch seed --create-schema"
// creates them, and the tests build their databases from them (internal/pgtest).
// shape-a.sql is the reference django-schema.sql unchanged; shape-b.sql is the
// Django-generated sync_history of real-world-facts.md.
var (
	//go:embed schema/shape-a.sql
	shapeA string
	//go:embed schema/shape-b.sql
	shapeBHistory string
)

// WarehouseSchema returns the SQL that creates orchestration.sync_history,
// orchestration.sync_schedule and django-celery-beat's periodic task table, with
// sync_history in one of the two shapes it takes in the wild: "A", the hand-written
// migration, or "B", Django's generated table.
func WarehouseSchema(shape string) (string, error) {
	switch strings.ToUpper(shape) {
	case "A":
		return shapeA, nil
	case "B":
		// Shape B differs only in sync_history: take the rest (schedules, beat table)
		// from shape A, so the two never drift apart.
		rest := shapeA[strings.Index(shapeA, "-- orchestration.sync_schedule"):]
		return shapeBHistory + "\n" + rest, nil
	}
	return "", fmt.Errorf("unknown table shape %q: want A (the hand-written migration) or B (Django's generated table); syncwatch seed -h describes both", shape)
}
