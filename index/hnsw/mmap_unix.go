//go:build unix

package hnsw

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapFile memory-maps path read-only. mapped reports whether the bytes
// must be released with unmapFile.
func mapFile(path string) (b []byte, mapped bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	if fi.Size() == 0 {
		return nil, false, nil
	}
	if int64(int(fi.Size())) != fi.Size() {
		return nil, false, fmt.Errorf("%s: file too large to map", path)
	}
	b, err = unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, false, fmt.Errorf("mmap %s: %w", path, err)
	}
	return b, true, nil
}

func unmapFile(b []byte) error { return unix.Munmap(b) }

// lockDir takes an exclusive advisory lock on dir/LOCK so two processes
// cannot open the same index. The lock dies with the process.
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(dir+"/LOCK", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: index is open in another process: %w", dir, err)
	}
	return func() {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}
