package hub

import (
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress reports the download of one file.
type progress interface {
	start(total, offset int64) // a response started at offset; total -1 if unknown
	set(n int64)               // n bytes of the file are on disk
	done()
	stop() // release the display, also after a failure
}

// newProgress returns a progress bar for a terminal, a logger writing
// plain lines for any other writer, or a no-op for nil.
func newProgress(w io.Writer, name string) progress {
	if w == nil {
		return nopProgress{}
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &barProgress{w: w, name: name}
	}
	return &logProgress{log: slog.New(slog.NewTextHandler(w, nil)), name: name}
}

type nopProgress struct{}

func (nopProgress) start(int64, int64) {}
func (nopProgress) set(int64)          {}
func (nopProgress) done()              {}
func (nopProgress) stop()              {}

type barProgress struct {
	w    io.Writer
	name string
	bar  *progressbar.ProgressBar
}

func (p *barProgress) start(total, offset int64) {
	if p.bar == nil {
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(p.name),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { io.WriteString(p.w, "\n") }),
		)
	}
	p.bar.Set64(offset)
}

func (p *barProgress) set(n int64) {
	if p.bar != nil {
		p.bar.Set64(n)
	}
}

func (p *barProgress) done() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

func (p *barProgress) stop() {
	if p.bar != nil {
		p.bar.Exit()
	}
}

// logProgress logs the start, about every 10% (at most every 2 s) and the end.
type logProgress struct {
	log     *slog.Logger
	name    string
	total   int64
	begin   time.Time
	last    time.Time
	lastPct int64
}

func (p *logProgress) start(total, offset int64) {
	p.total = total
	if p.begin.IsZero() {
		p.begin = time.Now()
	}
	p.last = time.Now()
	p.lastPct = pct(offset, total)
	if offset > 0 {
		p.log.Info("resuming download", "file", p.name, "offset", offset, "size", total)
	} else {
		p.log.Info("downloading", "file", p.name, "size", total)
	}
}

func (p *logProgress) set(n int64) {
	if c := pct(n, p.total); c >= p.lastPct+10 && time.Since(p.last) >= 2*time.Second {
		p.lastPct, p.last = c, time.Now()
		p.log.Info("download progress", "file", p.name, "bytes", n, "size", p.total, "percent", c)
	}
}

func (p *logProgress) done() {
	p.log.Info("downloaded", "file", p.name, "size", p.total, "seconds", time.Since(p.begin).Seconds())
}

func (p *logProgress) stop() {}

func pct(n, total int64) int64 {
	if total <= 0 {
		return 0
	}
	return n * 100 / total
}
