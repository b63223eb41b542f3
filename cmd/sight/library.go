package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/clip"
	"github.com/sightsearch/sight/imageio"
	"github.com/sightsearch/sight/library"
)

// libFlags are the flags every library command takes.
type libFlags struct {
	modelFlags
	store   storeFlags
	db      string
	decode  string
	uploads string // serve only: Options.UploadsDir
}

func (f *libFlags) register(fs *flag.FlagSet) {
	f.modelFlags.register(fs, "")
	fs.Lookup("model").Usage = "CLIP checkpoint (Hub repo id or local directory); needed only when the library is created (default " + clip.DefaultModel + ")"
	fs.StringVar(&f.db, "db", "", "library directory (default $SIGHT_DB, else the user's data dir)")
	f.store.register(fs)
	fs.StringVar(&f.decode, "decode", "fast", "how large JPEGs are decoded: fast (DCT-reduced to >= 1.5x the model's input, 1/8 for 12 MP), fine (>= 2x, 1/4 for 12 MP) or exact (full size, the reference pixels)")
}

func (f *libFlags) options(e *env) (string, library.Options, error) {
	dir := f.db
	if dir == "" {
		d, err := library.DefaultDir()
		if err != nil {
			return "", library.Options{}, err
		}
		dir = d
	}
	eo, err := f.encoderOptions(e)
	if err != nil {
		return "", library.Options{}, err
	}
	opts := library.Options{
		Model:          f.model,
		EncoderOptions: eo,
		Logger:         e.log,
		UploadsDir:     f.uploads,
	}
	switch f.decode {
	case "fast":
	case "fine":
		opts.EncoderOptions.DecodeMargin = 2
	case "exact":
		opts.ExactDecode = true
	default:
		return "", library.Options{}, usageError{fmt.Sprintf("--decode %q: want fast, fine or exact", f.decode)}
	}
	return dir, opts, nil
}

// open opens the library for writing.
func (f *libFlags) open(ctx context.Context, e *env) (*library.Library, error) {
	if f.store.remote() {
		return f.openRemote(ctx, e)
	}
	dir, opts, err := f.options(e)
	if err != nil {
		return nil, err
	}
	return library.Open(ctx, dir, opts)
}

// openRemote opens the library in the --store cluster. Any number of
// processes may read and write it at once: there is no lock to wait for.
func (f *libFlags) openRemote(ctx context.Context, e *env) (*library.Library, error) {
	if f.db != "" {
		return nil, usageError{"give --db or --store, not both"}
	}
	_, opts, err := f.options(e)
	if err != nil {
		return nil, err
	}
	st, err := f.store.open(ctx, e)
	if err != nil {
		return nil, err
	}
	return library.OpenStore(ctx, st, opts)
}

// lockWait is how long a writing command waits for another process to
// release the library: enough for a search to finish, not for an index run.
const lockWait = 15 * time.Second

// openWaiting opens the library for writing like open, waiting up to
// lockWait while a search in another sight process holds it; a library
// held by an index run, a server or a reindex fails at once.
func (f *libFlags) openWaiting(ctx context.Context, e *env) (*library.Library, error) {
	if f.store.remote() {
		return f.openRemote(ctx, e)
	}
	dir, opts, err := f.options(e)
	if err != nil {
		return nil, err
	}
	var l *library.Library
	err = waitUnlocked(ctx, e, dir, func() (err error) {
		l, err = library.Open(ctx, dir, opts)
		return err
	})
	return l, err
}

