// Package catalog stores what Sight knows about a library of images: one row
// per distinct image content (its hash, size, dimensions, EXIF facts, a small
// thumbnail and its CLIP vector) and one row per file path that holds that
// content.
//
// The catalog is the source of truth of a library. It lives in an embedded
// SQLite database (pure Go, modernc.org/sqlite) in write-ahead-log mode, so a
// batch of new images, their paths and their vectors is committed in one
// transaction: a process killed at any moment leaves either the whole batch
// or none of it. Vector indexes are derived from the catalog and can always be
// rebuilt or caught up from it (see [Catalog.Changes]).
//
// The database holds a format version; opening a database written by a newer
// Sight fails with a clear error instead of guessing.
package catalog

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// FormatVersion is the version of the catalog's schema that this code writes.
const FormatVersion = 1

// FileName is the name of the database file inside a library directory.
const FileName = "catalog.db"

// ErrNotFound is returned when an image or path is not in the catalog.
var ErrNotFound = errors.New("catalog: not found")

// Catalog is an open catalog database. It is safe for concurrent use; SQLite
// serialises writers and lets readers proceed while a writer commits.
type Catalog struct {
	db   *sql.DB
	path string
}

const schema = `
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS images (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	hash      BLOB    NOT NULL UNIQUE,
	size      INTEGER NOT NULL,
	format    TEXT    NOT NULL,
	width     INTEGER NOT NULL,
	height    INTEGER NOT NULL,
	taken_at  INTEGER,
	camera    TEXT    NOT NULL DEFAULT '',
	gps_lat   REAL,
	gps_lon   REAL,
	thumbnail BLOB,
	model     TEXT    NOT NULL,
	vector    BLOB    NOT NULL,
	added_at  INTEGER NOT NULL,
	seq       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS images_seq ON images(seq);
CREATE TABLE IF NOT EXISTS paths (
	path     BLOB    PRIMARY KEY,
	image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
	size     INTEGER NOT NULL,
	mtime_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS paths_image ON paths(image_id);
CREATE TABLE IF NOT EXISTS skipped (
	path     BLOB    PRIMARY KEY,
	size     INTEGER NOT NULL,
	mtime_ns INTEGER NOT NULL,
	reason   TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS deleted (
	id  INTEGER PRIMARY KEY,
	seq INTEGER NOT NULL
);
`

// Open opens the catalog in directory dir, creating the directory and an
// empty catalog if needed.
func Open(dir string) (*Catalog, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("catalog: create %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("catalog: open %s: %w", path, err)
	}
	c := &Catalog{db: db, path: path}
	if err := c.init(); err != nil {
		db.Close()
		return nil, err
	}
	return c, nil
}

func (c *Catalog) init() error {
	if _, err := c.db.Exec(schema); err != nil {
		return fmt.Errorf("catalog: %s: create schema: %w (if the file is damaged, move it away and run `sight reindex`)", c.path, err)
	}
	v, ok, err := c.Meta("format_version")
	if err != nil {
		return err
	}
	if !ok {
		return c.SetMeta("format_version", strconv.Itoa(FormatVersion))
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("catalog: %s: bad format_version %q", c.path, v)
	}
	if n > FormatVersion {
		return fmt.Errorf("catalog: %s has format version %d; this Sight reads up to %d: upgrade Sight", c.path, n, FormatVersion)
	}
	return nil
}

// Path returns the database file's path.
func (c *Catalog) Path() string { return c.path }

// Close closes the database.
func (c *Catalog) Close() error { return c.db.Close() }

// Meta returns the value stored under key in the catalog's key/value table.
func (c *Catalog) Meta(key string) (string, bool, error) {
	var v string
	err := c.db.QueryRow(`SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("catalog: read meta %s: %w", key, err)
	}
	return v, true, nil
}

// SetMeta stores value under key.
func (c *Catalog) SetMeta(key, value string) error {
	_, err := c.db.Exec(`INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("catalog: write meta %s: %w", key, err)
	}
	return nil
}

