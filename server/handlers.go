package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/imageio"
	"github.com/sightsearch/sight/internal/ctxio"
	"github.com/sightsearch/sight/library"
)

// SearchTerm is one weighted part of a combined query. Exactly one of Text,
// Image (base64) or ImageID is set.
type SearchTerm struct {
	Text    string   `json:"text,omitempty"`
	Image   string   `json:"image,omitempty"`
	ImageID ID       `json:"image_id,omitempty"`
	Weight  *float64 `json:"weight,omitempty"` // default 1; negative steers away
}

// ID is an image id in a request: a JSON number or a string of decimal
// digits. Ids of a library in a Weaviate cluster are 63-bit numbers, beyond
// the integers a JavaScript number holds exactly (2^53), so browsers send
// them as strings.
type ID int64

// UnmarshalJSON accepts 123 and "123".
func (id *ID) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("image id %s: want an integer", b)
	}
	*id = ID(n)
	return nil
}

// SearchFilter restricts results by metadata.
type SearchFilter struct {
	Path     string   `json:"path,omitempty"`   // glob on the image's paths
	After    string   `json:"after,omitempty"`  // date taken (or mtime) on or after, YYYY-MM-DD or RFC 3339
	Before   string   `json:"before,omitempty"` // strictly before
	MinWidth int      `json:"min_width,omitempty"`
	Types    []string `json:"types,omitempty"` // jpeg, png, gif, webp, bmp, tiff
}

// SearchRequest is the JSON body of POST /v1/search.
type SearchRequest struct {
	Text     string       `json:"text,omitempty"`
	Image    string       `json:"image,omitempty"` // base64 (standard or URL alphabet, data: URL accepted)
	ImageID  ID           `json:"image_id,omitempty"`
	Terms    []SearchTerm `json:"terms,omitempty"`
	Not      []string     `json:"not,omitempty"`     // texts to steer away from
	Exclude  []ID         `json:"exclude,omitempty"` // image ids never returned
	Limit    int          `json:"limit,omitempty"`
	MinScore *float64     `json:"min_score,omitempty"`
	Filter   SearchFilter `json:"filter,omitempty"`
}

// Result is one search hit in a response.
type Result struct {
	ID        int64    `json:"id"`
	Score     float32  `json:"score"`
	Path      string   `json:"path"`
	Paths     []string `json:"paths"`
	Width     int      `json:"width"`
	Height    int      `json:"height"`
	Format    string   `json:"format"`
	Thumbnail string   `json:"thumbnail"`
}

// SearchResponse is the answer of POST /v1/search.
type SearchResponse struct {
	Results []Result `json:"results"`
	TookMS  float64  `json:"took_ms"`
}

const maxLimit = 1000

// maxTerms bounds the terms of one query (texts, images, ids and negatives
// together), so one request cannot queue unbounded embedding work.
const maxTerms = 32

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	var req SearchRequest
	var uploaded []byte
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "multipart/form-data"):
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return badBody(err)
		}
		defer r.MultipartForm.RemoveAll()
		f := r.MultipartForm
		req.Text = first(f.Value["text"])
		req.Not = f.Value["not"]
		var err error
		if v := first(f.Value["limit"]); v != "" {
			if req.Limit, err = strconv.Atoi(v); err != nil {
				return errorf(http.StatusBadRequest, "bad_request", "limit: %q is not an integer", v)
			}
		}
		if v := first(f.Value["min_score"]); v != "" {
			m, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return errorf(http.StatusBadRequest, "bad_request", "min_score: %q is not a number", v)
			}
			req.MinScore = &m
		}
		if v := first(f.Value["image_id"]); v != "" {
			var n int64
			if n, err = strconv.ParseInt(v, 10, 64); err == nil {
				req.ImageID = ID(n)
			}
			if err != nil {
				return errorf(http.StatusBadRequest, "bad_request", "image_id: %q is not an integer", v)
			}
		}
		req.Filter.Path, req.Filter.After, req.Filter.Before = first(f.Value["path"]), first(f.Value["after"]), first(f.Value["before"])
		if v := first(f.Value["min_width"]); v != "" {
			if req.Filter.MinWidth, err = strconv.Atoi(v); err != nil {
				return errorf(http.StatusBadRequest, "bad_request", "min_width: %q is not an integer", v)
			}
		}
		if v := first(f.Value["types"]); v != "" {
			req.Filter.Types = strings.Split(v, ",")
		}
		if fh := f.File["image"]; len(fh) > 0 {
			if uploaded, err = readPart(fh[0]); err != nil {
				return err
			}
		}
	default:
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return badBody(err)
		}
		if dec.More() {
			return errorf(http.StatusBadRequest, "bad_json", "the body holds more than one JSON value")
		}
	}
	q, err := s.buildQuery(req, uploaded)
	if err != nil {
		return err
	}
	release, err := s.acquire(r.Context())
	if err != nil {
		return err
	}
	hits, err := s.lib.Search(r.Context(), q)
	release()
	if err != nil {
		return err
	}
	resp := SearchResponse{Results: make([]Result, 0, len(hits))}
	for _, h := range hits {
		resp.Results = append(resp.Results, toResult(h))
	}
	resp.TookMS = float64(time.Since(start).Microseconds()) / 1000
	s.metrics.searches.Add(1)
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func toResult(h library.Hit) Result {
	paths := h.Paths
	if paths == nil {
		paths = []string{}
	}
	return Result{ID: h.ID, Score: h.Score, Path: h.Path, Paths: paths, Width: h.Width, Height: h.Height,
		Format: h.Format, Thumbnail: fmt.Sprintf("/v1/images/%d/thumbnail", h.ID)}
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func readPart(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "bad_request", "read upload %q: %v", fh.Filename, err)
	}
	defer f.Close()
	return io.ReadAll(f)
}

