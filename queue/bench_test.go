package queue

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sightsearch/sight/internal/natstest"
)

// BenchmarkEnqueue measures enqueueing jobs in chunks of 1000, as `sight
// index --queue` does (b.N jobs).
func BenchmarkEnqueue(b *testing.B) {
	srv := natstest.Start(b)
	q, err := Open(context.Background(), srv.URL(), Options{Stream: "BENCH", MaxJobs: 10_000_000, MaxBytes: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	jobs := make([]Job, b.N)
	for i := range jobs {
		jobs[i] = Job{Path: fmt.Sprintf("/photos/%d/IMG_%06d.jpg", i/1000, i)}
	}
	b.ResetTimer()
	t0 := time.Now()
	for i := 0; i < len(jobs); i += 1000 {
		if _, err := q.Enqueue(context.Background(), jobs[i:min(i+1000, len(jobs))]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "jobs/s")
}

// BenchmarkFetchAck measures a worker's queue overhead: fetching batches of
// 32 jobs and acknowledging each (b.N jobs).
func BenchmarkFetchAck(b *testing.B) {
	srv := natstest.Start(b)
	ctx := context.Background()
	q, err := Open(ctx, srv.URL(), Options{Stream: "BENCH", MaxJobs: 10_000_000, MaxBytes: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	for i := 0; i < b.N; i += 1000 {
		chunk := make([]Job, 0, 1000)
		for j := i; j < min(i+1000, b.N); j++ {
			chunk = append(chunk, Job{Path: fmt.Sprintf("/photos/IMG_%06d.jpg", j)})
		}
		if _, err := q.Enqueue(ctx, chunk); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	t0 := time.Now()
	for done := 0; done < b.N; {
		ds, err := q.Fetch(ctx, 32, time.Second)
		if err != nil || len(ds) == 0 {
			b.Fatalf("fetch after %d: %v", done, err)
		}
		for _, d := range ds {
			if err := d.Ack(ctx); err != nil {
				b.Fatal(err)
			}
		}
		done += len(ds)
	}
	b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "jobs/s")
}
