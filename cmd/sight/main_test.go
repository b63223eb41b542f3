package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sightsearch/sight/library"
	"github.com/sightsearch/sight/safetensors"
)

var (
	fixtures  = filepath.Join("..", "..", "testdata", "clip")
	tinyModel = filepath.Join(fixtures, "tiny-b32")
)

// sight runs the CLI in-process and returns its exit code and output.
func sight(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", sc.Text(), err)
		}
		rows = append(rows, m)
	}
	return rows
}

func TestEmbedMatchesReference(t *testing.T) {
	exp, err := safetensors.Open(filepath.Join(fixtures, "expected.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Close()
	textEmbeds, _ := exp.Float32("text_embeds") // row 0 is "a photo of a cat"
	chelsea, _ := exp.Float32("image_embeds.chelsea.png")
	dim := len(chelsea)

	code, out, stderr := sight(t, "", "embed", "--model", tinyModel,
		"--image", filepath.Join(fixtures, "images", "chelsea.png"),
		"--text", "a photo of a cat",
		"--image", filepath.Join(fixtures, "images", "NOTICE.md"), // not an image
		"--image", "/nonexistent.png")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (bad inputs); stderr: %s", code, stderr)
	}
	if !strings.Contains(stderr, "NOTICE.md") || !strings.Contains(stderr, "/nonexistent.png") {
		t.Fatalf("errors do not name the inputs: %s", stderr)
	}
	rows := jsonLines(t, out)
	if len(rows) != 2 || rows[0]["kind"] != "image" || rows[1]["kind"] != "text" || rows[1]["input"] != "a photo of a cat" {
		t.Fatalf("rows: %v", rows)
	}
	check := func(row map[string]any, want []float32) {
		emb := row["embedding"].([]any)
		if len(emb) != dim {
			t.Fatalf("dimension %d, want %d", len(emb), dim)
		}
		for i, v := range emb {
			if d := math.Abs(v.(float64) - float64(want[i])); d > 1e-4 {
				t.Fatalf("%s: embedding[%d] off by %g", row["input"], i, d)
			}
		}
	}
	check(rows[0], chelsea)
	check(rows[1], textEmbeds[:dim])

	// --normalize gives unit vectors.
	code, out, _ = sight(t, "", "embed", "--model", tinyModel, "--text", "a dog", "--normalize")
	if code != 0 {
		t.Fatal(code)
	}
	var n float64
	for _, v := range jsonLines(t, out)[0]["embedding"].([]any) {
		n += v.(float64) * v.(float64)
	}
	if math.Abs(n-1) > 1e-5 {
		t.Fatalf("norm² %g", n)
	}
}

// TestPrecisionFlag: --precision bf16 and int8 change the arithmetic (the
// embeddings differ from fp32's) but keep them close (the tiny model's
// worst cosines are ~0.99987 for bf16, ~0.9987 for int8 images), for a
// library too; an unknown precision is a usage error.
func TestPrecisionFlag(t *testing.T) {
	embed := func(prec string) [][]float64 {
		t.Helper()
		code, out, stderr := sight(t, "", "embed", "--model", tinyModel, "--precision", prec,
			"--image", filepath.Join(fixtures, "images", "chelsea.png"), "--text", "a photo of a cat")
		if code != 0 {
			t.Fatalf("embed --precision %s: exit %d, %s", prec, code, stderr)
		}
		var vs [][]float64
		for _, row := range jsonLines(t, out) {
			var v []float64
			for _, x := range row["embedding"].([]any) {
				v = append(v, x.(float64))
			}
			vs = append(vs, v)
		}
		return vs
	}
	cosine := func(a, b []float64) float64 {
		var ab, aa, bb float64
		for i := range a {
			ab += a[i] * b[i]
			aa += a[i] * a[i]
			bb += b[i] * b[i]
		}
		return ab / math.Sqrt(aa*bb)
	}
	ref := embed("fp32")
	for _, tc := range []struct {
		prec string
		min  float64
	}{{"bf16", 0.9995}, {"int8", 0.998}} {
		got := embed(tc.prec)
		for i := range ref {
			c := cosine(ref[i], got[i])
			if c < tc.min || c == 1 {
				t.Errorf("%s row %d: cosine %.6f to fp32, want in [%g, 1)", tc.prec, i, c, tc.min)
			}
		}
	}

	db := t.TempDir()
	photo := filepath.Join(fixtures, "images", "rocket.jpg")
	if code, _, stderr := sight(t, "", "index", "--db", db, "--model", tinyModel, "--precision", "int8", photo, filepath.Join(fixtures, "images", "chelsea.png")); code != 0 {
		t.Fatalf("index --precision int8: %s", stderr)
	}
	code, out, stderr := sight(t, "", "search", "--db", db, "--image", photo, "--format", "paths", "--limit", "1")
	if abs, _ := filepath.Abs(photo); code != 0 || strings.TrimSpace(out) != abs {
		t.Fatalf("search by example (fp32) in an int8-indexed library: exit %d, %q %s", code, out, stderr)
	}
	if code, _, stderr := sight(t, "", "search", "--db", db, "--precision", "fp16", "a cat"); code != 2 || !strings.Contains(stderr, "--precision") {
		t.Fatalf("--precision fp16: exit %d, %s", code, stderr)
	}
}

func TestTokenize(t *testing.T) {
	code, out, stderr := sight(t, "", "tokenize", "--model", tinyModel, "a photo of a cat")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, `"ids":[49406,320,1125,539,320,2368,49407]`) {
		t.Fatalf("tokenize: %s", out)
	}
}

