package hnsw

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// faultFS injects failures into files whose name contains match.
type faultFS struct {
	osFS
	mu        sync.Mutex
	match     string
	shortNext bool // next WriteAt writes half and fails
	syncFail  int  // fail the next n Syncs
	dirFail   bool // fail the next SyncDir
}

type faultFile struct {
	file
	fs   *faultFS
	name string
}

func (f *faultFS) wrap(name string, fl file, err error) (file, error) {
	if err != nil {
		return nil, err
	}
	return &faultFile{file: fl, fs: f, name: name}, nil
}

func (f *faultFS) Create(name string) (file, error) {
	fl, err := f.osFS.Create(name)
	return f.wrap(name, fl, err)
}

func (f *faultFS) OpenRW(name string) (file, error) {
	fl, err := f.osFS.OpenRW(name)
	return f.wrap(name, fl, err)
}

func (f *faultFS) SyncDir(dir string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dirFail {
		f.dirFail = false
		return errors.New("injected directory fsync failure")
	}
	return f.osFS.SyncDir(dir)
}

func (f *faultFile) hit() bool { return strings.Contains(filepath.Base(f.name), f.fs.match) }

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	short := f.fs.shortNext && f.hit()
	if short {
		f.fs.shortNext = false
	}
	f.fs.mu.Unlock()
	if short {
		n, _ := f.file.WriteAt(p[:len(p)/2], off)
		return n, errors.New("injected short write")
	}
	return f.file.WriteAt(p, off)
}

func (f *faultFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	short := f.fs.shortNext && f.hit()
	if short {
		f.fs.shortNext = false
	}
	f.fs.mu.Unlock()
	if short {
		n, _ := f.file.Write(p[:len(p)/2])
		return n, errors.New("injected short write")
	}
	return f.file.Write(p)
}

func (f *faultFile) Sync() error {
	f.fs.mu.Lock()
	fail := f.fs.syncFail > 0 && f.hit()
	if fail {
		f.fs.syncFail--
	}
	f.fs.mu.Unlock()
	if fail {
		return errors.New("injected fsync failure")
	}
	return f.file.Sync()
}

func TestFaultInjection(t *testing.T) {
	dir := t.TempDir()
	ffs := &faultFS{match: walName}
	g, err := openFS(ffs, dir, Options{Dim: crashDim, M: 8, EfConstruction: 40, SnapshotBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint64]bool{}
	add := func(id uint64) error {
		err := g.Add(id, crashVec(id))
		if err == nil {
			want[id] = true
		}
		return err
	}
	for id := range uint64(50) {
		if err := add(id); err != nil {
			t.Fatal(err)
		}
	}
	inject := func(name string, set func()) {
		t.Helper()
		ffs.mu.Lock()
		set()
		ffs.mu.Unlock()
		id := uint64(1000 + len(want))
		if err := add(id); !errors.Is(err, ErrWAL) {
			t.Fatalf("%s: Add = %v, want ErrWAL", name, err)
		}
		if g.Contains(id) {
			t.Fatalf("%s: failed Add is visible", name)
		}
		if err := g.AddBatch(context.Background(), []uint64{id}, [][]float32{crashVec(id)}); err != nil {
			t.Fatalf("%s: retry after failure: %v", name, err)
		}
		want[id] = true
		if err := add(id + 500); err != nil {
			t.Fatalf("%s: next Add: %v", name, err)
		}
		if res, err := g.Search(crashVec(id), 1, nil); err != nil || len(res) == 0 || res[0].ID != id {
			t.Fatalf("%s: search after failure: %v %v", name, res, err)
		}
	}
	inject("short write", func() { ffs.shortNext = true })
	inject("fsync failure", func() { ffs.syncFail = 1 })
	// A failed batch adds nothing.
	ffs.mu.Lock()
	ffs.syncFail = 1
	ffs.mu.Unlock()
	if err := g.AddBatch(context.Background(), []uint64{7001, 7002, 7003}, [][]float32{crashVec(1), crashVec(2), crashVec(3)}); !errors.Is(err, ErrWAL) {
		t.Fatalf("batch with failing fsync = %v", err)
	}
	if g.Contains(7001) || g.Contains(7003) {
		t.Fatal("failed batch partly visible")
	}
	// A failed Delete keeps the id.
	ffs.mu.Lock()
	ffs.shortNext = true
	ffs.mu.Unlock()
	if err := g.Delete(3); !errors.Is(err, ErrWAL) || !g.Contains(3) {
		t.Fatalf("Delete with short write = %v, Contains(3) = %v", err, g.Contains(3))
	}
	if err := g.Delete(4); err != nil {
		t.Fatal(err)
	}
	delete(want, 4)

	// Snapshot failures leave the index usable and the old files valid.
	ffs.mu.Lock()
	ffs.match = snapName
	ffs.syncFail = 1
	ffs.mu.Unlock()
	if err := g.Snapshot(); err == nil {
		t.Fatal("Snapshot with failing fsync succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, snapName+tmpExt)); err == nil {
		t.Error("temporary snapshot left behind")
	}
	if err := add(8000); err != nil {
		t.Fatal(err)
	}
	// Failure after the new snapshot is in place: writes must fail until a
	// snapshot succeeds, so nothing is logged into a stale log.
	ffs.mu.Lock()
	ffs.dirFail = true
	ffs.mu.Unlock()
	if err := g.Snapshot(); err == nil {
		t.Fatal("Snapshot with failing directory fsync succeeded")
	}
	if err := add(8001); !errors.Is(err, ErrWAL) {
		t.Fatalf("Add after failed rotation = %v, want ErrWAL", err)
	}
	if err := g.Snapshot(); err != nil {
		t.Fatal(err)
	}
	if err := add(8002); err != nil {
		t.Fatal(err)
	}

	// The log holds only whole records, and a reopen has exactly the
	// acknowledged ids.
	data, err := os.ReadFile(filepath.Join(dir, walName))
	if err != nil {
		t.Fatal(err)
	}
	if _, good, err := parseWAL(walName, data, crashDim); err != nil || good != len(data) {
		t.Fatalf("log has a partial record: valid %d of %d bytes, %v", good, len(data), err)
	}
	g.abandon()
	g, err = Open(dir, Options{Dim: crashDim})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := g.check(); err != nil {
		t.Fatal(err)
	}
	if g.Len() != len(want) {
		t.Errorf("reopened Len = %d, want %d", g.Len(), len(want))
	}
	for id := range want {
		if !g.Contains(id) {
			t.Errorf("acknowledged id %d missing", id)
		}
	}
}
