//go:build unix

package library

import (
	"fmt"
	"os"
	"syscall"
)

// dirKey identifies a directory by device and inode, so that one reached
// again through a symbolic link is recognised.
func dirKey(_ string, st os.FileInfo) (string, bool) {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("%d:%d", s.Dev, s.Ino), true
	}
	return "", false
}
