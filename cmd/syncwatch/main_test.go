package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when any goroutine outlives the tests: every test stops
// the syncwatch it started (its run() returns), so whatever is left was started by run()
// and not joined at shutdown.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
