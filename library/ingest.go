package library

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/clip"
	"github.com/sightsearch/sight/imageio"
)

// IndexOptions configures [Library.Index].
type IndexOptions struct {
	// Prune removes catalog paths under the walked directories (and given
	// files) that no longer exist.
	Prune bool
	// BatchSize is how many images go through the model at once (0: 8).
	// Larger batches gain the model little on a CPU (ViT-B/32 fp32 on 2
	// cores: 23.4 img/s at 8, 23.8 at 16, 24.0 at 32) and in a pipeline that shares the
	// cores with decoding they lose it again to cache misses, for twice
	// the memory.
	BatchSize int
	// Workers decode and preprocess images in parallel (0: GOMAXPROCS).
	Workers int
	// MaxFileSize skips larger files (0: 1 GiB).
	MaxFileSize int64
	// Stdin supplies the list of paths for the source "-".
	Stdin io.Reader
	// NoAloneTiming skips pausing the decoders for one batch to time the
	// model alone (Summary.InferenceImagesPerSecond then comes from the
	// pipeline): for callers that index many small runs, such as a
	// queue worker, where the pause would cost every run a batch of
	// overlap.
	NoAloneTiming bool
	// Progress is called after every committed batch and at the end.
	Progress func(Progress)
}

// Progress is the state of a running index.
type Progress struct {
	Total     int // files found
	Done      int // files handled (added, unchanged, duplicate or skipped)
	Added     int
	Elapsed   time.Duration
	Finished  bool
	LastError string
}

// Summary reports what an index run did.
type Summary struct {
	Files      int            `json:"files"`      // regular files found
	Added      int            `json:"added"`      // new images embedded
	Unchanged  int            `json:"unchanged"`  // same size and mtime as stored
	Duplicates int            `json:"duplicates"` // content already in the library (another path)
	Updated    int            `json:"updated"`    // path known, file touched, content unchanged
	Pruned     int            `json:"pruned"`     // paths removed with --prune
	Skipped    map[string]int `json:"skipped"`    // by reason
	// Problems lists up to 100 files that were skipped with their reason.
	Problems []string `json:"problems,omitempty"`
	Elapsed  float64  `json:"elapsed_seconds"`
	// ImagesPerSecond is the whole pipeline's rate over the embedded images.
	ImagesPerSecond float64 `json:"images_per_second"`
	// InferenceImagesPerSecond is the model's own rate at this batch size:
	// measured on the second full batch, which runs with the decoders
	// paused (InferenceMeasuredAlone), or when the run had fewer full
	// batches, PipelineInferenceImagesPerSecond.
	InferenceImagesPerSecond float64 `json:"inference_images_per_second"`
	// InferenceMeasuredAlone reports that InferenceImagesPerSecond was
	// measured with nothing else of the pipeline running.
	InferenceMeasuredAlone bool `json:"inference_measured_alone"`
	// PipelineInferenceImagesPerSecond is the rate over all the time spent
	// in the image tower, while decoders compete for the CPU.
	PipelineInferenceImagesPerSecond float64 `json:"pipeline_inference_images_per_second"`
	BatchSize                        int     `json:"batch_size"`
}

// Skip reasons.
const (
	reasonNotImage    = "not an image"
	reasonTooLarge    = "too many pixels"
	reasonCorrupt     = "corrupt or truncated"
	reasonUnsupported = "unsupported variant"
	reasonEmpty       = "empty file"
	reasonUnreadable  = "unreadable"
	reasonFileTooBig  = "file too big"
	reasonKnownBad    = "unchanged, skipped before"
)

// prepared is one file after the CPU-side work, before the model.
type prepared struct {
	path     string
	size     int64
	mtime    time.Time
	hash     []byte
	info     imageio.Info
	pixels   []float32
	thumb    []byte
	existing int64  // content already stored under this id (no embedding needed)
	skip     string // non-empty: skipped for this reason
	problem  string
	same     bool // unchanged since last run
	touched  bool // path known with same content but new mtime
}