// waitUnlocked runs try, which locks the library in dir for writing, again
// while it fails because a search in another sight process holds the
// library, for up to lockWait; a library held by an index run, a server or
// a reindex fails at once. While it waits, new searches do not take the
// lock (library.WaitForLock).
func waitUnlocked(ctx context.Context, e *env, dir string, try func() error) error {
	deadline := time.Now().Add(lockWait)
	delay := 50 * time.Millisecond
	announced := false
	release := func() {} // the announcement, once made
	defer func() { release() }()
	for told := false; ; told = true {
		err := try()
		var le *library.LockedError
		if !errors.As(err, &le) || time.Now().After(deadline) {
			return err
		}
		if le.Purpose != library.LockSearch {
			return err // an index run or a server: no use waiting
		}
		if !told {
			fmt.Fprintf(e.stderr, "waiting for another sight process to release %s...\n", dir)
		}
		if !announced {
			// Searches that start from now on leave the lock alone.
			rel, ok, err := library.WaitForLock(dir)
			if err != nil {
				return err
			}
			if ok {
				release, announced = rel, true
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// openSearch opens the library for searching (read-only if another process
// writes it).
func (f *libFlags) openSearch(ctx context.Context, e *env) (*library.Library, error) {
	if f.store.remote() {
		return f.openRemote(ctx, e)
	}
	dir, opts, err := f.options(e)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, catalog.FileName)); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no library at %s: run `sight index PATH` first (or pass --db DIR)", dir)
	}
	return library.OpenForSearch(ctx, dir, opts)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// setFlagsExcept lists, as --name, the flags set on the command line
// other than the given names.
func setFlagsExcept(fs *flag.FlagSet, allowed ...string) []string {
	var out []string
	fs.Visit(func(f *flag.Flag) {
		if !slices.Contains(allowed, f.Name) {
			out = append(out, "--"+f.Name)
		}
	})
	return out
}

// setFlagsAmong lists, as --name, the flags set on the command line
// among the given names.
func setFlagsAmong(fs *flag.FlagSet, names ...string) []string {
	var out []string
	fs.Visit(func(f *flag.Flag) {
		if slices.Contains(names, f.Name) {
			out = append(out, "--"+f.Name)
		}
	})
	return out
}

func runIndex(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "index", "[flags] PATH... (directories, files, or - for a list of paths on stdin)")
	var lf libFlags
	lf.register(fs)
	prune := fs.Bool("prune", false, "remove library entries of files that are gone from the given folders")
	batch := fs.Int("batch", 8, "images per model batch")
	workers := fs.Int("workers", 0, "decoding workers (default: number of CPUs)")
	stats := fs.Bool("stats", false, "print throughput figures (pipeline and pure inference images/s)")
	asJSON := fs.Bool("json", false, "print the summary as one JSON object")
	var qf queueFlags
	qf.register(fs, true)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError{"give at least one folder, file, or - (paths on stdin)"}
	}
	if qf.url != "" {
		if bad := setFlagsExcept(fs, append([]string{"queue", "wait", "json"}, queueSettings()...)...); len(bad) > 0 {
			return usageError{fmt.Sprintf("%s: not used with --queue (the workers index: give library and indexing flags to sight worker)", strings.Join(bad, ", "))}
		}
		return enqueueIndex(ctx, e, qf, pos, *asJSON)
	}
	if qf.wait {
		return usageError{"--wait follows a queue: it needs --queue"}
	}
	if queueOnly := setFlagsAmong(fs, queueSettings()...); len(queueOnly) > 0 {
		return usageError{fmt.Sprintf("%s: settings of a queue: they need --queue", strings.Join(queueOnly, ", "))}
	}
	lib, err := lf.openWaiting(ctx, e)
	if err != nil {
		return err
	}
	defer lib.Close()
	var bar *progressbar.ProgressBar
	lastLog := time.Now()
	progress := func(p library.Progress) {
		if isTerminal(e.stderr) {
			if bar == nil && p.Total > 0 {
				bar = progressbar.NewOptions(p.Total, progressbar.OptionSetWriter(e.stderr),
					progressbar.OptionSetDescription("indexing"), progressbar.OptionShowCount(),
					progressbar.OptionShowIts(), progressbar.OptionSetItsString("files"),
					progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(200*time.Millisecond),
					progressbar.OptionClearOnFinish())
			}
			if bar != nil {
				bar.Set(p.Done)
				if p.Finished {
					bar.Finish()
				}
			}
			return
		}
		if p.Finished || time.Since(lastLog) > 5*time.Second {
			lastLog = time.Now()
			rate := 0.0
			if s := p.Elapsed.Seconds(); s > 0 {
				rate = float64(p.Added) / s
			}
			e.log.Info("indexing", "done", p.Done, "total", p.Total, "added", p.Added, "images_per_s", fmt.Sprintf("%.1f", rate))
		}
	}
	sum, err := lib.Index(ctx, pos, library.IndexOptions{Prune: *prune, BatchSize: *batch, Workers: *workers, Stdin: e.stdin, Progress: progress})
	if *asJSON {
		json.NewEncoder(e.stdout).Encode(sum)
	} else {
		printSummary(e.stdout, sum, *stats)
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(e.stderr, "sight index: interrupted; the next run resumes where this one stopped")
		return exitError{130}
	}
	return err
}

