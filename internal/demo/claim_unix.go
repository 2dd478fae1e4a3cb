//go:build unix

package demo

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ClaimSimulator takes the right to simulate in the demo file at path: an exclusive,
// non-blocking flock on path+".simulator". Two processes on one demo file would otherwise
// both write every run of the history. ok is false when another process (or another open
// in this one) holds it. The claim lasts until release is called; the kernel drops it
// when the process ends, so a demo that crashed never leaves a stale claim behind.
func ClaimSimulator(path string) (release func(), ok bool, err error) {
	f, err := os.OpenFile(path+".simulator", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("demo simulator claim: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("demo simulator claim: %w", err)
	}
	return func() { f.Close() }, true, nil
}
