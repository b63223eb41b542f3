//go:build purego || !amd64

package gemm

// active is the portable kernel: assembly is disabled by the purego tag or
// not available on this architecture.
var active = &goKernels

// kernelSets lists every implementation usable here, for tests.
func kernelSets() []*kernelSet { return []*kernelSet{&goKernels} }

// activeBF16 is the portable bf16 kernel.
var activeBF16 = &goBF16Kernels

// bf16KernelSets lists every bf16 implementation usable here, for tests.
func bf16KernelSets() []*kernelSet { return []*kernelSet{&goBF16Kernels} }
