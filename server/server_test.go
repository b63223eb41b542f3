package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sightsearch/sight/library"
)

var tinyModel = filepath.Join("..", "testdata", "clip", "tiny-b32")

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "clip", "images", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newLibrary indexes a few fixture images into a fresh library.
func newLibrary(t testing.TB) (*library.Library, string) {
	t.Helper()
	lib, err := library.Open(context.Background(), t.TempDir(), library.Options{Model: tinyModel})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lib.Close() })
	return lib, indexFixtures(t, lib)
}

type client struct {
	t    testing.TB
	base string
	key  string
}

func (c client) do(method, path, ctype string, body []byte) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (c client) json(method, path string, v any) (int, []byte) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	return c.do(method, path, "application/json", b)
}

func multipartBody(t testing.TB, fields map[string]string, image []byte) (string, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if image != nil {
		fw, _ := mw.CreateFormFile("image", "photo.jpg")
		fw.Write(image)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

func decodeResults(t testing.TB, b []byte) SearchResponse {
	t.Helper()
	var r SearchResponse
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return r
}

func errorCode(t testing.TB, b []byte) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("not a JSON error: %s", b)
	}
	return e.Error.Code
}

func TestAPI(t *testing.T) {
	lib, src := newLibrary(t)
	testAPI(t, lib, src, filepath.Join(lib.Dir(), library.UploadsDir))
}

