package weaviatetest

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStartKillRestart starts a 3-node cluster, kills a node, sees it
// unreachable, restarts it and sees the whole cluster ready again.
func TestStartKillRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := Start(t, 3)
	u := c.URL()
	if !strings.HasPrefix(u, "weaviate://127.0.0.1:") || strings.Count(u, ",") != 2 {
		t.Fatalf("URL() = %q", u)
	}
	readyURL := "http://" + strings.TrimPrefix(c.NodeURL(1), "weaviate://") + "/v1/.well-known/ready"
	if err := c.Kill(1); err != nil {
		t.Fatal(err)
	}
	cl := &http.Client{Timeout: time.Second}
	if resp, err := cl.Get(readyURL); err == nil {
		resp.Body.Close()
		t.Fatalf("killed node still answers %s", resp.Status)
	}
	if err := c.Restart(1); err != nil {
		t.Fatal(err)
	}
	resp, err := cl.Get(readyURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("restarted node: %s", resp.Status)
	}
}

func TestBinary(t *testing.T) {
	t.Setenv("SIGHT_WEAVIATE_BIN", "/opt/custom/weaviate-server")
	if got := Binary(); got != "/opt/custom/weaviate-server" {
		t.Fatalf("Binary() = %q, want $SIGHT_WEAVIATE_BIN", got)
	}
	dir := t.TempDir()
	t.Setenv("SIGHT_WEAVIATE_BIN", "")
	t.Setenv("PATH", dir)
	if err := os.WriteFile(filepath.Join(dir, "weaviate-server"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := Binary(); got != filepath.Join(dir, "weaviate-server") {
		t.Fatalf("Binary() = %q, want the one on PATH", got)
	}
}

// TestLaunchRetries: a node that exits while the cluster starts (as when
// another process took one of its ports) makes Launch start the cluster
// again instead of waiting for it until the timeout. The binary here is a
// wrapper that exits at once the first time and runs weaviate-server the
// second time.
func TestLaunchRetries(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	bin := Binary()
	if bin == "" {
		if os.Getenv("SIGHT_REQUIRE_CLUSTER") == "1" {
			t.Fatal("no weaviate-server binary; SIGHT_REQUIRE_CLUSTER=1 forbids skipping")
		}
		t.Skip("no weaviate-server binary")
	}
	dir := t.TempDir()
	marker := filepath.Join(dir, "failed-once")
	wrapper := filepath.Join(dir, "flaky-weaviate")
	script := "#!/bin/sh\nif [ ! -e " + marker + " ]; then touch " + marker + "; echo 'bind: address already in use'; exit 1; fi\nexec " + bin + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c, err := Launch(wrapper, filepath.Join(dir, "cluster"), 1)
	if c != nil {
		defer c.Close()
	}
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatal("the first start did not run")
	}
	if d := time.Since(start); d > startTimeout/2 {
		t.Fatalf("Launch took %v: it waited for the exited node", d)
	}
}
