package hnsw

import (
	"io"
	"os"
)

// file is the subset of *os.File the store uses; tests substitute
// implementations that inject short writes and fsync failures.
type file interface {
	io.ReaderAt
	io.WriterAt
	io.Writer
	Sync() error
	Truncate(size int64) error
	Close() error
	Size() (int64, error)
}

// fileSystem creates and renames files; see file.
type fileSystem interface {
	// Create creates or truncates name for reading and writing.
	Create(name string) (file, error)
	// OpenRW opens an existing file for reading and writing.
	OpenRW(name string) (file, error)
	Rename(from, to string) error
	Remove(name string) error
	// SyncDir fsyncs a directory so renames in it are durable.
	SyncDir(dir string) error
}

type osFS struct{}

type osFile struct{ *os.File }

func (f osFile) Size() (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func (osFS) Create(name string) (file, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) OpenRW(name string) (file, error) {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Rename(from, to string) error { return os.Rename(from, to) }
func (osFS) Remove(name string) error     { return os.Remove(name) }

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