// indexFixtures indexes the test images into lib from a new folder, which
// it returns.
func indexFixtures(t testing.TB, lib *library.Library) string {
	t.Helper()
	src := t.TempDir()
	for _, name := range []string{"chelsea.png", "astronaut.jpg", "rocket.jpg", "camera_gray.png", "coffee_rgba.png"} {
		if err := os.WriteFile(filepath.Join(src, name), fixture(t, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := lib.Index(context.Background(), []string{src}, library.IndexOptions{}); err != nil {
		t.Fatal(err)
	}
	return src
}

// testAPI exercises every endpoint on lib, which holds the fixtures of
// indexFixtures in src and keeps uploads in uploads.
func testAPI(t *testing.T, lib *library.Library, src, uploads string) {
	ts := httptest.NewServer(New(lib, Options{APIKey: "sekret", MaxBodyBytes: 4 << 20}).Handler())
	defer ts.Close()
	c := client{t: t, base: ts.URL}

	// Text search.
	st, b := c.json("POST", "/v1/search", map[string]any{"text": "a photo of a cat", "limit": 3})
	if st != 200 {
		t.Fatalf("text search: %d %s", st, b)
	}
	r := decodeResults(t, b)
	if len(r.Results) != 3 || r.Results[0].Thumbnail != fmt.Sprintf("/v1/images/%d/thumbnail", r.Results[0].ID) || r.Results[0].Width == 0 {
		t.Fatalf("text search results: %s", b)
	}
	// Upload search (multipart): the same photo is found first.
	ct, body := multipartBody(t, map[string]string{"limit": "2"}, fixture(t, "rocket.jpg"))
	st, b = c.do("POST", "/v1/search", ct, body)
	r = decodeResults(t, b)
	if st != 200 || len(r.Results) != 2 || !strings.HasSuffix(r.Results[0].Path, "rocket.jpg") || r.Results[0].Score < 0.9999 {
		t.Fatalf("multipart search: %d %s", st, b)
	}
	rocketID := r.Results[0].ID
	// Base64 search with a text, and a weighted combination with a negative.
	st, b = c.json("POST", "/v1/search", map[string]any{"image": base64.StdEncoding.EncodeToString(fixture(t, "chelsea.png")), "limit": 1})
	if r = decodeResults(t, b); st != 200 || !strings.HasSuffix(r.Results[0].Path, "chelsea.png") {
		t.Fatalf("base64 search: %d %s", st, b)
	}
	st, b = c.json("POST", "/v1/search", map[string]any{"terms": []map[string]any{{"image_id": rocketID, "weight": 2}, {"text": "red"}}, "not": []string{"blurry"}})
	if r = decodeResults(t, b); st != 200 || r.Results[0].ID != rocketID {
		t.Fatalf("combined search: %d %s", st, b)
	}
	// Ids as strings, as the web page sends them (63-bit ids of a
	// Weaviate library do not fit a JavaScript number).
	sid := strconv.FormatInt(rocketID, 10)
	st, b = c.json("POST", "/v1/search", map[string]any{"image_id": sid, "exclude": []string{sid}, "limit": 2})
	if r = decodeResults(t, b); st != 200 || len(r.Results) != 2 || r.Results[0].ID == rocketID || r.Results[1].ID == rocketID {
		t.Fatalf("search by string id: %d %s", st, b)
	}
	st, b = c.json("POST", "/v1/search", map[string]any{"image_id": "12x"})
	if st != 400 {
		t.Fatalf("search by id \"12x\": %d %s, want 400", st, b)
	}
	// Filters.
	st, b = c.json("POST", "/v1/search", map[string]any{"text": "x", "filter": map[string]any{"types": []string{"png"}}})
	if r = decodeResults(t, b); st != 200 || len(r.Results) != 3 {
		t.Fatalf("filtered search: %d %s", st, b)
	}

	// Metadata, thumbnail, original.
	st, b = c.do("GET", fmt.Sprintf("/v1/images/%d", rocketID), "", nil)
	var info ImageInfo
	if json.Unmarshal(b, &info); st != 200 || info.ID != rocketID || info.Format != "jpeg" || len(info.Hash) != 64 {
		t.Fatalf("image: %d %s", st, b)
	}
	st, b = c.do("GET", fmt.Sprintf("/v1/images/%d/thumbnail", rocketID), "", nil)
	if st != 200 || !bytes.HasPrefix(b, []byte{0xff, 0xd8}) {
		t.Fatalf("thumbnail: %d", st)
	}
	st, b = c.do("GET", fmt.Sprintf("/v1/images/%d/file", rocketID), "", nil)
	if st != 200 || !bytes.Equal(b, fixture(t, "rocket.jpg")) {
		t.Fatalf("file: %d", st)
	}
	// A file edited in place to the same size is not served under the old
	// id (its modification time moved), nor is a replaced one.
	edited := fixture(t, "rocket.jpg")
	edited[len(edited)/2] ^= 0xff
	os.WriteFile(filepath.Join(src, "rocket.jpg"), edited, 0o644)
	if st, b = c.do("GET", fmt.Sprintf("/v1/images/%d/file", rocketID), "", nil); st != 404 || errorCode(t, b) != "file_gone" {
		t.Fatalf("file edited to the same size: %d (%d bytes), want 404 file_gone", st, len(b))
	}
	os.WriteFile(filepath.Join(src, "rocket.jpg"), []byte("changed"), 0o644)
	if st, b = c.do("GET", fmt.Sprintf("/v1/images/%d/file", rocketID), "", nil); st != 404 || errorCode(t, b) != "file_gone" {
		t.Fatalf("replaced file: %d %s", st, b)
	}
	// The same bytes back, with a new modification time (a file touched,
	// or restored from a backup): served again, as the content is the
	// image's.
	rocket := filepath.Join(src, "rocket.jpg")
	os.WriteFile(rocket, fixture(t, "rocket.jpg"), 0o644)
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(rocket, later, later); err != nil {
		t.Fatal(err)
	}
	if st, b = c.do("GET", fmt.Sprintf("/v1/images/%d/file", rocketID), "", nil); st != 200 || !bytes.Equal(b, fixture(t, "rocket.jpg")) {
		t.Fatalf("file touched, same bytes: %d (%d bytes), want 200 and the file", st, len(b))
	}

	// Uploads need the key; then the uploaded photo is found first.
	ct, body = multipartBody(t, nil, fixture(t, "tall_54x512.png"))
	if st, b = c.do("POST", "/v1/images", ct, body); st != 401 || errorCode(t, b) != "unauthorized" {
		t.Fatalf("upload without key: %d %s", st, b)
	}
	ck := client{t: t, base: ts.URL, key: "sekret"}
	st, b = ck.do("POST", "/v1/images", ct, body)
	var add AddResponse
	if json.Unmarshal(b, &add); st != 201 || !add.Added {
		t.Fatalf("upload: %d %s", st, b)
	}
	if st, b = ck.do("POST", "/v1/images", "image/png", fixture(t, "tall_54x512.png")); st != 200 {
		t.Fatalf("second upload of the same content: %d %s", st, b)
	}
	ct, body = multipartBody(t, nil, fixture(t, "tall_54x512.png"))
	st, b = c.do("POST", "/v1/search", ct, body)
	if r = decodeResults(t, b); st != 200 || r.Results[0].ID != add.ID {
		t.Fatalf("uploaded image not found first: %s", b)
	}
	if !strings.HasPrefix(r.Results[0].Path, uploads+string(filepath.Separator)) {
		t.Fatalf("upload stored outside the library: %s", r.Results[0].Path)
	}
	// Delete.
	if st, b = c.do("DELETE", fmt.Sprintf("/v1/images/%d", add.ID), "", nil); st != 401 {
		t.Fatalf("delete without key: %d %s", st, b)
	}
	if st, b = ck.do("DELETE", fmt.Sprintf("/v1/images/%d", add.ID), "", nil); st != 200 {
		t.Fatalf("delete: %d %s", st, b)
	}
	if st, _ = c.do("GET", fmt.Sprintf("/v1/images/%d", add.ID), "", nil); st != 404 {
		t.Fatalf("deleted image still there: %d", st)
	}

	// Stats, health, metrics.
	st, b = c.do("GET", "/v1/stats", "", nil)
	var stats map[string]any
	if json.Unmarshal(b, &stats); st != 200 || stats["images"].(float64) != 5 || stats["model"] == "" {
		t.Fatalf("stats: %d %s", st, b)
	}
	if st, _ = c.do("GET", "/healthz", "", nil); st != 200 {
		t.Fatalf("healthz: %d", st)
	}
	st, b = c.do("GET", "/metrics", "", nil)
	for _, want := range []string{`sight_http_requests_total{handler="search",code="200"}`, "sight_library_images 5", "sight_index_vectors 5", "sight_embed_images_total", `sight_http_request_duration_seconds_bucket{handler="search",le="+Inf"}`} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("metrics lack %q:\n%s", want, b)
		}
	}
	// The web page.
	st, b = c.do("GET", "/", "", nil)
	if st != 200 || !strings.Contains(string(b), "<title>Sight</title>") {
		t.Fatalf("web page: %d", st)
	}
}

func TestBadInputGets4xx(t *testing.T) {
	lib, _ := newLibrary(t)
	ts := httptest.NewServer(New(lib, Options{MaxBodyBytes: 1 << 20}).Handler())
	defer ts.Close()
	c := client{t: t, base: ts.URL}
	bomb := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01\x86\xa0\x00\x01\x86\xa0\x08\x02\x00\x00\x00\x00\x00\x00\x00")
	astro := fixture(t, "astronaut.jpg")
	tests := []struct {
		name, method, path, ctype string
		body                      []byte
		status                    int
		code                      string
	}{
		{"not json", "POST", "/v1/search", "application/json", []byte("{"), 400, "bad_json"},
		{"empty body", "POST", "/v1/search", "application/json", nil, 400, "bad_json"},
		{"unknown field", "POST", "/v1/search", "application/json", []byte(`{"txt":"a"}`), 400, "bad_json"},
		{"empty query", "POST", "/v1/search", "application/json", []byte(`{"limit":3}`), 400, "empty_query"},
		{"bad limit", "POST", "/v1/search", "application/json", []byte(`{"text":"a","limit":-1}`), 400, "bad_request"},
		{"bad base64", "POST", "/v1/search", "application/json", []byte(`{"image":"***"}`), 400, "bad_request"},
		{"garbage image", "POST", "/v1/search", "application/json", []byte(`{"image":"aGVsbG8gd29ybGQ="}`), 422, "bad_image"},
		{"truncated jpeg", "POST", "/v1/search", "application/json", []byte(`{"image":"` + base64.StdEncoding.EncodeToString(astro[:len(astro)/2]) + `"}`), 422, "bad_image"},
		{"pixel bomb", "POST", "/v1/search", "application/json", []byte(`{"image":"` + base64.StdEncoding.EncodeToString(bomb) + `"}`), 413, "too_many_pixels"},
		{"unknown image id", "POST", "/v1/search", "application/json", []byte(`{"image_id":424242}`), 404, "not_found"},
		{"cancelling terms", "POST", "/v1/search", "application/json", []byte(`{"terms":[{"text":"a"},{"text":"a","weight":-1}]}`), 400, "bad_request"},
		{"bad date", "POST", "/v1/search", "application/json", []byte(`{"text":"a","filter":{"after":"yesterday"}}`), 400, "bad_request"},
		{"bad type", "POST", "/v1/search", "application/json", []byte(`{"text":"a","filter":{"types":["exe"]}}`), 400, "bad_request"},
		{"body too large", "POST", "/v1/search", "application/json", append([]byte(`{"text":"`), bytes.Repeat([]byte("a"), 2<<20)...), 413, "too_large"},
		{"bad id", "GET", "/v1/images/abc", "", nil, 400, "bad_id"},
		{"traversal id", "GET", "/v1/images/..%2f..%2fetc%2fpasswd/file", "", nil, 400, "bad_id"},
		{"unknown id", "GET", "/v1/images/999999", "", nil, 404, "not_found"},
		{"unknown thumbnail", "GET", "/v1/images/999999/thumbnail", "", nil, 404, "not_found"},
		{"upload non-image", "POST", "/v1/images", "application/octet-stream", []byte("just text"), 415, "not_an_image"},
		{"upload bomb", "POST", "/v1/images", "image/png", bomb, 413, "too_many_pixels"},
		{"upload empty", "POST", "/v1/images", "image/png", nil, 400, "bad_request"},
		{"upload multipart without image", "POST", "/v1/images", "multipart/form-data; boundary=x", []byte("--x--\r\n"), 400, "bad_request"},
		{"no such page", "GET", "/nope", "", nil, 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, b := c.do(tt.method, tt.path, tt.ctype, tt.body)
			if st != tt.status {
				t.Fatalf("status %d, want %d: %s", st, tt.status, b)
			}
			if got := errorCode(t, b); got != tt.code {
				t.Fatalf("code %q, want %q", got, tt.code)
			}
		})
	}
	st, _ := lib.Stats(context.Background())
	if st.Images != 5 {
		t.Fatalf("bad input changed the library: %+v", st)
	}
}

