package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightsearch/sight/clip"
	"github.com/sightsearch/sight/imageio"
	"github.com/sightsearch/sight/library"
)

// synthPNG returns a distinct small PNG for seed.
func synthPNG(seed, w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{uint8(seed*37 + x*3), uint8(seed*11 + y*5), uint8(seed * 101), 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// TestErrorsAreJSON checks that requests no handler takes, and queries
// whose numbers are absurd, get a 4xx JSON error, never plain text or a 5xx.
func TestErrorsAreJSON(t *testing.T) {
	lib, _ := newLibrary(t)
	ts := httptest.NewServer(New(lib, Options{}).Handler())
	defer ts.Close()
	huge := strings.Repeat(`{"text":"a","weight":1e308},`, 20)
	many := strings.Repeat(`{"text":"a"},`, 20)
	nots := `"not":["b"` + strings.Repeat(`,"c"`, 12) + `]`
	tests := []struct {
		name, method, path, body string
		status                   int
		code, allow              string
	}{
		{"PUT search", "PUT", "/v1/search", "", 405, "method_not_allowed", "POST"},
		{"POST stats", "POST", "/v1/stats", "", 405, "method_not_allowed", "GET"},
		{"PATCH image", "PATCH", "/v1/images/1", "", 405, "method_not_allowed", "GET, DELETE"},
		{"OPTIONS without CORS", "OPTIONS", "/v1/search", "", 405, "method_not_allowed", "POST"},
		{"POST web page", "POST", "/index.html", "", 405, "method_not_allowed", "GET, HEAD"},
		{"huge weights", "POST", "/v1/search", `{"terms":[` + huge + `{"text":"b"}]}`, 200, "", ""},
		{"huge opposite weights", "POST", "/v1/search", `{"terms":[{"text":"a","weight":1e308},{"text":"b","weight":-1e308}]}`, 200, "", ""},
		{"too many terms", "POST", "/v1/search", `{"text":"x","terms":[` + many + `{"text":"b"}],` + nots + `}`, 400, "too_many_terms", ""},
		{"zero weights", "POST", "/v1/search", `{"terms":[{"text":"a","weight":0},{"text":"b","weight":0}]}`, 400, "bad_request", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, ts.URL+tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			if tt.status == 200 {
				if r := decodeResults(t, b); len(r.Results) == 0 {
					t.Fatalf("no results: %s", b)
				}
				return
			}
			if got := errorCode(t, b); got != tt.code {
				t.Fatalf("code %q, want %q", got, tt.code)
			}
			if got := resp.Header.Get("Allow"); tt.allow != "" && got != tt.allow {
				t.Fatalf("Allow %q, want %q", got, tt.allow)
			}
		})
	}
}

// TestUploadPixelLimit checks that the library's pixel limit refuses large
// uploads and large query images with 413 before anything is stored.
func TestUploadPixelLimit(t *testing.T) {
	lib, err := library.Open(context.Background(), t.TempDir(), library.Options{Model: tinyModel,
		EncoderOptions: clip.EncoderOptions{Limits: imageio.Limits{MaxPixels: 10000}}})
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	ts := httptest.NewServer(New(lib, Options{}).Handler())
	defer ts.Close()
	c := client{t: t, base: ts.URL}
	tall := fixture(t, "tall_54x512.png") // 27648 pixels
	small := synthPNG(1, 64, 64)          // 4096 pixels
	ct, body := multipartBody(t, map[string]string{"text": "x"}, tall)
	tests := []struct {
		name, method, path, ctype string
		body                      []byte
		status                    int
		code                      string
	}{
		{"upload over the limit", "POST", "/v1/images", "image/png", tall, 413, "too_many_pixels"},
		{"multipart upload over the limit", "POST", "/v1/images", ct, body, 413, "too_many_pixels"},
		{"search image over the limit", "POST", "/v1/search", ct, body, 413, "too_many_pixels"},
		{"upload within the limit", "POST", "/v1/images", "image/png", small, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, b := c.do(tt.method, tt.path, tt.ctype, tt.body)
			if st != tt.status {
				t.Fatalf("status %d, want %d: %s", st, tt.status, b)
			}
			if tt.code != "" && errorCode(t, b) != tt.code {
				t.Fatalf("code: %s", b)
			}
		})
	}
	if st, _ := lib.Stats(context.Background()); st.Images != 1 {
		t.Fatalf("library holds %d images, want only the small upload", st.Images)
	}
}

