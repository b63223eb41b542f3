//go:build !amd64 || purego

package vec

func selectImpl() kernels { return genericKernels() }

// candidates lists every kernel set this build can run.
func candidates() []kernels { return []kernels{genericKernels()} }

// prefetch is a no-op without assembly.
func prefetch(p *uint32, n int) {}
