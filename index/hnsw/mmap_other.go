//go:build !unix

package hnsw

import "os"

// mapFile reads path into memory (no mmap on this platform).
func mapFile(path string) (b []byte, mapped bool, err error) {
	b, err = os.ReadFile(path)
	return b, false, err
}

func unmapFile(b []byte) error { return nil }

// lockDir is a no-op on this platform.
func lockDir(dir string) (func(), error) { return func() {}, nil }
