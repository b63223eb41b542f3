package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// webDriver is a minimal W3C WebDriver client for chromedriver.
type webDriver struct {
	t       *testing.T
	base    string
	session string
}

func (d *webDriver) call(method, path string, body any) json.RawMessage {
	d.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	url := d.base + path
	if d.session != "" && !strings.HasPrefix(path, "/session/") && path != "/session" {
		url = d.base + "/session/" + d.session + path
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatalf("webdriver %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out struct {
		Value json.RawMessage `json:"value"`
	}
	raw, _ := io.ReadAll(resp.Body)
	json.Unmarshal(raw, &out)
	if resp.StatusCode != 200 {
		d.t.Fatalf("webdriver %s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return out.Value
}

func (d *webDriver) find(css string) string {
	d.t.Helper()
	v := d.call("POST", "/element", map[string]string{"using": "css selector", "value": css})
	var el map[string]string
	json.Unmarshal(v, &el)
	for _, id := range el {
		return id
	}
	d.t.Fatalf("no element %s", css)
	return ""
}

func (d *webDriver) exec(script string, args ...any) json.RawMessage {
	d.t.Helper()
	if args == nil {
		args = []any{}
	}
	return d.call("POST", "/execute/sync", map[string]any{"script": script, "args": args})
}

// waitFor polls a JavaScript expression until it is truthy.
func (d *webDriver) waitFor(what, expr string) {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var ok bool
		json.Unmarshal(d.exec("return !!("+expr+")"), &ok)
		if ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.t.Fatalf("timed out waiting for %s (%s)", what, expr)
}

func (d *webDriver) text(expr string) string {
	var s string
	json.Unmarshal(d.exec("return String("+expr+")"), &s)
	return s
}

func (d *webDriver) screenshot(dir, name string) {
	d.t.Helper()
	var b64 string
	json.Unmarshal(d.call("GET", "/screenshot", nil), &b64)
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		d.t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		d.t.Fatal(err)
	}
	d.t.Logf("screenshot %s", path)
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestBrowser drives the web page in headless Chromium: type a query and see
// results, search by an uploaded photo and see it found first, open the
// details and ask for more like it, and look at it on a phone's width.
// Screenshots of every step go to $SIGHT_ARTIFACTS (default
// ../artifacts/browser).
func TestBrowser(t *testing.T) {
	driver, err := exec.LookPath("chromedriver")
	if err != nil {
		if os.Getenv("SIGHT_REQUIRE_BROWSER") != "" {
			t.Fatal("chromedriver not found but SIGHT_REQUIRE_BROWSER is set")
		}
		t.Skip("chromedriver not installed (apt-get install chromium chromium-driver)")
	}
	browser := "/usr/bin/chromium"
	if _, err := os.Stat(browser); err != nil {
		t.Skip("no /usr/bin/chromium")
	}
	artifacts := os.Getenv("SIGHT_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join("..", "artifacts", "browser")
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	lib, src := newLibrary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go New(lib, Options{}).Serve(ctx, ln)
	site := "http://" + ln.Addr().String() + "/"

	port := freePort(t)
	cmd := exec.Command(driver, fmt.Sprintf("--port=%d", port), "--allowed-ips=127.0.0.1")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	d := &webDriver{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	for i := 0; ; i++ {
		resp, err := http.Get(d.base + "/status")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i > 100 {
			t.Fatalf("chromedriver did not start: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{"binary": browser, "args": []string{
			"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
			"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + t.TempDir(), "--window-size=1280,900"}},
	}}}
	var sess struct {
		SessionID string `json:"sessionId"`
	}
	json.Unmarshal(d.call("POST", "/session", caps), &sess)
	if sess.SessionID == "" {
		t.Fatal("no webdriver session")
	}
	d.session = sess.SessionID
	defer d.call("DELETE", "/session/"+sess.SessionID, nil)

	// 1. Type a query: results appear as you type.
	d.call("POST", "/url", map[string]string{"url": site})
	d.waitFor("library size in the header", `document.getElementById("stats").textContent.includes("5 images")`)
	q := d.find("#q")
	d.call("POST", "/element/"+q+"/value", map[string]string{"text": "a photo of a cat"})
	d.waitFor("text results", `document.querySelectorAll("#results .result").length === 5`)
	d.screenshot(artifacts, "01-text-search.png")

	// 2. Search by example: pick a photo; it is found first.
	d.exec(`document.getElementById("q").value = ""`)
	file := d.find("#file")
	d.exec(`document.getElementById("file").hidden = false`)
	d.call("POST", "/element/"+file+"/value", map[string]string{"text": filepath.Join(mustAbs(t, src), "rocket.jpg")})
	d.exec(`document.getElementById("file").hidden = true`)
	d.waitFor("example results", `(document.querySelector("#results .result .score") || {}).textContent === "1.000"`)
	if name := d.text(`document.querySelector("#results .result .name").textContent`); name != "rocket.jpg" {
		t.Fatalf("searching by rocket.jpg found %s first", name)
	}
	d.screenshot(artifacts, "02-photo-search.png")

	// 3. Open the details of the first result.
	d.call("POST", "/element/"+d.find("#results .result")+"/click", map[string]any{})
	d.waitFor("details dialog", `document.getElementById("details").open && document.getElementById("details-meta").textContent.includes("JPEG")`)
	if title := d.text(`document.getElementById("details-title").textContent`); title != "rocket.jpg" {
		t.Fatalf("details title %q", title)
	}
	d.screenshot(artifacts, "03-details.png")

	// 4. More like this: the dialog closes and similar images are listed.
	d.call("POST", "/element/"+d.find("#more-like")+"/click", map[string]any{})
	d.waitFor("more like this", `!document.getElementById("details").open && document.querySelectorAll("#results .result").length === 4`)
	if first := d.text(`document.querySelector("#results .result .name").textContent`); first == "rocket.jpg" {
		t.Fatal("more like this returned the image itself")
	}
	d.screenshot(artifacts, "04-more-like-this.png")

	// 5. A phone's width: two columns, no horizontal scrolling.
	d.call("POST", "/window/rect", map[string]int{"width": 390, "height": 844})
	d.waitFor("phone layout", `document.documentElement.scrollWidth <= window.innerWidth`)
	d.screenshot(artifacts, "05-phone.png")

	// 6. Keyboard: "/" focuses the search box.
	d.exec(`document.activeElement.blur()`)
	d.call("POST", "/actions", map[string]any{"actions": []any{map[string]any{"type": "key", "id": "kb", "actions": []any{
		map[string]string{"type": "keyDown", "value": "/"}, map[string]string{"type": "keyUp", "value": "/"}}}}})
	d.waitFor("search box focused", `document.activeElement === document.getElementById("q")`)
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
