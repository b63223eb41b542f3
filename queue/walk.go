package queue

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Walk calls fn with the absolute path of every regular file under sources
// (files, or directories walked recursively in lexical order), each once.
// Symbolic links to files are followed; links to directories are not
// (which keeps a walk free of loops). A source or directory that cannot be
// read is reported to problem (when not nil) and skipped; an error of fn
// or of ctx ends the walk.
func Walk(ctx context.Context, sources []string, fn func(path string) error, problem func(path string, err error)) error {
	if problem == nil {
		problem = func(string, error) {}
	}
	seen := map[string]bool{}
	emit := func(p string) error {
		if seen[p] {
			return nil
		}
		seen[p] = true
		return fn(p)
	}
	for _, src := range sources {
		abs, err := filepath.Abs(src)
		if err != nil {
			problem(src, err)
			continue
		}
		st, err := os.Stat(abs)
		if err != nil {
			problem(abs, err)
			continue
		}
		if !st.IsDir() {
			if !st.Mode().IsRegular() {
				problem(abs, fmt.Errorf("not a regular file"))
				continue
			}
			if err := emit(abs); err != nil {
				return err
			}
			continue
		}
		err = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			if err != nil {
				problem(p, err)
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			typ := d.Type()
			if typ&fs.ModeSymlink != 0 {
				st, err := os.Stat(p)
				if err != nil {
					problem(p, fmt.Errorf("broken symbolic link: %w", err))
					return nil
				}
				typ = st.Mode().Type()
				if typ.IsDir() {
					return nil // not followed
				}
			}
			if typ.IsRegular() {
				return emit(p)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}
