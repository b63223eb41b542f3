package server

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed openapi.json
var openAPIDoc []byte

//go:embed web
var webFiles embed.FS

// webHandler serves the embedded web page: index.html at /, its assets, and
// 404 for anything else.
func webHandler() http.Handler {
	sub, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServer(http.FS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'")
		w.Header().Set("Referrer-Policy", "no-referrer")
		switch r.URL.Path {
		case "/", "/index.html", "/app.js", "/style.css", "/favicon.svg":
			files.ServeHTTP(w, r)
		default:
			writeError(w, errorf(http.StatusNotFound, "not_found", "no such page: %s", r.URL.Path))
		}
	})
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPIDoc)
	return err
}
