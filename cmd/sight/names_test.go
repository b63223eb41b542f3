package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnicodeNamesEndToEnd indexes files with unicode and non-UTF-8 names
// (the library chosen by $SIGHT_DB) and finds, prints and removes them.
func TestUnicodeNamesEndToEnd(t *testing.T) {
	db := t.TempDir()
	t.Setenv("SIGHT_DB", db)
	photos := t.TempDir()
	names := []string{"ünïcödé 猫.png", "bad\xff\xfename.jpg", "plain.png"}
	sources := []string{"chelsea.png", "rocket.jpg", "camera_gray.png"}
	for i, n := range names {
		b, err := os.ReadFile(filepath.Join(fixtures, "images", sources[i]))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(photos, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, out, stderr := sight(t, "", "index", "--model", tinyModel, photos); code != 0 || !strings.Contains(out, "3 added") {
		t.Fatalf("index: %d %s %s", code, out, stderr)
	}
	for i, n := range names {
		path := filepath.Join(photos, n)
		code, out, stderr := sight(t, "", "search", "--image", filepath.Join(fixtures, "images", sources[i]), "--limit", "1", "--format", "paths")
		if code != 0 || out != path+"\n" {
			t.Fatalf("search for %q: %d %q %s", n, code, out, stderr)
		}
		code, out, _ = sight(t, "", "search", "--image", path, "--limit", "1", "--format", "json")
		rows := jsonLines(t, out)
		if code != 0 || len(rows) != 1 || rows[0]["score"].(float64) < 0.999 {
			t.Fatalf("json search for %q: %d %s", n, code, out)
		}
		// JSON strings hold UTF-8 only: each byte of a non-UTF-8 name
		// becomes U+FFFD there (--format paths prints the exact bytes).
		if p := rows[0]["path"].(string); p != string([]rune(path)) {
			t.Fatalf("json path %q for %q", p, path)
		}
		code, out, _ = sight(t, "", "similar", path, "--format", "paths")
		if code != 0 || len(strings.Split(strings.TrimSpace(out), "\n")) != 2 || strings.Contains(out, path+"\n") {
			t.Fatalf("similar %q: %d %q", n, code, out)
		}
	}
	// --db overrides $SIGHT_DB; a folder without a library is reported as
	// such (not turned into a new library with a model download).
	empty := t.TempDir()
	if code, out, stderr := sight(t, "", "stats", "--db", empty, "--format", "json"); code != 1 || out != "" || !strings.Contains(stderr, "no library") {
		t.Fatalf("stats --db EMPTY: %d %q %s", code, out, stderr)
	}
	t.Setenv("SIGHT_DB", empty)
	if code, out, _ := sight(t, "", "stats", "--db", db, "--format", "json"); code != 0 || !strings.Contains(out, `"images":3`) {
		t.Fatalf("stats --db: %d %s", code, out)
	}
	t.Setenv("SIGHT_DB", db)
	if code, out, stderr := sight(t, "", "rm", filepath.Join(photos, names[1])); code != 0 {
		t.Fatalf("rm non-UTF-8 name: %d %s %s", code, out, stderr)
	}
	code, out, _ := sight(t, "", "stats", "--format", "json")
	var st map[string]any
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != 0 || st["images"].(float64) != 2 || st["paths"].(float64) != 2 || st["vectors"].(float64) != 2 {
		t.Fatalf("stats after rm: %d %s", code, out)
	}
}

// TestBadOutputFlags checks that unknown --format values and bad globs are
// usage errors (exit 2) in every command, not silently ignored.
func TestBadOutputFlags(t *testing.T) {
	db := t.TempDir()
	if code, _, stderr := sight(t, "", "index", "--db", db, "--model", tinyModel, filepath.Join(fixtures, "images", "chelsea.png")); code != 0 {
		t.Fatalf("index: %s", stderr)
	}
	img := filepath.Join(fixtures, "images", "rocket.jpg")
	tests := [][]string{
		{"stats", "--db", db, "--format", "xml"},
		{"dupes", "--db", db, "--format", "paths"},
		{"classify", "--model", tinyModel, "--labels", "a,b", "--format", "yaml", img},
		{"search", "--db", db, "--path", "[", "x"},
		{"search", "--db", db, "--type", "png,jpge", "x"},
		{"similar", "--db", db, "--format", "csv", "1"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, stderr := sight(t, "", args...)
			if code != 2 || !strings.Contains(stderr, "--") {
				t.Fatalf("%v: exit %d, stdout %q, stderr %q", args, code, out, stderr)
			}
		})
	}
}
