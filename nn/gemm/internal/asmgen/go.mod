module github.com/sightsearch/sight/nn/gemm/internal/asmgen

go 1.26.8
