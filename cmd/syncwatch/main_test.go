package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when any goroutine outlives the tests: every test stops
// the syncwatch it started (its run() returns), so whatever is left was started by run()
// and not joined at shutdown. It also stops the RabbitMQ node and removes the binary that
// tests may have started and built.
func TestMain(m *testing.M) {
	code := m.Run()
	stopRabbitMQ()
	if bin, err := builtBinary(); err == nil {
		os.RemoveAll(filepath.Dir(bin))
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goroutines outlived the tests: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
