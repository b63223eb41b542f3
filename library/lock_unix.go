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
	if purpose == LockSearch && writerWaiting(dir) {
		return nil, &LockedError{Dir: dir} // the writer's pid and purpose are not known
	}
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

// announceWriter marks that a writer waits for dir's lock: it holds an
// exclusive flock on the "lock.wait" file until release. Searches probe
// that file with shared locks (writerWaiting), which do not conflict with
// one another. ok is false when the lock is taken, by another waiting
// writer (whose announcement serves this one too) or by a search probing
// at this instant.
func announceWriter(dir string) (release func(), ok bool, err error) {
	path := filepath.Join(dir, "lock.wait")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("library: open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return func() {}, false, nil
		}
		return nil, false, fmt.Errorf("library: lock %s: %w", path, err)
	}
	return func() { unlockFile(f); f.Close() }, true, nil
}

// writerWaiting reports whether a writer announced that it waits for
// dir's lock (announceWriter).
func writerWaiting(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "lock.wait"))
	if err != nil {
		return false // no writer ever waited
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	unlockFile(f)
	return false
}