func TestReadOnlyAndCORS(t *testing.T) {
	lib, _ := newLibrary(t)
	ts := httptest.NewServer(New(lib, Options{ReadOnly: true, CORSOrigins: []string{"https://shop.example"}}).Handler())
	defer ts.Close()
	c := client{t: t, base: ts.URL}
	if st, b := c.do("POST", "/v1/images", "image/png", fixture(t, "chelsea.png")); st != 403 || errorCode(t, b) != "read_only" {
		t.Fatalf("upload on read-only: %d %s", st, b)
	}
	if st, b := c.do("DELETE", "/v1/images/1", "", nil); st != 403 {
		t.Fatalf("delete on read-only: %d %s", st, b)
	}
	req, _ := http.NewRequest("OPTIONS", ts.URL+"/v1/search", nil)
	req.Header.Set("Origin", "https://shop.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
		t.Fatalf("CORS preflight: %v", resp.Header)
	}
	req.Header.Set("Origin", "https://evil.example")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS allowed an unlisted origin")
	}
}

// TestOpenAPIMatchesHandlers checks that /openapi.json documents exactly the
// routes the server handles, with their methods and operation ids, and that
// every $ref resolves.
func TestOpenAPIMatchesHandlers(t *testing.T) {
	lib, _ := newLibrary(t)
	s := New(lib, Options{})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	st, b := client{t: t, base: ts.URL}.do("GET", "/openapi.json", "", nil)
	if st != 200 {
		t.Fatal(st)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	var documented, served []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if method == "parameters" {
				continue
			}
			var o struct {
				OperationID string                     `json:"operationId"`
				Responses   map[string]json.RawMessage `json:"responses"`
			}
			json.Unmarshal(op, &o)
			if len(o.Responses) == 0 {
				t.Errorf("%s %s documents no responses", method, path)
			}
			documented = append(documented, strings.ToUpper(method)+" "+path+" "+o.OperationID)
		}
	}
	for _, r := range s.routes() {
		served = append(served, r.method+" "+r.pattern+" "+r.name)
	}
	sort.Strings(documented)
	sort.Strings(served)
	if strings.Join(documented, "\n") != strings.Join(served, "\n") {
		t.Fatalf("OpenAPI document and handlers differ:\ndocumented:\n%s\nserved:\n%s", strings.Join(documented, "\n"), strings.Join(served, "\n"))
	}
	// Every documented route answers (not the web page's 404).
	for _, r := range s.routes() {
		path := strings.ReplaceAll(r.pattern, "{id}", "1")
		st, body := client{t: t, base: ts.URL}.do(r.method, path, "application/json", []byte(`{"text":"a"}`))
		if st == 404 && strings.Contains(string(body), "no such page") {
			t.Errorf("%s %s is documented but not served", r.method, r.pattern)
		}
	}
	// All $refs resolve.
	var raw map[string]any
	json.Unmarshal(b, &raw)
	for _, m := range regexp.MustCompile(`"\$ref":\s*"#/([^"]+)"`).FindAllStringSubmatch(string(b), -1) {
		var node any = raw
		for _, part := range strings.Split(m[1], "/") {
			obj, ok := node.(map[string]any)
			if !ok || obj[part] == nil {
				t.Fatalf("unresolved $ref #/%s", m[1])
			}
			node = obj[part]
		}
	}
}

func TestGracefulShutdown(t *testing.T) {
	lib, _ := newLibrary(t)
	s := New(lib, Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	c := client{t: t, base: "http://" + ln.Addr().String()}
	if st, _ := c.do("GET", "/healthz", "", nil); st != 200 {
		t.Fatal(st)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no shutdown")
	}
}
