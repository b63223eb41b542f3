// Command sight is Sight's command-line interface: it embeds texts and images
// with CLIP, indexes folders of images and searches them by text or by
// example, and benchmarks its engines.
//
// Run "sight help" for the list of commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand of sight.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what every command gets: its streams and logger.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            *slog.Logger
}

// exitError carries an exit status without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// usageError reports a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func commands() []command {
	return []command{
		{"index", "add images from folders, files or a list on stdin to the library", runIndex},
		{"search", "search the library by text and/or example images", runSearch},
		{"similar", "find images like one in the library", runSimilar},
		{"dupes", "group near-duplicate images", runDupes},
		{"classify", "zero-shot classify images against labels", runClassify},
		{"stats", "show what the library holds", runStats},
		{"rm", "remove images (by path or id) from the library", runRm},
		{"reindex", "re-embed the whole library (e.g. after changing --model)", runReindex},
		{"serve", "serve the HTTP API and the web page", runServe},
		{"worker", "index files from a NATS JetStream ingest queue (see index --queue)", runWorker},
		{"status", "show an ingest queue's progress and workers", runStatus},
		{"embed", "print CLIP embeddings of texts and images as JSON lines", runEmbed},
		{"tokenize", "print the CLIP token ids of a text", runTokenize},
		{"bench", "benchmark the engines (bench embed | bench index | bench store)", runBench},
		{"version", "print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the process exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr,
		log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		var ee exitError
		var ue usageError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee):
			return ee.code
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "sight %s: %s\n", c.name, ue.msg)
			return 2
		case errors.Is(err, context.Canceled):
			fmt.Fprintf(stderr, "sight %s: interrupted\n", c.name)
			return 130
		default:
			fmt.Fprintf(stderr, "sight %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "sight: unknown command %q; run 'sight help'\n", args[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Sight: image search with CLIP, in one binary.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: sight COMMAND [flags] [args]")
	fmt.Fprintln(w)
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'sight COMMAND -h' for a command's flags.")
}

// parseInterspersed parses flags that may appear before, between or after
// positional arguments (sight search "a dog" --limit 5), and returns the
// positional arguments in order. A lone "--" ends flag parsing.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse stops at the first non-flag, or after "--".
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

// Set appends a value.
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// newFlagSet returns a flag set whose usage names the command.
func newFlagSet(e *env, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet("sight "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: sight %s %s\n\nFlags:\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

func runVersion(_ context.Context, e *env, _ []string) error {
	fmt.Fprintln(e.stdout, "sight", version)
	return nil
}

// version is set at link time with -ldflags "-X main.version=...".
var version = "devel"
