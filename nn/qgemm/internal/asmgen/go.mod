module github.com/sightsearch/sight/nn/qgemm/internal/asmgen

go 1.26.8
