//go:build !386 && !arm && !mips && !mipsle

package weaviate

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/internal/weaviatetest"
)

// TestAuthTLS runs a node that requires an API key behind a TLS proxy, as
// Weaviate Cloud or a node behind a load balancer is reached: without the
// key, or with a wrong one, Open fails and says why; with it, writes,
// searches and meta work over weaviate+https://.
func TestAuthTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Weaviate node")
	}
	const key = "s3cret-key"
	c := weaviatetest.StartOptions(t, 1, weaviatetest.Options{APIKey: key})
	node, err := url.Parse(strings.Replace(c.NodeURL(0), "weaviate://", "http://", 1))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(node))
	proxy.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	proxy.StartTLS()
	defer proxy.Close()
	addr := "weaviate+https://" + proxy.Listener.Addr().String()
	ctx := context.Background()

	for _, k := range []string{"", "wrong"} {
		_, err := Open(ctx, addr, Options{Collection: "Auth", APIKey: k, HTTPClient: proxy.Client()})
		if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "401") {
			t.Errorf("Open with key %q: %v, want ErrUnauthorized (401)", k, err)
		}
	}
	// The proxy's certificate is not one the system trusts.
	if _, err := Open(ctx, addr, Options{Collection: "Auth", APIKey: key}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Open without the proxy's CA: %v, want a certificate error", err)
	}

	s, err := Open(ctx, addr, Options{Collection: "Auth", APIKey: key, HTTPClient: proxy.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.String(); !strings.HasPrefix(got, "weaviate+https://") {
		t.Errorf("String() = %q, want weaviate+https://…", got)
	}
	h := sha256.Sum256([]byte("auth"))
	res, err := s.Apply(ctx, catalog.Batch{Images: []catalog.Image{{Hash: h[:], Vector: []float32{0.6, 0.8}, Paths: []string{"/a.jpg"}, Format: "jpeg"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	found, err := s.Search(ctx, []float32{0.6, 0.8}, 1, catalog.Filter{}, nil)
	if err != nil || len(found) != 1 || found[0].ID != res.IDs[0] {
		t.Fatalf("Search = %v, %v; want image %d", found, err, res.IDs[0])
	}
	if err := s.SetMeta(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	// The same node over plain HTTP with the key sees the same store.
	plain, err := Open(ctx, c.NodeURL(0), Options{Collection: "Auth", APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, err := plain.Meta(ctx, "k"); err != nil || !ok || v != "v" {
		t.Fatalf("Meta over HTTP = %q %v %v", v, ok, err)
	}
}