func badBody(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return errorf(http.StatusRequestEntityTooLarge, "too_large", "request body over %d bytes", mb.Limit)
	}
	if errors.Is(err, io.EOF) {
		return errorf(http.StatusBadRequest, "bad_json", "empty body: send a JSON object such as {\"text\":\"a dog\"}")
	}
	return errorf(http.StatusBadRequest, "bad_json", "invalid request body: %v", err)
}

func decodeBase64(field, s string) ([]byte, error) {
	if i := strings.Index(s, ";base64,"); strings.HasPrefix(s, "data:") && i >= 0 {
		s = s[i+len(";base64,"):]
	}
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errorf(http.StatusBadRequest, "bad_request", "%s: not valid base64", field)
}

func parseDate(field, s string) (time.Time, error) {
	t, err := catalog.ParseDate(s)
	if err != nil {
		return t, errorf(http.StatusBadRequest, "bad_request", "%s: %v", field, err)
	}
	return t, nil
}

func (s *Server) buildQuery(req SearchRequest, uploaded []byte) (library.Query, error) {
	q := library.Query{Limit: req.Limit, MinScore: req.MinScore}
	for _, id := range req.Exclude {
		q.Exclude = append(q.Exclude, int64(id))
	}
	if q.Limit == 0 {
		q.Limit = 10
	}
	if q.Limit < 0 || q.Limit > maxLimit {
		return q, errorf(http.StatusBadRequest, "bad_request", "limit must be between 1 and %d", maxLimit)
	}
	if m := req.MinScore; m != nil && (*m < -1 || *m > 1 || *m != *m) {
		return q, errorf(http.StatusBadRequest, "bad_request", "min_score must be between -1 and 1")
	}
	add := func(t library.Term) { q.Terms = append(q.Terms, t) }
	if req.Text != "" {
		add(library.Term{Text: req.Text, Weight: 1})
	}
	if uploaded != nil {
		add(library.Term{Image: uploaded, Weight: 1})
	}
	if req.Image != "" {
		b, err := decodeBase64("image", req.Image)
		if err != nil {
			return q, err
		}
		add(library.Term{Image: b, Weight: 1})
	}
	if req.ImageID != 0 {
		add(library.Term{ID: int64(req.ImageID), Weight: 1})
	}
	for i, t := range req.Terms {
		w := 1.0
		if t.Weight != nil {
			w = *t.Weight
		}
		n := 0
		term := library.Term{Weight: w}
		if t.Text != "" {
			term.Text, n = t.Text, n+1
		}
		if t.Image != "" {
			b, err := decodeBase64(fmt.Sprintf("terms[%d].image", i), t.Image)
			if err != nil {
				return q, err
			}
			term.Image, n = b, n+1
		}
		if t.ImageID != 0 {
			term.ID, n = int64(t.ImageID), n+1
		}
		if n != 1 {
			return q, errorf(http.StatusBadRequest, "bad_request", "terms[%d]: give exactly one of text, image, image_id", i)
		}
		add(term)
	}
	for _, t := range req.Not {
		if t != "" {
			add(library.Term{Text: t, Weight: -1})
		}
	}
	if len(q.Terms) == 0 {
		return q, errorf(http.StatusBadRequest, "empty_query", "give text, image, image_id or terms")
	}
	if len(q.Terms) > maxTerms {
		return q, errorf(http.StatusBadRequest, "too_many_terms", "%d query terms; at most %d", len(q.Terms), maxTerms)
	}
	f := req.Filter
	q.Filter = catalog.Filter{PathGlob: f.Path, MinWidth: f.MinWidth}
	if f.Path != "" {
		if _, err := filepath.Match(f.Path, ""); err != nil {
			return q, errorf(http.StatusBadRequest, "bad_request", "filter.path: bad glob %q", f.Path)
		}
	}
	var err error
	if f.After != "" {
		if q.Filter.After, err = parseDate("filter.after", f.After); err != nil {
			return q, err
		}
	}
	if f.Before != "" {
		if q.Filter.Before, err = parseDate("filter.before", f.Before); err != nil {
			return q, err
		}
	}
	for _, t := range f.Types {
		t = strings.ToLower(strings.TrimSpace(t))
		switch t {
		case "":
			continue
		case "jpg":
			t = "jpeg"
		case "tif":
			t = "tiff"
		case "jpeg", "png", "gif", "webp", "bmp", "tiff":
		default:
			return q, errorf(http.StatusBadRequest, "bad_request", "filter.types: unknown format %q", t)
		}
		q.Filter.Formats = append(q.Filter.Formats, t)
	}
	return q, nil
}