// Index adds the images under sources to the library (see package doc of
// cmd/sight for the user-visible behaviour): new and changed files are
// embedded, unchanged ones skipped, identical contents share one vector.
// Work committed before a cancellation stays; a next run resumes.
func (l *Library) Index(ctx context.Context, sources []string, opts IndexOptions) (Summary, error) {
	start := time.Now()
	sum := Summary{Skipped: map[string]int{}}
	if err := l.checkWritable(); err != nil {
		return sum, err
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 8
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = 1 << 30
	}
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	sum.BatchSize = opts.BatchSize
	w, err := walk(ctx, sources, opts.Stdin, l.dir)
	if err != nil {
		return sum, err
	}
	sum.Files = len(w.files)
	for p, why := range w.errors {
		sum.Skipped[reasonUnreadable]++
		sum.addProblem(p, why)
	}
	progress := Progress{Total: len(w.files)}
	l.active.mu.Lock()
	l.active.runs++
	l.active.total += progress.Total
	l.active.mu.Unlock()
	var reported int
	defer func() {
		l.active.mu.Lock()
		l.active.runs--
		l.active.total -= progress.Total
		l.active.done -= reported
		l.active.mu.Unlock()
	}()
	report := func() {
		l.active.mu.Lock()
		l.active.done += progress.Done - reported
		reported = progress.Done
		l.active.mu.Unlock()
		if opts.Progress != nil {
			progress.Elapsed = time.Since(start)
			opts.Progress(progress)
		}
	}
	report()

	// The pipeline: a feeder sends paths to Workers goroutines that stat,
	// hash, decode and preprocess (stage 1); a collector groups their
	// results into units of at most BatchSize images to embed (stage 2);
	// an embedder runs the model on one unit while the collector fills the
	// next and this goroutine commits the previous one (stage 3), so the
	// model never waits for a catalog commit, and waits for decoding only
	// when the decoders cannot keep up. The buffers hold two batches of
	// prepared files, one unit ready for the model and one for the commit.
	// wctx stops the stages early when a commit fails. Workers hold pause
	// (shared) while preparing a file: the embedder takes it exclusively to
	// time one batch of the model alone.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var pause sync.RWMutex
	paths := make(chan string)
	preps := make(chan prepared, opts.BatchSize*2)
	var wg sync.WaitGroup
	for i := 0; i < opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range paths {
				pause.RLock()
				pr := l.prepare(wctx, p, opts.MaxFileSize)
				pause.RUnlock()
				select {
				case preps <- pr:
				case <-wctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(paths)
		for _, p := range w.files {
			select {
			case paths <- p:
			case <-wctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(preps) }()

	units := make(chan *unit, 1)
	go func() {
		defer close(units)
		u := &unit{}
		for pr := range preps {
			if pr.skip == "" && !pr.same && pr.existing == 0 {
				u.embed = append(u.embed, pr)
			} else {
				u.other = append(u.other, pr)
			}
			if len(u.embed) >= opts.BatchSize || len(u.other) >= 256 {
				select {
				case units <- u:
				case <-wctx.Done():
				}
				u = &unit{}
			}
		}
		if wctx.Err() == nil && (len(u.embed) > 0 || len(u.other) > 0) {
			units <- u
		}
	}()

	embeddedUnits := make(chan *unit, 1)
	// Written by the embedder, read after it ends.
	var (
		inferTime, aloneTime time.Duration
		embedded, full       int
	)
	go func() {
		defer close(embeddedUnits)
		for u := range units {
			if len(u.embed) > 0 && wctx.Err() == nil {
				pix := make([][]float32, len(u.embed))
				for i := range u.embed {
					pix[i] = u.embed[i].pixels
					u.embed[i].pixels = nil
				}
				alone := false
				if len(u.embed) == opts.BatchSize {
					full++
					alone = full == 2 && !opts.NoAloneTiming // the first one warms up
				}
				if alone {
					pause.Lock()
				}
				t0 := time.Now()
				u.vecs, u.err = l.enc.EmbedPixels(wctx, pix)
				d := time.Since(t0)
				if alone {
					pause.Unlock()
					aloneTime = d
				}
				inferTime += d
				if u.err == nil {
					embedded += len(u.embed)
				}
			} else if len(u.embed) > 0 {
				u.err = wctx.Err()
			}
			embeddedUnits <- u
		}
	}()

	var runErr error
	for u := range embeddedUnits {
		if runErr != nil {
			continue // drain
		}
		if err := l.commit(ctx, u, &sum, &progress); err != nil {
			runErr = err
			cancel()
			continue
		}
		report()
	}
	if runErr == nil && ctx.Err() == nil && opts.Prune {
		n, err := l.prune(ctx, w)
		sum.Pruned = n
		runErr = err
	}
	if err := l.sync(context.WithoutCancel(ctx)); err != nil && runErr == nil {
		runErr = err
	}
	sum.Elapsed = time.Since(start).Seconds()
	if embedded > 0 {
		sum.ImagesPerSecond = float64(embedded) / sum.Elapsed
		sum.PipelineInferenceImagesPerSecond = float64(embedded) / inferTime.Seconds()
		sum.InferenceImagesPerSecond = sum.PipelineInferenceImagesPerSecond
		if aloneTime > 0 {
			sum.InferenceImagesPerSecond = float64(opts.BatchSize) / aloneTime.Seconds()
			sum.InferenceMeasuredAlone = true
		}
	}
	progress.Finished = true
	report()
	if runErr == nil {
		runErr = ctx.Err()
	}
	return sum, runErr
}

// unit is a group of prepared files going through the model and into the
// catalog together.
type unit struct {
	embed []prepared  // new contents, to embed (at most BatchSize)
	other []prepared  // unchanged, skipped or already-stored contents
	vecs  [][]float32 // embeddings of embed, once embedded
	err   error       // embedding failure
}

// commit stores a unit: new images with their vectors, new paths of known
// contents and skipped files in one catalog transaction, then the new
// vectors in the index. It updates sum and progress.
func (l *Library) commit(ctx context.Context, u *unit, sum *Summary, progress *Progress) error {
	if u.err != nil {
		return u.err
	}
	var batch catalog.Batch
	var meta []prepared // path-only entries in batch, for counting
	for _, pr := range u.other {
		switch {
		case pr.same:
			sum.Unchanged++
			progress.Done++
		case pr.skip == reasonKnownBad:
			sum.Skipped[pr.skip]++
			progress.Done++
		case pr.skip != "":
			sum.Skipped[pr.skip]++
			sum.addProblem(pr.path, pr.problem)
			batch.Skipped = append(batch.Skipped, catalog.Skip{Path: pr.path, Size: pr.size, MTime: pr.mtime.UnixNano(), Reason: pr.skip})
		default: // pr.existing != 0
			batch.Paths = append(batch.Paths, catalog.PathEntry{Path: pr.path, ImageID: pr.existing, Size: pr.size, MTime: pr.mtime.UnixNano()})
			meta = append(meta, pr)
		}
	}
	if len(u.embed) == 0 && len(batch.Paths) == 0 && len(batch.Skipped) == 0 {
		return nil
	}
	for i, pr := range u.embed {
		v := u.vecs[i]
		clip.Normalize(v)
		im := catalog.Image{Hash: pr.hash, Size: pr.size, Format: string(pr.info.Format),
			Width: pr.info.Width, Height: pr.info.Height, Thumbnail: pr.thumb,
			Model: l.model, Vector: v, Paths: []string{pr.path}, MTime: pr.mtime}
		if ex := pr.info.EXIF; pr.info.HasEXIF {
			if ex.HasDateTimeOriginal {
				im.TakenAt = ex.DateTimeOriginal
			}
			im.Camera = camera(ex.Make, ex.Model)
			im.HasGPS, im.Lat, im.Lon = ex.HasGPS, ex.Latitude, ex.Longitude
		}
		batch.Images = append(batch.Images, im)
	}
	res, err := l.st.Apply(context.WithoutCancel(ctx), batch)
	if err != nil {
		return err
	}
	added := countNew(res)
	sum.Added += added
	progress.Added += added
	sum.Duplicates += len(res.IDs) - added
	for _, pr := range meta {
		if pr.touched {
			sum.Updated++
		} else {
			sum.Duplicates++
		}
	}
	progress.Done += len(u.embed) + len(meta) + len(batch.Skipped)
	return nil
}

func (s *Summary) addProblem(path, why string) {
	if len(s.Problems) < 100 {
		s.Problems = append(s.Problems, fmt.Sprintf("%s: %s", path, why))
	}
}

// prepare does everything for one file that needs no model.
func (l *Library) prepare(ctx context.Context, path string, maxSize int64) prepared {
	pr := prepared{path: path}
	st, err := os.Stat(path)
	if err != nil {
		pr.skip, pr.problem = reasonUnreadable, err.Error()
		return pr
	}
	pr.size, pr.mtime = st.Size(), st.ModTime()
	known, err := l.st.LookupPath(ctx, path)
	haveKnown := err == nil
	if haveKnown && known.Unchanged(pr.size, pr.mtime) {
		pr.same = true
		return pr
	}
	if s, ok, _ := l.st.LookupSkipped(ctx, path); ok && s.Unchanged(pr.size, pr.mtime) {
		pr.skip = reasonKnownBad
		return pr
	}
	if pr.size == 0 {
		pr.skip, pr.problem = reasonEmpty, "empty file"
		return pr
	}
	if pr.size > maxSize {
		pr.skip, pr.problem = reasonFileTooBig, fmt.Sprintf("%d bytes (limit %d)", pr.size, maxSize)
		return pr
	}
	// Cheap content check before reading the whole file.
	f, err := os.Open(path)
	if err != nil {
		pr.skip, pr.problem = reasonUnreadable, err.Error()
		return pr
	}
	head := make([]byte, 32)
	n, _ := io.ReadFull(f, head)
	if _, ok := imageio.Sniff(head[:n]); !ok {
		f.Close()
		pr.skip, pr.problem = reasonNotImage, "not a recognised image format"
		return pr
	}
	// Read the rest into a buffer of the file's size: large photos are
	// read without the copies of a growing buffer.
	buf := bytes.NewBuffer(make([]byte, 0, min(pr.size, maxSize)+bytes.MinRead))
	buf.Write(head[:n])
	_, err = buf.ReadFrom(io.LimitReader(f, maxSize+1-int64(n)))
	data := buf.Bytes()
	f.Close()
	if err != nil {
		pr.skip, pr.problem = reasonUnreadable, err.Error()
		return pr
	}
	pr.size = int64(len(data))
	h := sha256.Sum256(data)
	pr.hash = h[:]
	if id, err := l.st.LookupHash(ctx, pr.hash); err == nil {
		pr.existing = id
		pr.touched = haveKnown && known.ImageID == id
		return pr
	}
	img, info, err := l.enc.Decode(data)
	if err != nil {
		pr.skip, pr.problem = skipReason(err), err.Error()
		return pr
	}
	pr.info = info
	pr.pixels = l.enc.Pixels(img)
	pr.thumb = thumbnail(img, 256)
	return pr
}

// countNew returns how many images of an applied batch were new.
func countNew(res catalog.Result) int {
	n := 0
	for _, isNew := range res.New {
		if isNew {
			n++
		}
	}
	return n
}

func skipReason(err error) string {
	switch {
	case errors.Is(err, imageio.ErrTooLarge):
		return reasonTooLarge
	case errors.Is(err, imageio.ErrUnsupported):
		return reasonUnsupported
	default:
		return reasonCorrupt
	}
}

// thumbnail returns a JPEG of img fitting in a size×size box. img is the
// encoder's decode, already reduced for large JPEGs; the box filter (area
// averaging) costs a third of bicubic and suits downscaling.
func thumbnail(img *imageio.RGB, size int) []byte {
	w, h := img.Width, img.Height
	if w > size || h > size {
		if w >= h {
			w, h = size, max(1, img.Height*size/img.Width)
		} else {
			w, h = max(1, img.Width*size/img.Height), size
		}
	}
	small := img
	if w != img.Width || h != img.Height {
		var err error
		if small, err = imageio.ResizeFast(img, w, h, imageio.ResampleBox); err != nil {
			return nil
		}
	}
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	for i, j := 0, 0; i < len(small.Pix); i, j = i+3, j+4 {
		rgba.Pix[j], rgba.Pix[j+1], rgba.Pix[j+2], rgba.Pix[j+3] = small.Pix[i], small.Pix[i+1], small.Pix[i+2], 255
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: 80}); err != nil {
		return nil
	}
	return buf.Bytes()
}

// prune removes catalog paths below the walked roots (or equal to a given
// file) that the walk did not find.
func (l *Library) prune(ctx context.Context, w walkResult) (int, error) {
	found := make(map[string]bool, len(w.files))
	for _, f := range w.files {
		found[f] = true
	}
	var gone []string
	err := l.st.EachPath(ctx, func(e catalog.PathEntry) error {
		if found[e.Path] {
			return nil
		}
		under := func(root string) bool {
			prefix := root
			if !strings.HasSuffix(prefix, string(os.PathSeparator)) {
				prefix += string(os.PathSeparator)
			}
			return e.Path == root || strings.HasPrefix(e.Path, prefix)
		}
		for _, r := range append(w.roots, w.missing...) {
			if under(r) {
				if _, err := os.Lstat(e.Path); errors.Is(err, os.ErrNotExist) {
					gone = append(gone, e.Path)
				}
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if len(gone) == 0 {
		return 0, nil
	}
	sort.Strings(gone)
	if _, err := l.st.RemovePaths(ctx, gone); err != nil {
		return 0, err
	}
	return len(gone), nil
}

// camera joins an EXIF make and model, dropping the make when the model
// already starts with it ("Canon" + "Canon EOS 5D").
func camera(make, model string) string {
	make, model = strings.TrimSpace(make), strings.TrimSpace(model)
	switch {
	case make == "":
		return model
	case model == "":
		return make
	case strings.HasPrefix(strings.ToLower(model), strings.ToLower(make)):
		return model
	}
	return make + " " + model
}

// UploadsDir is the folder inside a library where [Library.AddImage] keeps
// the images it receives.
const UploadsDir = "uploads"

// AddImage stores an image received as bytes (an upload) in the library's
// uploads folder, named by its content hash, and indexes it. It returns the
// image's id and whether it was new to the library. Non-images and images
// over the pixel limit are refused before anything is stored.
func (l *Library) AddImage(ctx context.Context, data []byte) (id int64, added bool, err error) {
	if err := l.checkWritable(); err != nil {
		return 0, false, err
	}
	dir := l.uploadsDir()
	if dir == "" {
		return 0, false, errors.New("library: this library's store is remote and no uploads folder is set (Options.UploadsDir, `sight serve --uploads DIR`): uploads need a folder that every sight process sees")
	}
	info, err := imageio.DecodeConfig(data)
	if err != nil {
		return 0, false, err
	}
	max := l.enc.Limits.MaxPixels
	if max <= 0 {
		max = imageio.DefaultMaxPixels
	}
	if int64(info.Width)*int64(info.Height) > max {
		return 0, false, fmt.Errorf("%w: %dx%d pixels (limit %d)", imageio.ErrTooLarge, info.Width, info.Height, max)
	}
	h := sha256.Sum256(data)
	if id, err := l.st.LookupHash(ctx, h[:]); err == nil {
		return id, false, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, false, err
	}
	path := filepath.Join(dir, fmt.Sprintf("%x.%s", h[:16], extension(info.Format)))
	if err := writeFileAtomic(path, data); err != nil {
		return 0, false, fmt.Errorf("store upload: %w", err)
	}
	sum, err := l.Index(ctx, []string{path}, IndexOptions{BatchSize: 1, Workers: 1})
	if err != nil {
		return 0, false, err
	}
	if len(sum.Problems) > 0 {
		os.Remove(path)
		return 0, false, fmt.Errorf("%w: %s", imageio.ErrNotImage, strings.TrimPrefix(sum.Problems[0], path+": "))
	}
	e, err := l.st.LookupPath(ctx, path)
	if err != nil {
		return 0, false, err
	}
	return e.ImageID, sum.Added > 0, nil
}

func extension(f imageio.Format) string {
	if f == "jpeg" {
		return "jpg"
	}
	if f == "" {
		return "img"
	}
	return string(f)
}

// uploadsDir is where AddImage stores uploads ("" if nowhere).
func (l *Library) uploadsDir() string {
	switch {
	case l.opts.UploadsDir != "":
		if abs, err := filepath.Abs(l.opts.UploadsDir); err == nil {
			return abs
		}
		return l.opts.UploadsDir
	case l.dir != "":
		return filepath.Join(l.dir, UploadsDir)
	}
	return ""
}

// RemoveImage deletes an image by id, with the stored uploads of it.
func (l *Library) RemoveImage(ctx context.Context, id int64) error {
	if err := l.checkWritable(); err != nil {
		return err
	}
	im, err := l.st.Image(ctx, id)
	if err != nil {
		return err
	}
	if err := l.st.RemoveImage(ctx, id); err != nil {
		return err
	}
	if dir := l.uploadsDir(); dir != "" {
		uploads := dir + string(os.PathSeparator)
		for _, p := range im.Paths {
			if strings.HasPrefix(p, uploads) {
				os.Remove(p)
			}
		}
	}
	return nil
}

// Import adds images whose vectors were computed elsewhere (another Sight,
// a benchmark's synthetic set). Each image needs a hash, a vector of the
// library's dimension and at least one path; vectors are normalised.
func (l *Library) Import(ctx context.Context, images []catalog.Image) error {
	if err := l.checkWritable(); err != nil {
		return err
	}
	for i := range images {
		if len(images[i].Vector) != l.enc.Dim() {
			return fmt.Errorf("import: image %d has a vector of dimension %d, the library %d", i, len(images[i].Vector), l.enc.Dim())
		}
		if len(images[i].Paths) == 0 {
			return fmt.Errorf("import: image %d has no path", i)
		}
		clip.Normalize(images[i].Vector)
		if images[i].Model == "" {
			images[i].Model = l.model
		}
	}
	if _, err := l.st.Apply(ctx, catalog.Batch{Images: images}); err != nil {
		return err
	}
	return l.sync(ctx)
}