func printSummary(w io.Writer, s library.Summary, stats bool) {
	fmt.Fprintf(w, "%d files: %d added, %d unchanged, %d duplicates", s.Files, s.Added, s.Unchanged, s.Duplicates)
	if s.Updated > 0 {
		fmt.Fprintf(w, ", %d touched", s.Updated)
	}
	if s.Pruned > 0 {
		fmt.Fprintf(w, ", %d pruned", s.Pruned)
	}
	skipped := 0
	var reasons []string
	for r, n := range s.Skipped {
		skipped += n
		reasons = append(reasons, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(reasons)
	if skipped > 0 {
		fmt.Fprintf(w, ", %d skipped (%s)", skipped, strings.Join(reasons, ", "))
	}
	fmt.Fprintf(w, " in %.1fs\n", s.Elapsed)
	for _, p := range s.Problems {
		fmt.Fprintf(w, "  skipped %s\n", p)
	}
	if stats && s.Added > 0 {
		how := "measured alone"
		if !s.InferenceMeasuredAlone {
			how = "measured during the run"
		}
		fmt.Fprintf(w, "throughput: pipeline %.2f images/s, model inference %.2f images/s (%s, batch %d): %.0f%%\n",
			s.ImagesPerSecond, s.InferenceImagesPerSecond, how, s.BatchSize, 100*s.ImagesPerSecond/s.InferenceImagesPerSecond)
	}
}

// searchFlags are the result-shaping flags of search and similar.
type searchFlags struct {
	limit    int
	minScore float64
	path     string
	after    string
	before   string
	minWidth int
	types    string
	format   string
}

func (s *searchFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&s.limit, "limit", 10, "number of results")
	fs.Float64Var(&s.minScore, "min-score", -1, "drop results whose cosine similarity is below this (e.g. 0.2 for text queries)")
	fs.StringVar(&s.path, "path", "", "only images with a path matching this glob (e.g. '*/2023/*' or '*.png')")
	fs.StringVar(&s.after, "after", "", "only images taken (or modified) on or after DATE (YYYY-MM-DD or RFC 3339; UTC unless an offset is given)")
	fs.StringVar(&s.before, "before", "", "only images taken (or modified) before DATE")
	fs.IntVar(&s.minWidth, "min-width", 0, "only images at least this wide")
	fs.StringVar(&s.types, "type", "", "only these formats, comma-separated (jpeg,png,gif,webp,bmp,tiff)")
	fs.StringVar(&s.format, "format", "table", "output: table, json (one object per line) or paths")
}

func parseDate(s string) (time.Time, error) {
	t, err := catalog.ParseDate(s)
	if err != nil {
		return t, usageError{err.Error()}
	}
	return t, nil
}

func (s *searchFlags) query() (library.Query, error) {
	q := library.Query{Limit: s.limit}
	if s.minScore > -1 {
		q.MinScore = &s.minScore
	}
	if s.limit <= 0 {
		return q, usageError{"--limit must be positive"}
	}
	if err := checkFormat(s.format, "table", "json", "paths"); err != nil {
		return q, err
	}
	if _, err := filepath.Match(s.path, ""); err != nil {
		return q, usageError{fmt.Sprintf("bad --path glob %q: %v", s.path, err)}
	}
	q.Filter = catalog.Filter{PathGlob: s.path, MinWidth: s.minWidth}
	var err error
	if s.after != "" {
		if q.Filter.After, err = parseDate(s.after); err != nil {
			return q, err
		}
	}
	if s.before != "" {
		if q.Filter.Before, err = parseDate(s.before); err != nil {
			return q, err
		}
	}
	for _, t := range strings.Split(s.types, ",") {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
			if t == "jpg" {
				t = "jpeg"
			}
			if t == "tif" {
				t = "tiff"
			}
			switch imageio.Format(t) {
			case imageio.JPEG, imageio.PNG, imageio.GIF, imageio.WebP, imageio.BMP, imageio.TIFF:
			default:
				return q, usageError{fmt.Sprintf("unknown --type %q: use jpeg, png, gif, webp, bmp or tiff", t)}
			}
			q.Filter.Formats = append(q.Filter.Formats, t)
		}
	}
	return q, nil
}

// checkFormat reports a --format value that is not one of allowed.
func checkFormat(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return usageError{fmt.Sprintf("unknown --format %q: use %s", format, strings.Join(allowed, ", "))}
}

