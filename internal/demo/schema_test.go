package demo_test

import (
	"os"
	"testing"

	"github.com/syncwatch/syncwatch/internal/demo"
	"github.com/syncwatch/syncwatch/internal/pgtest"
)

// TestWarehouseSchemaIsPgtests keeps the embedded copies of the warehouse's tables equal,
// byte for byte, to the files the PostgreSQL tests build their databases from.
func TestWarehouseSchemaIsPgtests(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ copy, original string }{
		{"schema/shape-a.sql", "../pgtest/django-schema.sql"},
		{"schema/shape-b.sql", "../pgtest/shape-b.sql"},
	} {
		got, err := os.ReadFile(c.copy)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(c.original)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s differs from %s: copy it again", c.copy, c.original)
		}
	}
	for _, shape := range pgtest.Shapes {
		got, err := demo.WarehouseSchema(string(shape))
		if err != nil {
			t.Fatal(err)
		}
		if got != pgtest.Schema(shape) {
			t.Errorf("shape %s: got a schema that differs from pgtest.Schema's", shape)
		}
	}
	if _, err := demo.WarehouseSchema("C"); err == nil {
		t.Error("shape C: got no error, want one naming the known shapes")
	}
}
