//go:build !unix

package library

import (
	"os"
	"path/filepath"
)

// dirKey identifies a directory by its path with symbolic links resolved,
// where the OS has no inode numbers.
func dirKey(path string, _ os.FileInfo) (string, bool) {
	p, err := filepath.EvalSymlinks(path)
	return p, err == nil
}
