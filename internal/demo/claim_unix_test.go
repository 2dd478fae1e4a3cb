//go:build unix

package demo

import (
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestSimulatorClaimRemovesItsLockFile: the holder's release removes the lock file; a
// process refused the claim leaves the holder's file alone; the file is claimed again
// after.
func TestSimulatorClaimRemovesItsLockFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "demo.sqlite")
	release, ok, err := ClaimSimulator(path)
	if err != nil || !ok {
		t.Fatalf("first claim: ok %v, %v", ok, err)
	}
	held, err := os.Stat(path + ".simulator")
	if err != nil {
		t.Fatalf("no lock file while the claim is held: %v", err)
	}
	if _, ok, err := ClaimSimulator(path); ok || err != nil {
		t.Fatalf("second claim while the first holds: ok %v, %v; want refused", ok, err)
	}
	if now, err := os.Stat(path + ".simulator"); err != nil || !os.SameFile(held, now) {
		t.Fatalf("the refused claim touched the holder's lock file: %v", err)
	}
	release()
	if _, err := os.Stat(path + ".simulator"); !os.IsNotExist(err) {
		t.Errorf("after release: got %v, want the lock file gone", err)
	}
	release() // a second release does nothing, and removes no one else's file
	again, ok, err := ClaimSimulator(path)
	if err != nil || !ok {
		t.Fatalf("claim after release: ok %v, %v", ok, err)
	}
	release()
	if _, err := os.Stat(path + ".simulator"); err != nil {
		t.Errorf("the first holder's second release removed the new holder's lock file: %v", err)
	}
	again()
}

// TestSimulatorClaimReusesTheFileACrashLeft: a process that died left its lock file,
// unlocked.
func TestSimulatorClaimReusesTheFileACrashLeft(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "demo.sqlite")
	if err := os.WriteFile(path+".simulator", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	release, ok, err := ClaimSimulator(path)
	if err != nil || !ok {
		t.Fatalf("claim over a crashed demo's file: ok %v, %v", ok, err)
	}
	release()
}

// TestSimulatorClaimWhileTheHolderLetsGo provokes the race of removing a lock file: B
// opens the file, the holder A removes it and lets go, then B locks the file it opened. B
// must not count that as the claim (C, opening the path afresh, would get a lock too): it
// claims the file at the path, and C is refused.
func TestSimulatorClaimWhileTheHolderLetsGo(t *testing.T) {
	t.Parallel()
	lockPath := filepath.Join(t.TempDir(), "demo.sqlite.simulator")
	releaseA, ok, err := claim(lockPath, claimHooks{})
	if err != nil || !ok {
		t.Fatalf("A: ok %v, %v", ok, err)
	}
	releaseB, ok, err := claim(lockPath, claimHooks{afterOpen: sync.OnceFunc(releaseA)})
	if err != nil || !ok {
		t.Fatalf("B, after A let go: ok %v, %v; want the claim", ok, err)
	}
	defer releaseB()
	if releaseC, ok, err := claim(lockPath, claimHooks{}); ok || err != nil {
		releaseC()
		t.Fatalf("C while B holds: ok %v, %v; want refused: two simulators on one file", ok, err)
	}
	if _, err := os.Stat(lockPath); err != nil {
		t.Errorf("B holds the claim but its lock file is not at the path: %v", err)
	}
}

// TestSimulatorClaimDuringARelease claims while the holder lets go, between its two
// steps: the claimant gets the claim, and a third is refused.
func TestSimulatorClaimDuringARelease(t *testing.T) {
	t.Parallel()
	lockPath := filepath.Join(t.TempDir(), "demo.sqlite.simulator")
	var releaseB func()
	releaseA, ok, err := claim(lockPath, claimHooks{midRelease: func() {
		var ok bool
		var err error
		releaseB, ok, err = claim(lockPath, claimHooks{})
		if err != nil || !ok {
			t.Errorf("B, while A lets go: ok %v, %v; want the claim", ok, err)
		}
	}})
	if err != nil || !ok {
		t.Fatalf("A: ok %v, %v", ok, err)
	}
	releaseA()
	if releaseB == nil {
		t.FailNow()
	}
	defer releaseB()
	if releaseC, ok, err := claim(lockPath, claimHooks{}); ok || err != nil {
		releaseC()
		t.Fatalf("C while B holds: ok %v, %v; want refused: two simulators on one file", ok, err)
	}
}

// TestSimulatorClaimIsExclusiveUnderContention claims and releases from many goroutines
// at once (each claim is its own open file, as another process's would be): never two
// holders.
func TestSimulatorClaimIsExclusiveUnderContention(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "demo.sqlite")
	var holders, claims atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				release, ok, err := ClaimSimulator(path)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					continue
				}
				claims.Add(1)
				if n := holders.Add(1); n != 1 {
					t.Errorf("%d holders at once, want 1", n)
				}
				// Hold a while, so that a second holder, if the scheme allowed one,
				// would overlap this one.
				for range 20 {
					runtime.Gosched()
				}
				holders.Add(-1)
				release()
			}
		})
	}
	wg.Wait()
	if claims.Load() == 0 {
		t.Error("no claim succeeded")
	}
}