func printHits(w io.Writer, format string, hits []library.Hit) error {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	switch format {
	case "json":
		je := json.NewEncoder(bw)
		for _, h := range hits {
			if err := je.Encode(h); err != nil {
				return err
			}
		}
	case "paths":
		for _, h := range hits {
			fmt.Fprintln(bw, h.Path)
		}
	default:
		if len(hits) == 0 {
			fmt.Fprintln(bw, "no results")
			return nil
		}
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SCORE\tID\tSIZE\tPATH")
		for _, h := range hits {
			fmt.Fprintf(tw, "%.4f\t%d\t%dx%d\t%s\n", h.Score, h.ID, h.Width, h.Height, h.Path)
		}
		tw.Flush()
	}
	return nil
}

// weighted parses "VALUE" or "VALUE:WEIGHT"... only when the suffix after
// the last colon is a number (so "C:\x.jpg" and "ratio 3:2" stay intact).
func weighted(s string) (string, float64) {
	if i := strings.LastIndexByte(s, ':'); i > 0 {
		if w, err := strconv.ParseFloat(s[i+1:], 64); err == nil {
			return s[:i], w
		}
	}
	return s, 1
}

func runSearch(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "search", "[flags] [TEXT...]\n\nTerms combine as a weighted sum of normalised embeddings; append :WEIGHT to a term to weight it (\"red:0.5\").")
	var lf libFlags
	lf.register(fs)
	var sf searchFlags
	sf.register(fs)
	var texts, images, nots, notImages stringList
	fs.Var(&texts, "text", "a text term (repeatable; positional arguments are texts too)")
	fs.Var(&images, "image", "an example image file (repeatable)")
	fs.Var(&nots, "not", "a text to steer away from (repeatable)")
	fs.Var(&notImages, "not-image", "an image to steer away from (repeatable)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	q, err := sf.query()
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		texts = append(stringList{strings.Join(pos, " ")}, texts...)
	}
	for _, t := range texts {
		v, w := weighted(t)
		q.Terms = append(q.Terms, library.Term{Text: v, Weight: w})
	}
	for _, p := range images {
		v, w := weighted(p)
		if _, err := os.Stat(v); err != nil {
			return fmt.Errorf("--image %s: %w", v, err)
		}
		q.Terms = append(q.Terms, library.Term{Path: v, Weight: w})
	}
	for _, t := range nots {
		v, w := weighted(t)
		q.Terms = append(q.Terms, library.Term{Text: v, Weight: -w})
	}
	for _, p := range notImages {
		v, w := weighted(p)
		q.Terms = append(q.Terms, library.Term{Path: v, Weight: -w})
	}
	if len(q.Terms) == 0 {
		return usageError{"give a text, --text, or --image to search for"}
	}
	lib, err := lf.openSearch(ctx, e)
	if err != nil {
		return err
	}
	defer lib.Close()
	hits, err := lib.Search(ctx, q)
	if err != nil {
		return err
	}
	return printHits(e.stdout, sf.format, hits)
}

func runSimilar(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "similar", "[flags] PATH|ID")
	var lf libFlags
	lf.register(fs)
	var sf searchFlags
	sf.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give one image: a path in the library or an id"}
	}
	q, err := sf.query()
	if err != nil {
		return err
	}
	lib, err := lf.openSearch(ctx, e)
	if err != nil {
		return err
	}
	defer lib.Close()
	hits, err := lib.Similar(ctx, pos[0], q)
	if err != nil {
		return err
	}
	return printHits(e.stdout, sf.format, hits)
}

func runDupes(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "dupes", "[--threshold 0.95] [--format table|json]")
	var lf libFlags
	lf.register(fs)
	threshold := fs.Float64("threshold", 0.95, "cosine similarity at or above which two images count as near-duplicates")
	format := fs.String("format", "table", "output: table or json (one group per line)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if err := checkFormat(*format, "table", "json"); err != nil {
		return err
	}
	lib, err := lf.openSearch(ctx, e)
	if err != nil {
		return err
	}
	defer lib.Close()
	groups, err := lib.Dupes(ctx, float32(*threshold), 10)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(e.stdout)
	defer bw.Flush()
	if *format == "json" {
		je := json.NewEncoder(bw)
		for _, g := range groups {
			je.Encode(g)
		}
		return nil
	}
	if len(groups) == 0 {
		fmt.Fprintln(bw, "no near-duplicates")
	}
	for i, g := range groups {
		fmt.Fprintf(bw, "group %d (%d images)\n", i+1, len(g.Images))
		for _, h := range g.Images {
			fmt.Fprintf(bw, "  %.4f  %d  %s\n", h.Score, h.ID, h.Path)
		}
	}
	return nil
}

