//go:build unix

package alerts

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// claim holds the state file at path for this process: an exclusive, non-blocking flock
// on path+".lock", which the kernel drops when the process ends.
func claim(path string) (release func(), err error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("state file %s is in use by another syncwatch: give each replica its own --state-dir", path)
		}
		return nil, fmt.Errorf("state file: %w", err)
	}
	return func() { f.Close() }, nil
}