func pathID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, errorf(http.StatusBadRequest, "bad_id", "image id %q is not a positive integer", v)
	}
	return id, nil
}

// ImageInfo is the metadata of GET /v1/images/{id}.
type ImageInfo struct {
	ID        int64       `json:"id"`
	Paths     []string    `json:"paths"`
	Path      string      `json:"path"`
	Size      int64       `json:"size"`
	Hash      string      `json:"sha256"`
	Format    string      `json:"format"`
	Width     int         `json:"width"`
	Height    int         `json:"height"`
	TakenAt   *time.Time  `json:"taken_at,omitempty"`
	Camera    string      `json:"camera,omitempty"`
	GPS       *[2]float64 `json:"gps,omitempty"`
	Model     string      `json:"model"`
	AddedAt   time.Time   `json:"added_at"`
	Modified  time.Time   `json:"modified"`
	Thumbnail string      `json:"thumbnail"`
	File      string      `json:"file"`
}

func (s *Server) handleImage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	im, err := s.lib.Store().Image(r.Context(), id)
	if err != nil {
		return err
	}
	info := ImageInfo{ID: im.ID, Paths: im.Paths, Size: im.Size, Hash: fmt.Sprintf("%x", im.Hash), Format: im.Format,
		Width: im.Width, Height: im.Height, Camera: im.Camera, Model: im.Model, AddedAt: im.AddedAt, Modified: im.MTime,
		Thumbnail: fmt.Sprintf("/v1/images/%d/thumbnail", id), File: fmt.Sprintf("/v1/images/%d/file", id)}
	if len(im.Paths) > 0 {
		info.Path = im.Paths[0]
	}
	if !im.TakenAt.IsZero() {
		t := im.TakenAt
		info.TakenAt = &t
	}
	if im.HasGPS {
		info.GPS = &[2]float64{im.Lat, im.Lon}
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

func (s *Server) handleThumbnail(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	b, err := s.lib.Store().Thumbnail(r.Context(), id)
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return errorf(http.StatusNotFound, "not_found", "image %d has no thumbnail", id)
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "private, max-age=86400")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
	return nil
}

// handleFile serves the original file of an image: only paths the catalog
// holds for that id, and only while the file is as indexed, so a file
// replaced or edited since is not served under an old id. A file is as
// indexed when its size and modification time are those recorded for the
// path, the rule by which sight index takes a file as unchanged
// (catalog.PathEntry.Unchanged), or, when only its modification time
// moved (a file touched or copied back), when its bytes still have the
// image's SHA-256. That costs one path lookup in the store per candidate
// path, and a read of the file when its time moved.
func (s *Server) handleFile(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	im, err := s.lib.Store().Image(r.Context(), id)
	if err != nil {
		return err
	}
	for _, p := range im.Paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		st, err := f.Stat()
		if err != nil || !st.Mode().IsRegular() || st.Size() != im.Size {
			// Another size is another file: no need to ask the store.
			f.Close()
			continue
		}
		pe, err := s.lib.Store().LookupPath(r.Context(), p)
		if err != nil && !errors.Is(err, catalog.ErrNotFound) {
			f.Close()
			return err // the store failed: not a reason to say the file is gone
		}
		if err != nil || pe.ImageID != id || !(pe.Unchanged(st.Size(), st.ModTime()) || sameBytes(r.Context(), f, im.Hash)) {
			f.Close()
			continue
		}
		defer f.Close()
		w.Header().Set("Content-Type", contentType(im.Format))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", sanitizeName(filepath.Base(p))))
		http.ServeContent(w, r, "", st.ModTime(), f)
		return nil
	}
	return errorf(http.StatusNotFound, "file_gone", "image %d's file is no longer on disk", id)
}

