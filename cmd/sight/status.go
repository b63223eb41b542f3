package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/sightsearch/sight/queue"
)

// runStatus is `sight status`: the ingest queue's counts and workers.
func runStatus(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "status", "--queue nats://HOST:PORT [flags]")
	var qf queueFlags
	qf.register(fs, false)
	asJSON := fs.Bool("json", false, "print the status as one JSON object")
	dead := fs.Bool("dead", false, "also list the jobs given up on, with their errors")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	q, err := qf.open(ctx, e, "sight status")
	if err != nil {
		return err
	}
	defer q.Close()
	st, err := q.Status(ctx)
	if err != nil {
		return err
	}
	var letters []queue.DeadLetter
	if *dead {
		if letters, err = q.DeadLetters(ctx); err != nil {
			return err
		}
	}
	if *asJSON {
		out := struct {
			queue.Status
			Rate        float64            `json:"rate"`
			DeadLetters []queue.DeadLetter `json:"dead_letters,omitempty"`
		}{st, st.Rate(), letters}
		if out.Workers == nil {
			out.Workers = []queue.Worker{}
		}
		return json.NewEncoder(e.stdout).Encode(out)
	}
	printStatus(e.stdout, st, time.Now())
	for _, l := range letters {
		fmt.Fprintf(e.stdout, "dead %s after %d attempts: %s\n", l.Path, l.Attempts, l.Error)
	}
	return nil
}

func printStatus(w io.Writer, st queue.Status, now time.Time) {
	copies := ""
	if st.Replicas > 1 {
		copies = fmt.Sprintf(", %d copies", st.Replicas)
	}
	fmt.Fprintf(w, "queue %s, stream %s (capacity %d%s)\n", st.URL, st.Stream, st.Capacity, copies)
	fmt.Fprintf(w, "queued %d, in flight %d (%d redelivered), done %d, dead %d", st.Queued, st.InFlight, st.Redelivered, st.Done, st.Dead)
	if st.Stuck > 0 {
		fmt.Fprintf(w, ", stuck %d", st.Stuck)
	}
	fmt.Fprintln(w)
	plural := "s"
	if len(st.Workers) == 1 {
		plural = ""
	}
	fmt.Fprintf(w, "%d worker%s, %.1f images/s\n", len(st.Workers), plural, st.Rate())
	if len(st.Workers) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  WORKER\tDONE\tIMAGES/S\tIN HAND\tHANDED BACK\tSEEN\tSTORE")
	for _, wk := range st.Workers {
		fmt.Fprintf(tw, "  %s\t%d\t%.1f\t%d\t%d\t%.0fs ago\t%s\n", wk.ID, wk.Done, wk.Rate, wk.InHand, wk.Failed, now.Sub(wk.Seen).Seconds(), wk.Store)
	}
	tw.Flush()
}
