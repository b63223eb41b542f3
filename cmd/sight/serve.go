package main

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/sightsearch/sight/server"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve", "[--addr 127.0.0.1:8080] [--db DIR | --store weaviate://... --uploads DIR] [--read-only] [--api-key KEY]")
	var lf libFlags
	lf.register(fs)
	fs.StringVar(&lf.uploads, "uploads", "", "folder for images uploaded through the API (default: the library directory's uploads/; needed with --store, on storage every sight process sees)")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (loopback by default; use 0.0.0.0:8080 to serve the network)")
	readOnly := fs.Bool("read-only", false, "refuse uploads and deletions")
	apiKey := fs.String("api-key", os.Getenv("SIGHT_API_KEY"), "require this key for uploads and deletions (default $SIGHT_API_KEY)")
	cors := fs.String("cors", "", "comma-separated origins allowed to call the API from browsers (\"*\" for any); default none")
	maxBody := fs.Int64("max-body", 32<<20, "largest request body in bytes")
	timeout := fs.Duration("timeout", 60*time.Second, "per-request time limit")
	embeds := fs.Int("max-embeds", 0, "embeddings computed at once (default 2 × CPUs)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	var lib interface{ Close() error }
	l, err := lf.open(ctx, e)
	if err != nil {
		if !*readOnly {
			return err
		}
		// A read-only server can share the library with a writer.
		if l, err = lf.openSearch(ctx, e); err != nil {
			return err
		}
	}
	lib = l
	defer lib.Close()
	var origins []string
	for _, o := range strings.Split(*cors, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	s := server.New(l, server.Options{Addr: *addr, APIKey: *apiKey, ReadOnly: *readOnly, CORSOrigins: origins,
		MaxBodyBytes: *maxBody, RequestTimeout: *timeout, MaxConcurrentEmbeds: *embeds, Logger: e.log})
	return s.ListenAndServe(ctx)
}
