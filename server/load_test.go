package server

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/clip"
	"github.com/sightsearch/sight/clip/tokenizer"
	"github.com/sightsearch/sight/imageio"
	"github.com/sightsearch/sight/library"
)

// loadLibrarySize is the number of synthetic vectors of the load benchmark.
const loadLibrarySize = 100_000

// BenchmarkServerLoad measures search latency and throughput over HTTP on
// loopback: a library of 100k synthetic vectors, queries through the real
// towers of a full-size ViT-B/32 with random weights, at 1, 8 and 32
// concurrent clients. Each sub-benchmark sends b.N requests and reports
// p50/p99 latency (ms) and requests per second. Run with
//
//	go test ./server -run '^$' -bench ServerLoad -benchtime 200x -timeout 30m
func BenchmarkServerLoad(b *testing.B) {
	base, photo := loadServer(b)
	for _, kind := range []string{"text", "image"} {
		for _, clients := range []int{1, 8, 32} {
			b.Run(fmt.Sprintf("%s/clients=%d", kind, clients), func(b *testing.B) {
				body := func(i int) (string, []byte) {
					if kind == "text" {
						q, _ := json.Marshal(map[string]any{"text": fmt.Sprintf("a photo of a red shoe number %d", i%50), "limit": 10})
						return "application/json", q
					}
					return multipartBody(b, map[string]string{"limit": "10"}, photo)
				}
				lat := make([]time.Duration, b.N)
				var next sync.Mutex
				n := 0
				b.ResetTimer()
				start := time.Now()
				var wg sync.WaitGroup
				for c := 0; c < clients; c++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							next.Lock()
							i := n
							n++
							next.Unlock()
							if i >= b.N {
								return
							}
							ct, q := body(i)
							t0 := time.Now()
							resp, err := http.Post(base+"/v1/search", ct, strings.NewReader(string(q)))
							if err != nil {
								b.Error(err)
								return
							}
							var r SearchResponse
							json.NewDecoder(resp.Body).Decode(&r)
							resp.Body.Close()
							lat[i] = time.Since(t0)
							if resp.StatusCode != 200 || len(r.Results) != 10 {
								b.Errorf("status %d, %d results", resp.StatusCode, len(r.Results))
								return
							}
						}
					}()
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
				pct := func(p float64) float64 {
					return float64(lat[int(math.Min(float64(len(lat)-1), p*float64(len(lat))))]) / 1e6
				}
				b.ReportMetric(pct(0.50), "p50_ms")
				b.ReportMetric(pct(0.99), "p99_ms")
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "qps")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// loadServer builds the benchmark's library and server once.
func loadServer(b *testing.B) (base string, photo []byte) {
	b.Helper()
	loadOnce.Do(func() {
		m, err := clip.NewRandom(clip.DefaultConfig(), 1)
		if err != nil {
			loadErr = err
			return
		}
		tok, err := tokenizer.Load(tinyModel)
		if err != nil {
			loadErr = err
			return
		}
		pc, err := imageio.LoadProcessorConfig(filepath.Join(tinyModel, "preprocessor_config.json"))
		if err != nil {
			loadErr = err
			return
		}
		enc := &clip.Encoder{Model: m, Tokenizer: tok, Processor: pc, Name: "random ViT-B/32", Fingerprint: "random-vit-b-32"}
		dir := b.TempDir()
		lib, err := library.Open(context.Background(), dir, library.Options{Encoder: enc, EfConstruction: 100})
		if err != nil {
			loadErr = err
			return
		}
		r := rand.New(rand.NewPCG(7, 7))
		dim := m.Config().ProjectionDim
		centers := make([][]float32, 64)
		for i := range centers {
			centers[i] = make([]float32, dim)
			for j := range centers[i] {
				centers[i][j] = float32(r.NormFloat64())
			}
		}
		t0 := time.Now()
		const batch = 5000
		for start := 0; start < loadLibrarySize; start += batch {
			ims := make([]catalog.Image, batch)
			for i := range ims {
				n := start + i
				v := make([]float32, dim)
				c := centers[r.IntN(len(centers))]
				for j := range v {
					v[j] = c[j] + 0.8*float32(r.NormFloat64())
				}
				var key [8]byte
				binary.LittleEndian.PutUint64(key[:], uint64(n))
				h := sha256.Sum256(key[:])
				ims[i] = catalog.Image{Hash: h[:], Size: 1000, Format: "jpeg", Width: 640, Height: 480, Vector: v,
					Paths: []string{fmt.Sprintf("/synthetic/%06d.jpg", n)}}
			}
			if err := lib.Import(context.Background(), ims); err != nil {
				loadErr = err
				return
			}
		}
		b.Logf("library of %d synthetic vectors built in %s", loadLibrarySize, time.Since(t0).Round(time.Second))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			loadErr = err
			return
		}
		go New(lib, Options{}).Serve(context.Background(), ln)
		loadBase = "http://" + ln.Addr().String()
	})
	if loadErr != nil {
		b.Fatal(loadErr)
	}
	return loadBase, fixture(b, "chelsea.png")
}

var (
	loadOnce sync.Once
	loadBase string
	loadErr  error
)
