// Command skimmer-sandbox serves the Skimmer API emulator on its own, for
// pointing any client (curl, Postman, skimmer-mcp with SKIMMER_BASE_URL) at
// a realistic account with no key and no network.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/logging"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "skimmer-sandbox:", err)
		}
		os.Exit(2)
	}
}

// run serves until ctx ends. ready, when set, receives the bound address.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) error {
	fs := flag.NewFlagSet("skimmer-sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8081", "address to listen on")
	customers := fs.Int("customers", 250, "customers to seed (ignored when --data names an existing file)")
	seed := fs.Int64("seed", 1, "seed of the generated account: same seed, same data")
	data := fs.String("data", "", "JSON file that keeps the sandbox's state across restarts")
	rateLimit := fs.Int("rate-limit", 500, "requests per minute per key; 0 turns rate limiting off")
	keys := fs.String("keys", "", "comma-separated API keys to accept; any non-empty key when empty")
	envelope := fs.String("envelope", "items", "search answer shape: items, data, results or bare")
	sieveErrors := fs.String("sieve-errors", sandbox.SieveSilent, "a search Sieve cannot apply: silent (200 with every customer, Sieve's default) or throw (400)")
	unsearchable := fs.String("unsearchable", "", "comma-separated search fields to treat as unknown, to rehearse an ignored search")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "log format: "+logging.Formats)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: skimmer-sandbox [flags]\n\nServes an emulated Skimmer API with seeded demo data.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := logging.New(stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	opts := sandbox.Options{
		Customers: sandbox.AsGiven(*customers), Seed: *seed, DataFile: *data, Envelope: *envelope, Logger: log,
		RateLimit: sandbox.AsGiven(*rateLimit), SieveErrors: *sieveErrors,
	}
	if *unsearchable != "" {
		opts.Unsearchable = strings.Split(*unsearchable, ",")
	}
	if *keys != "" {
		opts.Keys = strings.Split(*keys, ",")
	}
	sb, err := sandbox.New(opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: logging.Requests(log, slog.LevelInfo, sb), ReadHeaderTimeout: 10 * time.Second}
	log.Info("skimmer sandbox: demo data, not a real Skimmer account", "url", "http://"+ln.Addr().String(), "seed", *seed, "data", *data)
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	log.Info("shutting down")
	return srv.Shutdown(shutdown)
}