func runClassify(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "classify", "--labels \"cat,dog,car\" [flags] IMAGE...")
	var mf modelFlags
	mf.register(fs, clip.DefaultModel)
	labels := fs.String("labels", "", "comma-separated labels; each becomes the prompt \"a photo of a {label}\"")
	format := fs.String("format", "table", "output: table or json (one object per image)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	var ls []string
	for _, l := range strings.Split(*labels, ",") {
		if l = strings.TrimSpace(l); l != "" {
			ls = append(ls, l)
		}
	}
	if len(ls) == 0 || len(pos) == 0 {
		return usageError{"give --labels and at least one image"}
	}
	if err := checkFormat(*format, "table", "json"); err != nil {
		return err
	}
	enc, err := mf.open(ctx, e)
	if err != nil {
		return err
	}
	failed := 0
	bw := bufio.NewWriter(e.stdout)
	defer bw.Flush()
	for _, p := range pos {
		data, err := os.ReadFile(p)
		var res []library.Label
		if err == nil {
			res, err = library.Classify(ctx, enc, ls, data)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failed++
			bw.Flush()
			fmt.Fprintf(e.stderr, "sight classify: %s: %v\n", p, trimPrefix(err, p))
			continue
		}
		if *format == "json" {
			json.NewEncoder(bw).Encode(map[string]any{"path": p, "labels": res})
			continue
		}
		sort.SliceStable(res, func(i, j int) bool { return res[i].Probability > res[j].Probability })
		fmt.Fprintf(bw, "%s\n", p)
		for _, r := range res {
			fmt.Fprintf(bw, "  %6.2f%%  %s\n", 100*r.Probability, r.Label)
		}
	}
	if failed > 0 {
		return exitError{1}
	}
	return nil
}

func runStats(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "stats", "[--format table|json]")
	var lf libFlags
	lf.register(fs)
	format := fs.String("format", "table", "output: table or json")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if err := checkFormat(*format, "table", "json"); err != nil {
		return err
	}
	lib, err := lf.openSearch(ctx, e)
	if err != nil {
		return err
	}
	defer lib.Close()
	s, err := lib.Stats(ctx)
	if err != nil {
		return err
	}
	if *format == "json" {
		return json.NewEncoder(e.stdout).Encode(s)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	if s.Store != "" {
		fmt.Fprintf(tw, "store\t%s\n", s.Store)
	} else {
		fmt.Fprintf(tw, "library\t%s\n", s.Dir)
	}
	fmt.Fprintf(tw, "model\t%s (%d dimensions)\n", s.Model, s.Dim)
	fmt.Fprintf(tw, "images\t%d (%s)\n", s.Images, humanBytes(s.Bytes))
	fmt.Fprintf(tw, "vectors\t%d (%d in the search index)\n", s.Vectors, s.Indexed)
	fmt.Fprintf(tw, "paths\t%d\n", s.Paths)
	fmt.Fprintf(tw, "skipped files\t%d\n", s.Skipped)
	return tw.Flush()
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func runRm(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "rm", "PATH|ID...")
	var lf libFlags
	lf.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError{"give paths or ids to remove"}
	}
	lib, err := lf.openWaiting(ctx, e)
	if err != nil {
		return err
	}
	defer lib.Close()
	for _, ref := range pos {
		gone, err := lib.Remove(ctx, ref)
		if err != nil {
			return fmt.Errorf("%s: %w", ref, err)
		}
		fmt.Fprintf(e.stdout, "removed %s (%d images deleted)\n", ref, len(gone))
	}
	return nil
}

func runReindex(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "reindex", "[--model M]: re-embed every image of the library (e.g. with a new model)")
	var lf libFlags
	lf.register(fs)
	batch := fs.Int("batch", 8, "images per model batch")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if lf.store.remote() {
		return usageError{"reindex works on library directories (--db); to re-embed a --store library, index its files again into a new --collection"}
	}
	dir, opts, err := lf.options(e)
	if err != nil {
		return err
	}
	var sum library.Summary
	err = waitUnlocked(ctx, e, dir, func() (err error) {
		sum, err = library.Reindex(ctx, dir, opts, library.IndexOptions{BatchSize: *batch})
		return err
	})
	printSummary(e.stdout, sum, false)
	return err
}