// sameBytes reports whether f still holds the bytes of SHA-256 hash; it
// leaves f at its start. It stops reading when ctx ends (the client went
// away).
func sameBytes(ctx context.Context, f *os.File, hash []byte) bool {
	if len(hash) != sha256.Size {
		return false
	}
	h := sha256.New()
	if _, err := io.Copy(h, ctxio.Reader(ctx, f)); err != nil {
		return false
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false
	}
	return bytes.Equal(h.Sum(nil), hash)
}

func sanitizeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' || r == '\\' || r == 0x7f {
			return '_'
		}
		return r
	}, s)
}

func contentType(format string) string {
	switch format {
	case "jpeg", "png", "gif", "webp", "bmp", "tiff":
		return "image/" + format
	}
	return "application/octet-stream"
}

// AddResponse is the answer of POST /v1/images.
type AddResponse struct {
	ID      int64  `json:"id"`
	Added   bool   `json:"added"` // false: the same content was already in the library
	Image   string `json:"image"`
	Message string `json:"message,omitempty"`
}

func (s *Server) handleAdd(w http.ResponseWriter, r *http.Request) error {
	var data []byte
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return badBody(err)
		}
		defer r.MultipartForm.RemoveAll()
		fh := r.MultipartForm.File["image"]
		if len(fh) == 0 {
			return errorf(http.StatusBadRequest, "bad_request", "multipart upload needs the file in the field \"image\"")
		}
		if data, err = readPart(fh[0]); err != nil {
			return err
		}
	} else if data, err = io.ReadAll(r.Body); err != nil {
		return badBody(err)
	}
	if len(data) == 0 {
		return errorf(http.StatusBadRequest, "bad_request", "empty upload")
	}
	if _, ok := imageio.Sniff(data); !ok {
		return errorf(http.StatusUnsupportedMediaType, "not_an_image", "the upload is not a JPEG, PNG, GIF, WebP, BMP or TIFF image")
	}
	release, err := s.acquire(r.Context())
	if err != nil {
		return err
	}
	defer release()
	// The write completes even if the client goes away: it is either stored
	// whole or not at all.
	id, added, err := s.lib.AddImage(context.WithoutCancel(r.Context()), data)
	if err != nil {
		return err
	}
	s.metrics.added.Add(1)
	status := http.StatusCreated
	if !added {
		status = http.StatusOK
	}
	writeJSON(w, status, AddResponse{ID: id, Added: added, Image: fmt.Sprintf("/v1/images/%d", id)})
	return nil
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.lib.RemoveImage(context.WithoutCancel(r.Context()), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "deleted": true})
	return nil
}

// StatsResponse is the answer of GET /v1/stats.
type StatsResponse struct {
	library.Stats
	Indexing struct {
		Active bool `json:"active"`
		Done   int  `json:"done"`
		Total  int  `json:"total"`
	} `json:"indexing"`
	ReadOnly bool `json:"read_only"`
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) error {
	st, err := s.lib.Stats(r.Context())
	if err != nil {
		return err
	}
	resp := StatsResponse{Stats: st, ReadOnly: s.opts.ReadOnly || s.lib.ReadOnly()}
	runs, done, total := s.lib.Activity()
	resp.Indexing.Active, resp.Indexing.Done, resp.Indexing.Total = runs > 0, done, total
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	if _, _, err := s.lib.Store().Meta(r.Context(), "model"); err != nil {
		return errorf(http.StatusServiceUnavailable, "unhealthy", "store unavailable: %v", err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// classify maps an error to the API error returned to the client.
func (s *Server) classify(err error, r *http.Request) *apiError {
	var ae *apiError
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &mb):
		return errorf(http.StatusRequestEntityTooLarge, "too_large", "request body over %d bytes", mb.Limit)
	case errors.Is(err, imageio.ErrTooLarge):
		return errorf(http.StatusRequestEntityTooLarge, "too_many_pixels", "%v", err)
	case errors.Is(err, library.ErrBadImage), errors.Is(err, imageio.ErrNotImage), errors.Is(err, imageio.ErrUnsupported):
		return errorf(http.StatusUnprocessableEntity, "bad_image", "%v", err)
	case errors.Is(err, catalog.ErrNotFound):
		return errorf(http.StatusNotFound, "not_found", "%v", err)
	case errors.Is(err, library.ErrEmptyQuery):
		return errorf(http.StatusBadRequest, "empty_query", "%v", err)
	case errors.Is(err, library.ErrBadQuery):
		return errorf(http.StatusBadRequest, "bad_request", "%v", err)
	case errors.Is(err, context.DeadlineExceeded):
		return errorf(http.StatusServiceUnavailable, "timeout", "the request took longer than %s", s.opts.RequestTimeout)
	case errors.Is(err, context.Canceled):
		return errorf(499, "canceled", "the client went away")
	}
	s.opts.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return errorf(http.StatusInternalServerError, "internal", "internal error: %v", err)
}
