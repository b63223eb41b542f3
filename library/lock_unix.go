//go:build unix

package library

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockDir takes the library's exclusive write lock without waiting. The
// lock file records the holder's pid and purpose for the *LockedError of
// the next one.
func lockDir(dir, purpose string) (*os.File, error) {
	path := filepath.Join(dir, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("library: open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			le := &LockedError{Dir: dir}
			if b, rerr := os.ReadFile(path); rerr == nil {
				if fields := strings.Fields(string(b)); len(fields) > 0 {
					le.PID, _ = strconv.Atoi(fields[0])
					if len(fields) > 1 {
						le.Purpose = fields[1]
					}
				}
			}
			return nil, le
		}
		return nil, fmt.Errorf("library: lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt(fmt.Appendf(nil, "%d %s\n", os.Getpid(), purpose), 0)
	}
	return f, nil
}

func unlockFile(f *os.File) { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
