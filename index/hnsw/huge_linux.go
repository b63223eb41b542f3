package hnsw

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// adviseHuge asks the kernel to back the n bytes at p with transparent
// huge pages where THP is in madvise mode. A search reads rows scattered
// over gigabytes; with 4 KiB pages nearly every row is a TLB miss. It is a
// hint: errors are ignored.
func adviseHuge(p unsafe.Pointer, n int) {
	const page = 4096
	skip := int((page - uintptr(p)%page) % page)
	if n-skip < page {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Add(p, skip)), (n-skip)&^(page-1))
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
}