func TestLibraryCommands(t *testing.T) {
	db := t.TempDir()
	photos := t.TempDir()
	for _, name := range []string{"chelsea.png", "astronaut.jpg", "rocket.jpg", "camera_gray.png"} {
		b, _ := os.ReadFile(filepath.Join(fixtures, "images", name))
		os.WriteFile(filepath.Join(photos, name), b, 0o644)
	}
	b, _ := os.ReadFile(filepath.Join(fixtures, "images", "chelsea.png"))
	os.WriteFile(filepath.Join(photos, "chelsea copy.png"), b, 0o644)
	os.WriteFile(filepath.Join(photos, "readme.txt"), []byte("hello"), 0o644)

	code, out, stderr := sight(t, "", "index", "--db", db, "--model", tinyModel, "--stats", photos)
	if code != 0 {
		t.Fatalf("index: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "6 files: 4 added, 0 unchanged, 1 duplicates, 1 skipped (1 not an image)") || !strings.Contains(out, "throughput: pipeline") {
		t.Fatalf("index summary: %s", out)
	}
	// The library remembers its model: no --model from here on.
	code, out, stderr = sight(t, "", "search", "--db", db, "a photo of a cat", "--limit", "2", "--format", "json")
	rows := jsonLines(t, out)
	if code != 0 || len(rows) != 2 || rows[0]["path"] == "" || rows[0]["id"] == nil || rows[0]["score"] == nil {
		t.Fatalf("search: %d %s %s", code, out, stderr)
	}
	code, out, _ = sight(t, "", "search", "--db", db, "--image", filepath.Join(photos, "rocket.jpg"), "--format", "paths", "--limit", "1")
	if code != 0 || strings.TrimSpace(out) != filepath.Join(photos, "rocket.jpg") {
		t.Fatalf("search by example: %q", out)
	}
	code, out, _ = sight(t, "", "search", "--db", db, "--text", "red:2", "--image", filepath.Join(photos, "rocket.jpg"), "--not", "blurry", "--type", "png", "--format", "paths")
	if code != 0 || strings.Contains(out, ".jpg") || !strings.Contains(out, ".png") {
		t.Fatalf("combined filtered search: %q", out)
	}
	code, out, _ = sight(t, "", "similar", "--db", db, filepath.Join(photos, "chelsea.png"), "--format", "paths")
	if code != 0 || strings.Contains(out, "chelsea") || len(strings.Fields(out)) != 3 {
		t.Fatalf("similar: %q", out)
	}
	// Every decode mode finds a photo by itself (the fixtures are too
	// small to be reduced, so all three decode them alike).
	for _, mode := range []string{"fast", "fine", "exact"} {
		code, out, stderr = sight(t, "", "search", "--db", db, "--decode", mode, "--image", filepath.Join(photos, "rocket.jpg"), "--limit", "1", "--format", "paths")
		if code != 0 || filepath.Base(strings.TrimSpace(out)) != "rocket.jpg" {
			t.Fatalf("search --decode %s: %d %q %s", mode, code, out, stderr)
		}
	}
	code, out, _ = sight(t, "", "stats", "--db", db, "--format", "json")
	var st map[string]any
	json.Unmarshal([]byte(out), &st)
	if code != 0 || st["images"].(float64) != 4 || st["vectors"].(float64) != 4 || st["paths"].(float64) != 5 || st["model"] == "" {
		t.Fatalf("stats: %s", out)
	}
	code, out, _ = sight(t, "", "dupes", "--db", db, "--threshold", "0.999")
	if code != 0 || !strings.Contains(out, "no near-duplicates") {
		t.Fatalf("dupes: %s", out)
	}
	code, out, stderr = sight(t, "", "classify", "--model", tinyModel, "--labels", "cat, dog ,car", "--format", "json", filepath.Join(photos, "chelsea.png"))
	var cl struct {
		Labels []struct {
			Label       string
			Probability float64
		}
	}
	json.Unmarshal([]byte(out), &cl)
	var sum float64
	for _, l := range cl.Labels {
		sum += l.Probability
	}
	if code != 0 || len(cl.Labels) != 3 || cl.Labels[1].Label != "dog" || math.Abs(sum-1) > 1e-9 {
		t.Fatalf("classify: %s %s", out, stderr)
	}
	// Paths on stdin; a second run finds everything unchanged.
	code, out, _ = sight(t, filepath.Join(photos, "rocket.jpg")+"\n", "index", "--db", db, "-")
	if code != 0 || !strings.Contains(out, "1 files: 0 added, 1 unchanged") {
		t.Fatalf("index from stdin: %s", out)
	}
	// rm, then prune after deleting a file.
	if code, out, _ = sight(t, "", "rm", "--db", db, filepath.Join(photos, "chelsea copy.png")); code != 0 {
		t.Fatalf("rm: %s", out)
	}
	os.Remove(filepath.Join(photos, "camera_gray.png"))
	code, out, _ = sight(t, "", "index", "--db", db, "--prune", photos)
	if code != 0 || !strings.Contains(out, "1 pruned") {
		t.Fatalf("prune: %s", out)
	}
	code, out, _ = sight(t, "", "stats", "--db", db, "--format", "json")
	json.Unmarshal([]byte(out), &st)
	if st["images"].(float64) != 3 || st["paths"].(float64) != 4 { // the removed copy is still on disk: indexed again
		t.Fatalf("stats after rm and prune: %s", out)
	}
	// Another model is refused with a pointer to reindex.
	other := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors", "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json", "preprocessor_config.json"} {
		b, _ := os.ReadFile(filepath.Join(tinyModel, f))
		os.WriteFile(filepath.Join(other, f), b, 0o644)
	}
	code, _, stderr = sight(t, "", "index", "--db", db, "--model", other, photos)
	if code != 1 || !strings.Contains(stderr, "sight reindex") {
		t.Fatalf("model change: %d %s", code, stderr)
	}
	code, out, stderr = sight(t, "", "reindex", "--db", db, "--model", other)
	if code != 0 || !strings.Contains(out, "3 added") {
		t.Fatalf("reindex: %d %s %s", code, out, stderr)
	}
	code, out, _ = sight(t, "", "stats", "--db", db, "--format", "json")
	json.Unmarshal([]byte(out), &st)
	if code != 0 || st["images"].(float64) != 3 || !strings.HasSuffix(st["model"].(string), filepath.Base(other)) {
		t.Fatalf("stats after reindex: %s", out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"nope"},
		{"embed", "--model", tinyModel},
		{"search", "--db", t.TempDir(), "--format", "xml", "x"},
		{"bench", "nothing"},
		{"index", "--db", t.TempDir(), "--decode", "quick", "."},
	} {
		if code, _, stderr := sight(t, "", args...); code != 2 || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
	if code, out, _ := sight(t, "", "help"); code != 0 || !strings.Contains(out, "search") {
		t.Errorf("help: %d %s", code, out)
	}
}

// TestIndexWaitsForLock: `sight index` and `sight reindex` wait while a
// search in another process (here a library opened for searching in this
// process, which takes the same file lock) holds the library briefly, then
// run; a library held by a writer fails at once.
func TestIndexWaitsForLock(t *testing.T) {
	db := t.TempDir()
	if code, _, stderr := sight(t, "", "index", "--db", db, "--model", tinyModel, filepath.Join(fixtures, "images", "rocket.jpg")); code != 0 {
		t.Fatalf("first index: %s", stderr)
	}
	for _, tc := range []struct {
		args []string
		out  string
	}{
		{[]string{"index", "--db", db, filepath.Join(fixtures, "images", "chelsea.png")}, "1 added"},
		{[]string{"reindex", "--db", db}, "2 files: 2 added"},
	} {
		held, err := library.OpenForSearch(context.Background(), db, library.Options{})
		if err != nil {
			t.Fatal(err)
		}
		released := make(chan struct{})
		go func() {
			time.Sleep(400 * time.Millisecond)
			close(released) // before Close: the command cannot return earlier
			held.Close()
		}()
		code, out, stderr := sight(t, "", tc.args...)
		select {
		case <-released:
		default:
			t.Fatalf("%s returned while the library was still held", tc.args[0])
		}
		if code != 0 || !strings.Contains(stderr, "waiting for another sight process") || !strings.Contains(out, tc.out) {
			t.Fatalf("%s: exit %d, out %q, stderr %q", tc.args[0], code, out, stderr)
		}
	}

	// A steady stream of searches, each holding the lock for a moment with
	// hardly a gap in between, does not keep a writer out: once it waits,
	// new searches leave the lock alone.
	stop := make(chan struct{})
	searching := make(chan struct{})
	go func() {
		defer close(searching)
		for {
			select {
			case <-stop:
				return
			default:
			}
			l, err := library.OpenForSearch(context.Background(), db, library.Options{})
			if err != nil {
				t.Error(err)
				return
			}
			time.Sleep(30 * time.Millisecond)
			l.Close()
		}
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	code, out, stderr := sight(t, "", "index", "--db", db, filepath.Join(fixtures, "images", "astronaut.jpg"))
	close(stop)
	<-searching
	if code != 0 || !strings.Contains(out, "1 added") || time.Since(start) > 5*time.Second {
		t.Fatalf("index during a stream of searches: exit %d after %v, out %q, stderr %q", code, time.Since(start), out, stderr)
	}

	writer, err := library.Open(context.Background(), db, library.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	for _, args := range [][]string{{"index", "--db", db, filepath.Join(fixtures, "images", "coffee_rgba.png")}, {"reindex", "--db", db}} {
		start := time.Now()
		code, _, stderr := sight(t, "", args...)
		if code == 0 || strings.Contains(stderr, "waiting") || !strings.Contains(stderr, "write)") || time.Since(start) > 5*time.Second {
			t.Fatalf("%s while a writer holds the library: exit %d after %v, stderr %q", args[0], code, time.Since(start), stderr)
		}
	}
}
