package library

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Files expands sources exactly as Library.Index does (folders walked
// recursively following symbolic links, with loops detected; files; "-"
// for paths on stdin, one per line) into the absolute paths of their
// regular files, in walk order, and the problems met on the way (path →
// reason). `sight index --queue` enqueues these paths for workers.
func Files(ctx context.Context, sources []string, stdin io.Reader) (files []string, problems map[string]string, err error) {
	w, err := walk(ctx, sources, stdin, "")
	return w.files, w.errors, err
}

// walkResult is what walking the sources found.
type walkResult struct {
	files   []string          // absolute paths of regular files, in walk order
	roots   []string          // absolute directories walked (for --prune)
	missing []string          // sources given that do not exist (for --prune)
	errors  map[string]string // path -> problem (unreadable dirs, loops, missing)
}

// walk expands sources (files, directories walked recursively following
// symbolic links, or "-" for a list of paths on stdin, one per line) into
// regular files. Symlink loops and directories reached twice are visited
// once. The library's own directory is skipped.
func walk(ctx context.Context, sources []string, stdin io.Reader, skipDir string) (walkResult, error) {
	res := walkResult{errors: map[string]string{}}
	seenDir := map[string]bool{}
	seenFile := map[string]bool{}
	skipAbs := ""
	if skipDir != "" { // "" is a library without a directory, not the working one
		skipAbs, _ = filepath.Abs(skipDir)
	}

	addFile := func(p string) {
		if !seenFile[p] {
			seenFile[p] = true
			res.files = append(res.files, p)
		}
	}
	var visit func(dir string) error
	visit = func(dir string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if dir == skipAbs {
			return nil
		}
		st, err := os.Stat(dir)
		if err != nil {
			res.errors[dir] = err.Error()
			return nil
		}
		if key, ok := dirKey(dir, st); ok {
			if seenDir[key] {
				res.errors[dir] = "directory already visited (symlink loop or second link)"
				return nil
			}
			seenDir[key] = true
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			res.errors[dir] = err.Error()
			// ReadDir returns what it could read before the error.
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			typ := e.Type()
			if typ&fs.ModeSymlink != 0 {
				st, err := os.Stat(p)
				if err != nil {
					res.errors[p] = "broken symbolic link"
					continue
				}
				typ = st.Mode().Type()
			}
			switch {
			case typ.IsDir():
				if err := visit(p); err != nil {
					return err
				}
			case typ.IsRegular():
				addFile(p)
			default:
				// sockets, devices, pipes: not images
			}
		}
		return nil
	}
	addSource := func(src string) error {
		abs, err := filepath.Abs(src)
		if err != nil {
			return err
		}
		st, err := os.Stat(abs)
		if err != nil {
			res.errors[abs] = err.Error()
			if errors.Is(err, fs.ErrNotExist) {
				res.missing = append(res.missing, abs)
			}
			return nil
		}
		switch {
		case st.IsDir():
			res.roots = append(res.roots, abs)
			return visit(abs)
		case st.Mode().IsRegular():
			addFile(abs)
		default:
			res.errors[abs] = "not a regular file"
		}
		return nil
	}
	for _, src := range sources {
		if src == "-" {
			sc := bufio.NewScanner(stdin)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				line := strings.TrimRight(sc.Text(), "\r")
				if line == "" {
					continue
				}
				if err := addSource(line); err != nil {
					return res, err
				}
			}
			if err := sc.Err(); err != nil {
				return res, fmt.Errorf("read paths from stdin: %w", err)
			}
			continue
		}
		if err := addSource(src); err != nil {
			return res, err
		}
	}
	return res, nil
}
