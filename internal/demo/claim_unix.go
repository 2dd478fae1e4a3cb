//go:build unix

package demo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"syscall"
)

// ClaimSimulator takes the right to simulate in the demo file at path: an exclusive,
// non-blocking flock on the lock file path+".simulator". Two processes on one demo file
// would otherwise both write every run of the history. ok is false when another process
// (or another open in this one) holds it. The claim lasts until release is called, which
// removes the lock file; the kernel drops the lock when the process ends, so a demo that
// crashed leaves a file behind but never a stale claim.
//
// Removing a lock file that others open and flock is racy unless every side follows one
// rule, and this is it:
//   - Only the holder removes the file, and it removes it before it lets go of the lock
//     (unlink, then close). Nobody else ever deletes it.
//   - A claimant that got the lock checks that the file it locked is still the one at
//     the path (same device and inode). If the holder removed it between the claimant's
//     open and its flock, the claimant holds a lock on a file no one else can find: it
//     lets go and tries again with the file now at the path.
//
// So at any moment at most one process holds a lock on the file the path names, and
// that process alone simulates.
func ClaimSimulator(path string) (release func(), ok bool, err error) {
	return claim(path+".simulator", claimHooks{})
}

// claimAttempts bounds the retries of a claimant whose lock file was removed under it:
// each retry means a holder let go meanwhile, which happens once per shutdown.
const claimAttempts = 10

// claimHooks let the tests act inside the two windows the rule above must cover; both
// are nil outside the tests.
type claimHooks struct {
	// afterOpen runs between a claimant's open and its flock.
	afterOpen func()
	// midRelease runs between the two steps of a release.
	midRelease func()
}

// claim takes the lock file at lockPath.
func claim(lockPath string, hooks claimHooks) (release func(), ok bool, err error) {
	for range claimAttempts {
		f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, false, fmt.Errorf("demo simulator claim: %w", err)
		}
		if hooks.afterOpen != nil {
			hooks.afterOpen()
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, false, nil
			}
			return nil, false, fmt.Errorf("demo simulator claim: %w", err)
		}
		current, err := isFileAt(f, lockPath)
		if err != nil {
			f.Close()
			return nil, false, fmt.Errorf("demo simulator claim: %w", err)
		}
		if !current {
			f.Close() // the holder removed it after our open: claim the file there now
			continue
		}
		var once sync.Once
		return func() {
			once.Do(func() {
				// Unlink while holding the lock: a claimant that opened this file in
				// the meantime finds it gone once it gets the lock, and retries. A file
				// that cannot be removed stays behind, harmless: the next claimant locks
				// and reuses it.
				_ = os.Remove(lockPath)
				if hooks.midRelease != nil {
					hooks.midRelease()
				}
				f.Close()
			})
		}, true, nil
	}
	return nil, false, fmt.Errorf("demo simulator claim: %s was replaced %d times while being claimed", lockPath, claimAttempts)
}

// isFileAt reports whether the open file f is the file at path now.
func isFileAt(f *os.File, path string) (bool, error) {
	opened, err := f.Stat()
	if err != nil {
		return false, err
	}
	named, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(opened, named), nil
}
