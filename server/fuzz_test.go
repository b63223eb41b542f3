package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzSearchRequest sends arbitrary bodies to POST /v1/search: the server
// must answer with JSON, and never with a 5xx for bad input.
func FuzzSearchRequest(f *testing.F) {
	lib, _ := newLibrary(f)
	h := New(lib, Options{MaxBodyBytes: 1 << 16}).Handler()
	for _, seed := range []string{
		`{"text":"a dog","limit":3}`,
		`{"terms":[{"text":"red","weight":2},{"image_id":1}],"not":["blurry"],"filter":{"types":["png"],"after":"2020-01-01"}}`,
		`{"image":"iVBORw0KGgo=","min_score":0.2}`,
		`{"image_id":-1}`, `{"limit":1e9}`, `[]`, `null`, `{"text":"` + "\xff\xfe" + `"}`,
		`{"filter":{"path":"[","min_width":-5},"text":"x"}`,
	} {
		f.Add([]byte(seed), "application/json")
	}
	f.Add([]byte("--x\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\ncat\r\n--x--\r\n"), "multipart/form-data; boundary=x")
	f.Fuzz(func(t *testing.T, body []byte, ctype string) {
		req := httptest.NewRequest("POST", "/v1/search", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q (%s): %s", rec.Code, body, ctype, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("not JSON: %s", rec.Body)
		}
		if rec.Code == http.StatusOK {
			var r SearchResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || r.Results == nil {
				t.Fatalf("bad 200 body: %s", rec.Body)
			}
		}
	})
}
