//go:build !unix

package texmex

import (
	"errors"
	"os"
)

// mmapFile is unavailable here; callers fall back to positioned reads.
func mmapFile(*os.File, int) ([]byte, func(), error) {
	return nil, nil, errors.New("mmap not supported")
}
