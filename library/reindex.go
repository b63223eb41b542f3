package library

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sightsearch/sight/catalog"
)

const (
	reindexTmp    = "reindex.tmp"
	reindexOld    = "reindex.old"
	reindexMarker = "reindex.swap"
)

// swapNames are the files that make up a library's state.
var swapNames = [...]string{catalog.FileName, catalog.FileName + "-wal", catalog.FileName + "-shm", indexDirName, indexSeqName}

// Reindex re-embeds every image file of the library in dir with the model of
// opts (by default the library's own), building the new library beside the
// old one and swapping it in only when complete: an interrupted reindex
// leaves the old library as it was.
func Reindex(ctx context.Context, dir string, opts Options, io IndexOptions) (Summary, error) {
	lock, err := lockDir(dir, lockReindex)
	if err != nil {
		return Summary{}, err
	}
	defer func() { unlockFile(lock); lock.Close() }()
	if err := finishSwap(dir); err != nil {
		return Summary{}, err
	}
	cat, err := catalog.Open(dir)
	if err != nil {
		return Summary{}, err
	}
	if opts.Model == "" {
		if m, ok, err := cat.Meta(metaModel); err == nil && ok {
			opts.Model = m
		}
	}
	var paths []string
	err = cat.EachPath(ctx, func(e catalog.PathEntry) error {
		paths = append(paths, e.Path)
		return nil
	})
	cat.Close()
	if err != nil {
		return Summary{}, err
	}
	tmp := filepath.Join(dir, reindexTmp)
	if err := os.RemoveAll(tmp); err != nil {
		return Summary{}, err
	}
	nl, err := Open(ctx, tmp, opts)
	if err != nil {
		return Summary{}, err
	}
	sum, err := nl.Index(ctx, paths, io)
	if cerr := nl.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return sum, fmt.Errorf("reindex stopped, the library is unchanged: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, reindexMarker), []byte("swap\n")); err != nil {
		return sum, err
	}
	return sum, finishSwap(dir)
}

// finishSwap completes a reindex whose marker file exists: it moves the old
// state aside, the new one in, and removes both leftovers. It is idempotent,
// so a crash at any point is finished by the next open.
func finishSwap(dir string) error {
	marker := filepath.Join(dir, reindexMarker)
	if _, err := os.Stat(marker); errors.Is(err, os.ErrNotExist) {
		// No swap pending: drop an abandoned build, if any.
		return os.RemoveAll(filepath.Join(dir, reindexTmp))
	}
	tmp, old := filepath.Join(dir, reindexTmp), filepath.Join(dir, reindexOld)
	if err := os.MkdirAll(old, 0o755); err != nil {
		return err
	}
	for _, name := range swapNames {
		src := filepath.Join(tmp, name)
		_, err := os.Lstat(src)
		srcExists := err == nil
		sideFile := name == catalog.FileName+"-wal" || name == catalog.FileName+"-shm"
		if !srcExists && !sideFile {
			continue // moved already, or never existed
		}
		dst := filepath.Join(dir, name)
		if _, err := os.Lstat(dst); err == nil {
			// An old SQLite -wal/-shm must never meet the new database.
			if err := os.Rename(dst, filepath.Join(old, name)); err != nil {
				return fmt.Errorf("reindex: move %s aside: %w", dst, err)
			}
		}
		if !srcExists {
			continue
		}
		if err := os.Rename(src, dst); err != nil {
			return fmt.Errorf("reindex: move %s in: %w", src, err)
		}
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	if err := os.Remove(marker); err != nil {
		return err
	}
	os.RemoveAll(old)
	return os.RemoveAll(tmp)
}