// Image is one distinct image content and what is known about it.
type Image struct {
	ID        int64
	Hash      []byte // SHA-256 of the file's bytes
	Size      int64
	Format    string // "jpeg", "png", ...
	Width     int    // as displayed (after EXIF orientation)
	Height    int
	TakenAt   time.Time // EXIF DateTimeOriginal; zero if unknown
	Camera    string    // EXIF Make and Model
	HasGPS    bool
	Lat, Lon  float64
	Thumbnail []byte // a small JPEG
	Model     string // the model the vector came from
	Vector    []float32
	AddedAt   time.Time
	Paths     []string
	MTime     time.Time // newest modification time of its paths
}

// PathEntry is a file path known to the catalog.
type PathEntry struct {
	Path    string
	ImageID int64
	Size    int64
	MTime   int64 // nanoseconds since the Unix epoch
}

// Batch is a set of changes committed atomically by [Catalog.Apply].
type Batch struct {
	// New images, each with at least one path in Paths. An image whose hash is
	// already in the catalog is not added again: its paths are attached to the
	// stored image instead.
	Images []Image
	// Paths attaches (or re-attaches) paths to images already stored,
	// identified by PathEntry.ImageID.
	Paths []PathEntry
	// Skipped records files that are not usable images, with the reason, so
	// an unchanged file is not decoded again on the next run.
	Skipped []Skip
}

// Unchanged reports whether a file of the given size and modification
// time is, by the rule sight index uses, still the file this entry
// records: the same size and the same modification time to the nanosecond.
func (e PathEntry) Unchanged(size int64, mtime time.Time) bool {
	return unchanged(e.Size, e.MTime, size, mtime)
}

// Unchanged is PathEntry.Unchanged for a skipped file.
func (s Skip) Unchanged(size int64, mtime time.Time) bool {
	return unchanged(s.Size, s.MTime, size, mtime)
}

func unchanged(recSize, recMTime, size int64, mtime time.Time) bool {
	return recSize == size && recMTime == mtime.UnixNano()
}

// Skip is a file that could not be indexed.
type Skip struct {
	Path   string
	Size   int64
	MTime  int64
	Reason string
}

// Result tells what Apply did with each image of a batch.
type Result struct {
	// IDs[i] is the id of Batch.Images[i] (new or existing).
	IDs []int64
	// New[i] reports whether Batch.Images[i] was stored as a new image.
	New []bool
	// Orphaned lists images that lost their last path in this batch (a path
	// moved to other content) and were removed.
	Orphaned []int64
}

