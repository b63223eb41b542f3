//go:build !linux

package hnsw

import "unsafe"

// adviseHuge is a no-op where madvise(MADV_HUGEPAGE) does not exist.
func adviseHuge(p unsafe.Pointer, n int) {}
