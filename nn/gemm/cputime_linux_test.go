//go:build linux

package gemm

import (
	"syscall"
	"unsafe"
)

// cpuSeconds is the CPU time of the process (all threads), so that
// benchmarks can report throughput per busy core on a shared machine.
func cpuSeconds() float64 {
	const clockProcessCPUTime = 2
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCPUTime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return float64(ts.Nano()) / 1e9
}