// Apply commits a batch in one transaction.
func (c *Catalog) Apply(ctx context.Context, b Batch) (Result, error) {
	res := Result{IDs: make([]int64, len(b.Images)), New: make([]bool, len(b.Images))}
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("catalog: begin: %w", err)
	}
	defer tx.Rollback()
	seq, err := nextSeq(tx)
	if err != nil {
		return res, err
	}
	now := time.Now().Unix()
	touched := map[int64]bool{} // images that may have lost a path
	attach := func(p PathEntry) error {
		var old int64
		err := tx.QueryRowContext(ctx, `SELECT image_id FROM paths WHERE path = ?`, []byte(p.Path)).Scan(&old)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("catalog: look up path %q: %w", p.Path, err)
		case old != p.ImageID:
			touched[old] = true
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO paths(path, image_id, size, mtime_ns) VALUES(?, ?, ?, ?)
			ON CONFLICT(path) DO UPDATE SET image_id = excluded.image_id, size = excluded.size, mtime_ns = excluded.mtime_ns`,
			[]byte(p.Path), p.ImageID, p.Size, p.MTime)
		if err != nil {
			return fmt.Errorf("catalog: store path %q: %w", p.Path, err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM skipped WHERE path = ?`, []byte(p.Path))
		return err
	}
	for i, im := range b.Images {
		if len(im.Hash) == 0 {
			return res, fmt.Errorf("catalog: image %d of batch has no hash", i)
		}
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM images WHERE hash = ?`, im.Hash).Scan(&id)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if len(im.Vector) == 0 {
				return res, fmt.Errorf("catalog: image %x has no vector", im.Hash)
			}
			var taken, lat, lon any
			if !im.TakenAt.IsZero() {
				taken = im.TakenAt.Unix()
			}
			if im.HasGPS {
				lat, lon = im.Lat, im.Lon
			}
			r, err := tx.ExecContext(ctx, `INSERT INTO images(hash, size, format, width, height, taken_at, camera,
				gps_lat, gps_lon, thumbnail, model, vector, added_at, seq) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
				im.Hash, im.Size, im.Format, im.Width, im.Height, taken, im.Camera, lat, lon,
				im.Thumbnail, im.Model, EncodeVector(im.Vector), now, seq)
			if err != nil {
				return res, fmt.Errorf("catalog: store image %x: %w", im.Hash, err)
			}
			if id, err = r.LastInsertId(); err != nil {
				return res, err
			}
			res.New[i] = true
		case err != nil:
			return res, fmt.Errorf("catalog: look up hash %x: %w", im.Hash, err)
		}
		res.IDs[i] = id
		for _, p := range im.Paths {
			var e PathEntry
			e.Path, e.ImageID, e.Size = p, id, im.Size
			if !im.MTime.IsZero() {
				e.MTime = im.MTime.UnixNano()
			}
			if err := attach(e); err != nil {
				return res, err
			}
		}
	}
	for _, p := range b.Paths {
		if err := attach(p); err != nil {
			return res, err
		}
	}
	for _, s := range b.Skipped {
		_, err := tx.ExecContext(ctx, `INSERT INTO skipped(path, size, mtime_ns, reason) VALUES(?,?,?,?)
			ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, reason = excluded.reason`,
			[]byte(s.Path), s.Size, s.MTime, s.Reason)
		if err != nil {
			return res, fmt.Errorf("catalog: record skipped %q: %w", s.Path, err)
		}
	}
	for id := range touched {
		gone, err := dropIfOrphan(ctx, tx, id, seq)
		if err != nil {
			return res, err
		}
		if gone {
			res.Orphaned = append(res.Orphaned, id)
		}
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("catalog: commit: %w", err)
	}
	return res, nil
}

func nextSeq(tx *sql.Tx) (int64, error) {
	var s sql.NullInt64
	if err := tx.QueryRow(`SELECT value FROM meta WHERE key = 'seq'`).Scan(&s); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("catalog: read seq: %w", err)
	}
	n := s.Int64 + 1
	if _, err := tx.Exec(`INSERT INTO meta(key, value) VALUES('seq', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, strconv.FormatInt(n, 10)); err != nil {
		return 0, fmt.Errorf("catalog: write seq: %w", err)
	}
	return n, nil
}

func dropIfOrphan(ctx context.Context, tx *sql.Tx, id, seq int64) (bool, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM paths WHERE image_id = ?`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("catalog: count paths of %d: %w", id, err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM images WHERE id = ?`, id); err != nil {
		return false, fmt.Errorf("catalog: delete image %d: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO deleted(id, seq) VALUES(?, ?)`, id, seq); err != nil {
		return false, fmt.Errorf("catalog: record deletion of %d: %w", id, err)
	}
	return true, nil
}