// TestSearchesDuringUploads runs text and image searches while images are
// uploaded concurrently (run with -race): every request succeeds and the
// index ends up matching the catalog.
func TestSearchesDuringUploads(t *testing.T) {
	lib, _ := newLibrary(t)
	ts := httptest.NewServer(New(lib, Options{MaxConcurrentEmbeds: 3}).Handler())
	defer ts.Close()
	c := client{t: t, base: ts.URL}
	const uploaders, perUploader = 3, 4
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for u := 0; u < uploaders; u++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perUploader; i++ {
				data := synthPNG(100+u*perUploader+i, 48, 40)
				if i == 0 {
					data = synthPNG(99, 48, 40) // every uploader also sends one shared image
				}
				if st, b := c.do("POST", "/v1/images", "image/png", data); st != 201 && st != 200 {
					errs <- fmt.Sprintf("upload: %d %s", st, b)
				}
			}
		}()
	}
	stop := make(chan struct{})
	var sw sync.WaitGroup
	searches := 0
	var mu sync.Mutex
	for s := 0; s < 3; s++ {
		sw.Add(1)
		go func() {
			defer sw.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				body := map[string]any{"text": "a photo", "limit": 50}
				if s == 1 {
					body = map[string]any{"image": fixture(t, "chelsea.png"), "limit": 5}
				}
				st, b := c.json("POST", "/v1/search", body)
				if st != 200 {
					errs <- fmt.Sprintf("search: %d %s", st, b)
					return
				}
				var r SearchResponse
				if err := json.Unmarshal(b, &r); err != nil || len(r.Results) == 0 {
					errs <- fmt.Sprintf("search results: %s", b)
					return
				}
				mu.Lock()
				searches++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(stop)
	sw.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	st, err := lib.Stats(context.Background())
	want := int64(5 + 1 + uploaders*(perUploader-1))
	if err != nil || st.Images != want || st.Indexed != int(want) {
		t.Fatalf("after uploads: %+v %v, want %d images all indexed", st, err, want)
	}
	t.Logf("%d searches ran during %d uploads", searches, uploaders*perUploader)
}

// TestShutdownWithUploadInFlight cancels the server while an upload's body
// is still arriving: the upload completes, is answered, and is stored.
func TestShutdownWithUploadInFlight(t *testing.T) {
	lib, _ := newLibrary(t)
	s := New(lib, Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	data := synthPNG(7, 50, 50)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/v1/images", pr)
	req.Header.Set("Content-Type", "image/png")
	req.ContentLength = int64(len(data))
	type answer struct {
		status int
		body   []byte
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered <- answer{status: resp.StatusCode, body: b}
	}()
	if _, err := pw.Write(data[:len(data)/2]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the handler is reading the body
	cancel()
	time.Sleep(200 * time.Millisecond) // shutdown has begun
	select {
	case err := <-served:
		t.Fatalf("server returned with an upload in flight: %v", err)
	default:
	}
	pw.Write(data[len(data)/2:])
	pw.Close()
	a := <-answered
	if a.err != nil || a.status != 201 {
		t.Fatalf("upload during shutdown: %d %s %v", a.status, a.body, a.err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no shutdown")
	}
	var add AddResponse
	if err := json.Unmarshal(a.body, &add); err != nil {
		t.Fatal(err)
	}
	hits, err := lib.Search(context.Background(), library.Query{Terms: []library.Term{{Image: data, Weight: 1}}, Limit: 1})
	if err != nil || len(hits) != 1 || hits[0].ID != add.ID {
		t.Fatalf("upload not stored: %+v %v", hits, err)
	}
	if st, _ := lib.Stats(context.Background()); st.Images != 6 || st.Indexed != 6 {
		t.Fatalf("stats after shutdown: %+v", st)
	}
}

// TestOpenAPIListsEveryErrorCode checks that the error codes the handlers
// can return are exactly those the OpenAPI document enumerates.
func TestOpenAPIListsEveryErrorCode(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Properties map[string]struct {
						Enum []string `json:"enum"`
					} `json:"properties"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, s := range doc.Components.Schemas {
		for _, c := range s.Properties["error"].Properties["code"].Enum {
			documented[c] = true
		}
	}
	if len(documented) == 0 {
		t.Fatal("the OpenAPI document enumerates no error codes")
	}
	used := map[string]bool{}
	re := regexp.MustCompile(`errorf\([^,]+,\s*"([a-z_]+)"`)
	for _, name := range []string{"server.go", "handlers.go", "web.go"} {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllSubmatch(src, -1) {
			used[string(m[1])] = true
		}
	}
	for c := range used {
		if !documented[c] {
			t.Errorf("code %q is returned but not documented", c)
		}
	}
	for c := range documented {
		if !used[c] {
			t.Errorf("code %q is documented but never returned", c)
		}
	}
}
