//go:build !unix

package library

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockDir creates the lock file exclusively; a stale file left by a killed
// process must be removed by hand on systems without flock.
func lockDir(dir, purpose string) (*os.File, error) {
	path := filepath.Join(dir, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if os.IsExist(err) {
		return nil, &LockedError{Dir: dir + " (remove " + path + " if no sight process runs)"}
	}
	if err != nil {
		return nil, fmt.Errorf("library: lock %s: %w", path, err)
	}
	fmt.Fprintf(f, "%d %s\n", os.Getpid(), purpose)
	return f, nil
}

func unlockFile(f *os.File) { os.Remove(f.Name()) }

// announceWriter does nothing without flock: there a search holds the
// lock file like a writer, and a stream of searches can still keep a
// writer out.
func announceWriter(dir string) (release func(), ok bool, err error) { return func() {}, true, nil }

// writerWaiting reports false without flock.
func writerWaiting(dir string) bool { return false }