// RemovePaths removes paths from the catalog in one transaction. Images left
// without any path are deleted; their ids are returned.
func (c *Catalog) RemovePaths(ctx context.Context, paths []string) ([]int64, error) {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("catalog: begin: %w", err)
	}
	defer tx.Rollback()
	seq, err := nextSeq(tx)
	if err != nil {
		return nil, err
	}
	touched := map[int64]bool{}
	for _, p := range paths {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT image_id FROM paths WHERE path = ?`, []byte(p)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM skipped WHERE path = ?`, []byte(p)); err != nil {
				return nil, fmt.Errorf("catalog: remove skipped %q: %w", p, err)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("catalog: look up path %q: %w", p, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM paths WHERE path = ?`, []byte(p)); err != nil {
			return nil, fmt.Errorf("catalog: remove path %q: %w", p, err)
		}
		touched[id] = true
	}
	var gone []int64
	for id := range touched {
		g, err := dropIfOrphan(ctx, tx, id, seq)
		if err != nil {
			return nil, err
		}
		if g {
			gone = append(gone, id)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("catalog: commit: %w", err)
	}
	return gone, nil
}

// RemoveImage deletes an image and all its paths.
func (c *Catalog) RemoveImage(ctx context.Context, id int64) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("catalog: begin: %w", err)
	}
	defer tx.Rollback()
	seq, err := nextSeq(tx)
	if err != nil {
		return err
	}
	r, err := tx.ExecContext(ctx, `DELETE FROM images WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("catalog: delete image %d: %w", id, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("image %d: %w", id, ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM paths WHERE image_id = ?`, id); err != nil {
		return fmt.Errorf("catalog: delete paths of %d: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO deleted(id, seq) VALUES(?, ?)`, id, seq); err != nil {
		return fmt.Errorf("catalog: record deletion of %d: %w", id, err)
	}
	return tx.Commit()
}

// LookupPath returns the catalog's entry for path.
func (c *Catalog) LookupPath(ctx context.Context, path string) (PathEntry, error) {
	e := PathEntry{Path: path}
	err := c.db.QueryRowContext(ctx, `SELECT image_id, size, mtime_ns FROM paths WHERE path = ?`, []byte(path)).Scan(&e.ImageID, &e.Size, &e.MTime)
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("path %q: %w", path, ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("catalog: look up path %q: %w", path, err)
	}
	return e, nil
}

// LookupSkipped returns the recorded skip of path, if any.
func (c *Catalog) LookupSkipped(ctx context.Context, path string) (Skip, bool, error) {
	s := Skip{Path: path}
	err := c.db.QueryRowContext(ctx, `SELECT size, mtime_ns, reason FROM skipped WHERE path = ?`, []byte(path)).Scan(&s.Size, &s.MTime, &s.Reason)
	if errors.Is(err, sql.ErrNoRows) {
		return s, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("catalog: look up skipped %q: %w", path, err)
	}
	return s, true, nil
}

// LookupHash returns the id of the image with the given content hash.
func (c *Catalog) LookupHash(ctx context.Context, hash []byte) (int64, error) {
	var id int64
	err := c.db.QueryRowContext(ctx, `SELECT id FROM images WHERE hash = ?`, hash).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("hash %x: %w", hash, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("catalog: look up hash %x: %w", hash, err)
	}
	return id, nil
}

const imageColumns = `id, hash, size, format, width, height, taken_at, camera, gps_lat, gps_lon, model, added_at`

func scanImage(sc interface{ Scan(...any) error }, im *Image) error {
	var taken sql.NullInt64
	var lat, lon sql.NullFloat64
	var added int64
	if err := sc.Scan(&im.ID, &im.Hash, &im.Size, &im.Format, &im.Width, &im.Height, &taken, &im.Camera, &lat, &lon, &im.Model, &added); err != nil {
		return err
	}
	if taken.Valid {
		im.TakenAt = time.Unix(taken.Int64, 0).UTC()
	}
	if lat.Valid && lon.Valid {
		im.HasGPS, im.Lat, im.Lon = true, lat.Float64, lon.Float64
	}
	im.AddedAt = time.Unix(added, 0)
	return nil
}

// Image returns the image with the given id, with its paths (sorted) but
// without its vector and thumbnail (see [Catalog.Vector], [Catalog.Thumbnail]).
func (c *Catalog) Image(ctx context.Context, id int64) (Image, error) {
	var im Image
	err := scanImage(c.db.QueryRowContext(ctx, `SELECT `+imageColumns+` FROM images WHERE id = ?`, id), &im)
	if errors.Is(err, sql.ErrNoRows) {
		return im, fmt.Errorf("image %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return im, fmt.Errorf("catalog: read image %d: %w", id, err)
	}
	rows, err := c.db.QueryContext(ctx, `SELECT path, mtime_ns FROM paths WHERE image_id = ? ORDER BY path`, id)
	if err != nil {
		return im, fmt.Errorf("catalog: read paths of %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var p []byte
		var mt int64
		if err := rows.Scan(&p, &mt); err != nil {
			return im, fmt.Errorf("catalog: read paths of %d: %w", id, err)
		}
		im.Paths = append(im.Paths, string(p))
		if t := time.Unix(0, mt); t.After(im.MTime) {
			im.MTime = t
		}
	}
	return im, rows.Err()
}

// Vector returns the stored vector of an image.
func (c *Catalog) Vector(ctx context.Context, id int64) ([]float32, error) {
	var b []byte
	err := c.db.QueryRowContext(ctx, `SELECT vector FROM images WHERE id = ?`, id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("image %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: read vector %d: %w", id, err)
	}
	return DecodeVector(b)
}

// Thumbnail returns the stored thumbnail (JPEG bytes) of an image.
func (c *Catalog) Thumbnail(ctx context.Context, id int64) ([]byte, error) {
	var b []byte
	err := c.db.QueryRowContext(ctx, `SELECT thumbnail FROM images WHERE id = ?`, id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("image %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: read thumbnail %d: %w", id, err)
	}
	return b, nil
}

// Seq returns the catalog's change sequence number: it grows with every
// committed change.
func (c *Catalog) Seq(ctx context.Context) (int64, error) {
	v, ok, err := c.Meta("seq")
	if err != nil || !ok {
		return 0, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("catalog: bad seq %q", v)
	}
	return n, nil
}

// EachVector calls fn for every image's vector in id order. The slice passed
// to fn is only valid during the call.
func (c *Catalog) EachVector(ctx context.Context, fn func(id int64, v []float32) error) error {
	return c.EachVectorSince(ctx, 0, fn)
}

// EachVectorSince calls fn for the vector of every image added by a change
// numbered above seq (see [Catalog.Seq]), in id order.
func (c *Catalog) EachVectorSince(ctx context.Context, seq int64, fn func(id int64, v []float32) error) error {
	rows, err := c.db.QueryContext(ctx, `SELECT id, vector FROM images WHERE seq > ? ORDER BY id`, seq)
	if err != nil {
		return fmt.Errorf("catalog: read vectors: %w", err)
	}
	defer rows.Close()
	var v []float32
	for rows.Next() {
		var id int64
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			return fmt.Errorf("catalog: read vectors: %w", err)
		}
		if v, err = decodeVectorInto(v[:0], b); err != nil {
			return fmt.Errorf("catalog: image %d: %w", id, err)
		}
		if err := fn(id, v); err != nil {
			return err
		}
	}
	return rows.Err()
}

// DeletedSince returns the ids of images deleted by changes numbered above
// seq.
func (c *Catalog) DeletedSince(ctx context.Context, seq int64) ([]int64, error) {
	return c.queryIDs(ctx, "list deletions", `SELECT id FROM deleted WHERE seq > ? ORDER BY id`, seq)
}

// queryIDs runs a query whose rows are single ids.
func (c *Catalog) queryIDs(ctx context.Context, what, query string, args ...any) ([]int64, error) {
	rows, err := c.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("catalog: %s: %w", what, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("catalog: %s: %w", what, err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// ChangesBetween returns the ids of the images still stored that were added
// by changes numbered above after and at most upTo, and of the images
// deleted by such changes, both ascending.
func (c *Catalog) ChangesBetween(ctx context.Context, after, upTo int64) (added, deleted []int64, err error) {
	if added, err = c.queryIDs(ctx, "list changes", `SELECT id FROM images WHERE seq > ? AND seq <= ? ORDER BY id`, after, upTo); err != nil {
		return nil, nil, err
	}
	if deleted, err = c.queryIDs(ctx, "list changes", `SELECT id FROM deleted WHERE seq > ? AND seq <= ? ORDER BY id`, after, upTo); err != nil {
		return nil, nil, err
	}
	return added, deleted, nil
}

// IDs returns the ids of all images, ascending.
func (c *Catalog) IDs(ctx context.Context) ([]int64, error) {
	return c.queryIDs(ctx, "list ids", `SELECT id FROM images ORDER BY id`)
}

// EachPath calls fn for every path in the catalog, in path order.
func (c *Catalog) EachPath(ctx context.Context, fn func(PathEntry) error) error {
	rows, err := c.db.QueryContext(ctx, `SELECT path, image_id, size, mtime_ns FROM paths ORDER BY path`)
	if err != nil {
		return fmt.Errorf("catalog: list paths: %w", err)
	}
	var all []PathEntry
	for rows.Next() {
		var e PathEntry
		var p []byte
		if err := rows.Scan(&p, &e.ImageID, &e.Size, &e.MTime); err != nil {
			rows.Close()
			return err
		}
		e.Path = string(p)
		all = append(all, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, e := range all {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Filter selects images by their metadata. Zero fields do not filter.
type Filter struct {
	PathGlob  string    // filepath.Match pattern on any of the image's paths (or on a path's suffix if it has no separator)
	After     time.Time // date taken (or newest mtime when no date is known) at or after
	Before    time.Time // ... strictly before
	MinWidth  int
	MinHeight int
	Formats   []string // "jpeg", "png", ...
}

// ParseDate reads a date of a Filter bound: RFC 3339, or a prefix of
// "2006-01-02T15:04:05" down to the year, in UTC unless an offset is given.
func ParseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02", "2006-01", "2006"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD or RFC 3339)", s)
}

// IsZero reports whether f selects every image.
func (f Filter) IsZero() bool {
	return f.PathGlob == "" && f.After.IsZero() && f.Before.IsZero() && f.MinWidth == 0 && f.MinHeight == 0 && len(f.Formats) == 0
}

// Matches reports whether an image passes f. It needs the image's Paths,
// Format, Width, Height, TakenAt and MTime; it is the rule Catalog.Match
// applies, for stores that filter in memory.
func (f Filter) Matches(im Image) bool {
	if f.MinWidth > 0 && im.Width < f.MinWidth || f.MinHeight > 0 && im.Height < f.MinHeight {
		return false
	}
	if len(f.Formats) > 0 && !slices.ContainsFunc(f.Formats, func(s string) bool { return strings.EqualFold(s, im.Format) }) {
		return false
	}
	if f.PathGlob != "" && !slices.ContainsFunc(im.Paths, func(p string) bool { return MatchGlob(f.PathGlob, p) }) {
		return false
	}
	if !f.After.IsZero() || !f.Before.IsZero() {
		t := im.MTime
		if !im.TakenAt.IsZero() {
			t = im.TakenAt
		}
		if !f.After.IsZero() && t.Before(f.After) || !f.Before.IsZero() && !t.Before(f.Before) {
			return false
		}
	}
	return true
}

// Match returns the ids of the images that pass f, as a set.
func (c *Catalog) Match(ctx context.Context, f Filter) (map[int64]bool, error) {
	q := `SELECT i.id, i.format, i.width, i.height, i.taken_at, p.path, p.mtime_ns FROM images i JOIN paths p ON p.image_id = i.id`
	var where []string
	var args []any
	if f.MinWidth > 0 {
		where, args = append(where, "i.width >= ?"), append(args, f.MinWidth)
	}
	if f.MinHeight > 0 {
		where, args = append(where, "i.height >= ?"), append(args, f.MinHeight)
	}
	if len(f.Formats) > 0 {
		where = append(where, "i.format IN (?"+strings.Repeat(",?", len(f.Formats)-1)+")")
		for _, s := range f.Formats {
			args = append(args, strings.ToLower(s))
		}
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := c.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("catalog: filter: %w", err)
	}
	defer rows.Close()
	type acc struct {
		taken    sql.NullInt64
		mtime    int64
		globOK   bool
		anyPaths bool
	}
	per := map[int64]*acc{}
	for rows.Next() {
		var id int64
		var format string
		var w, h int
		var taken sql.NullInt64
		var p []byte
		var mt int64
		if err := rows.Scan(&id, &format, &w, &h, &taken, &p, &mt); err != nil {
			return nil, fmt.Errorf("catalog: filter: %w", err)
		}
		a := per[id]
		if a == nil {
			a = &acc{taken: taken}
			per[id] = a
		}
		if mt > a.mtime {
			a.mtime = mt
		}
		if f.PathGlob != "" && !a.globOK {
			a.globOK = MatchGlob(f.PathGlob, string(p))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make(map[int64]bool, len(per))
	for id, a := range per {
		if f.PathGlob != "" && !a.globOK {
			continue
		}
		if !f.After.IsZero() || !f.Before.IsZero() {
			t := time.Unix(0, a.mtime)
			if a.taken.Valid {
				t = time.Unix(a.taken.Int64, 0)
			}
			if !f.After.IsZero() && t.Before(f.After) {
				continue
			}
			if !f.Before.IsZero() && !t.Before(f.Before) {
				continue
			}
		}
		out[id] = true
	}
	return out, nil
}

// MatchGlob matches pattern (filepath.Match syntax) against a path: the
// whole path, a trailing part of it, or, for a pattern without a separator,
// the file name. "**" is not special.
func MatchGlob(pattern, path string) bool {
	if ok, _ := filepath.Match(pattern, path); ok {
		return true
	}
	if !strings.ContainsRune(pattern, filepath.Separator) {
		ok, _ := filepath.Match(pattern, filepath.Base(path))
		return ok
	}
	// Allow a pattern to match a trailing part of an absolute path.
	for i := 0; i < len(path); i++ {
		if path[i] == filepath.Separator {
			if ok, _ := filepath.Match(pattern, path[i+1:]); ok {
				return true
			}
		}
	}
	return false
}

// Stats counts what the catalog holds.
type Stats struct {
	Images  int64 // distinct contents
	Vectors int64 // stored vectors (equal to Images)
	Paths   int64
	Skipped int64
	Bytes   int64 // total size of distinct contents
	ByModel map[string]int64
}

// Stats returns counts over the whole catalog.
func (c *Catalog) Stats(ctx context.Context) (Stats, error) {
	s := Stats{ByModel: map[string]int64{}}
	var bytes sql.NullInt64
	if err := c.db.QueryRowContext(ctx, `SELECT count(*), count(vector), sum(size) FROM images`).Scan(&s.Images, &s.Vectors, &bytes); err != nil {
		return s, fmt.Errorf("catalog: stats: %w", err)
	}
	s.Bytes = bytes.Int64
	if err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM paths`).Scan(&s.Paths); err != nil {
		return s, fmt.Errorf("catalog: stats: %w", err)
	}
	if err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM skipped`).Scan(&s.Skipped); err != nil {
		return s, fmt.Errorf("catalog: stats: %w", err)
	}
	rows, err := c.db.QueryContext(ctx, `SELECT model, count(*) FROM images GROUP BY model`)
	if err != nil {
		return s, fmt.Errorf("catalog: stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m string
		var n int64
		if err := rows.Scan(&m, &n); err != nil {
			return s, err
		}
		s.ByModel[m] = n
	}
	return s, rows.Err()
}

// Check verifies the catalog's internal consistency: SQLite's own integrity
// check, every image has a vector of the same dimension and at least one
// path, and every path points at an image.
func (c *Catalog) Check(ctx context.Context, dim int) error {
	var res string
	if err := c.db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return fmt.Errorf("catalog: integrity check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("catalog: %s is damaged (%s): move it away and run `sight reindex`", c.path, res)
	}
	var n int64
	if err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM images i WHERE NOT EXISTS (SELECT 1 FROM paths p WHERE p.image_id = i.id)`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("catalog: %d images have no path", n)
	}
	if err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM paths p WHERE NOT EXISTS (SELECT 1 FROM images i WHERE i.id = p.image_id)`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("catalog: %d paths point at no image", n)
	}
	if dim > 0 {
		if err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM images WHERE length(vector) != ?`, dim*4).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("catalog: %d vectors do not have dimension %d", n, dim)
		}
	}
	return nil
}

// EncodeVector encodes v as little-endian float32s.
func EncodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// DecodeVector decodes little-endian float32s.
func DecodeVector(b []byte) ([]float32, error) { return decodeVectorInto(nil, b) }

func decodeVectorInto(v []float32, b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("vector blob of %d bytes is not a whole number of float32s", len(b))
	}
	for i := 0; i < len(b); i += 4 {
		v = append(v, math.Float32frombits(binary.LittleEndian.Uint32(b[i:])))
	}
	return v, nil
}
