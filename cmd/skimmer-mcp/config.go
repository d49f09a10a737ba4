package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/logging"
	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/loopback"
	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/oauth"
	"github.com/skimmer-mcp/skimmer-mcp/cmd/internal/store"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/tools"
)

// config is everything the operator sets: flags, each with an environment
// twin (SKIMMER_ + the flag's name in capitals, dashes as underscores), and
// two secrets that are environment-only, because flags show in process
// listings.
type config struct {
	transport       string
	addr            string
	stateful        bool
	sandbox         bool
	sandboxSeed     int64
	sandboxCount    int
	sandboxData     string
	sandboxRate     int
	readOnly        bool
	tools           string
	confirm         string
	policy          tools.ConfirmPolicy // confirm, parsed
	baseURL         string
	timeout         time.Duration
	authToken       string
	allowedOrigins  string
	maxBody         int64
	bodyTimeout     time.Duration
	maxSessions     int
	maxKeySessions  int
	maxStreams      int
	maxKeyStreams   int
	sessionIdle     time.Duration
	logLevel        string
	logFormat       string
	shutdownTimeout time.Duration
	debugAddr       string
	store           string
	metricsAddr     string
	version         bool
	json            bool // tools: print JSON
	oauth           bool
	publicURL       string
	oauthState      string
	oauthAccessTTL  time.Duration

	apiKey           string // SKIMMER_API_KEY
	confirmKey       string // SKIMMER_CONFIRM_KEY
	oauthKey         string // SKIMMER_OAUTH_KEY
	oauthKeyPrevious string // SKIMMER_OAUTH_KEY_PREVIOUS
	// SKIMMER_OAUTH_TEST_LOOPBACK_METADATA=1 lets client metadata documents
	// be fetched from loopback addresses: for tests that serve one on this
	// machine, never for production.
	oauthTestLoopback bool

	command string   // "", "call", "tools" or "healthcheck"
	args    []string // the command's own arguments
	set     map[string]bool
	fromEnv map[string]bool // set by the flag's environment twin, not the flag
}

// named is how the person set a flag's value: as the flag, or as its
// environment twin (a host's configuration, a container's -e, the bundle).
// A sentence about a setting names it the way it was given.
func (c *config) named(flagName string) string {
	if c.fromEnv[flagName] {
		return envName(flagName)
	}
	return "--" + flagName
}

// given is a setting with its value, as the person wrote it:
// --confirm "ask", or SKIMMER_CONFIRM="ask".
func (c *config) given(flagName string, v any) string {
	if c.fromEnv[flagName] {
		return fmt.Sprintf("%s=%q", envName(flagName), fmt.Sprint(v))
	}
	if s, ok := v.(string); ok {
		return fmt.Sprintf("--%s %q", flagName, s)
	}
	return fmt.Sprintf("--%s %v", flagName, v)
}

// setTo is how to give a setting a value, the way the person gives
// settings of that name: --transport http, or SKIMMER_TRANSPORT=http.
func (c *config) setTo(flagName, v string) string {
	if c.fromEnv[flagName] {
		return envName(flagName) + "=" + v
	}
	return "--" + flagName + " " + v
}

// checkedValue stands in front of a flag's value so that a value it cannot
// take is answered with what it takes ("use true or false"), not the flag
// package's "parse error", and is recorded with the setting's name as the
// person gave it.
type checkedValue struct {
	flag.Value
	advice string
	failed func(value string, err error)
}

func (v *checkedValue) Set(s string) error {
	if err := v.Value.Set(s); err != nil {
		err = errors.New(v.advice)
		v.failed(s, err)
		return err
	}
	return nil
}

// IsBoolFlag keeps --read-only working without a value.
func (v *checkedValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// adviceFor says what a flag's value must look like, from its kind.
func adviceFor(f *flag.Flag) string {
	g, _ := f.Value.(flag.Getter)
	if g == nil {
		return "see skimmer-mcp --help"
	}
	switch g.Get().(type) {
	case bool:
		return "use true or false"
	case time.Duration:
		return "use a duration such as 30s, 5m or 1h"
	case int, int64:
		return "use a whole number, such as " + f.DefValue
	}
	return "see skimmer-mcp --help"
}

const usageHead = `skimmer-mcp: an MCP server for the Skimmer pool-service API.

Usage:
  skimmer-mcp [flags]                       serve MCP (stdio by default)
  skimmer-mcp [flags] call TOOL ['{json}']  run one tool once and print its answer
  skimmer-mcp [flags] tools [--json]        list the tools the flags allow
  skimmer-mcp [flags] tools NAME...         describe a tool and its arguments
  skimmer-mcp [flags] healthcheck           ask the server the same flags
                                            configure for GET /healthz (for
                                            container health checks)

Environment: SKIMMER_API_KEY (your Skimmer key; not needed with --sandbox),
SKIMMER_CONFIRM_KEY (signs write confirmations; replicas need the same one),
SKIMMER_OAUTH_KEY (with --oauth: encrypts the keys inside tokens; at least 32
random bytes; replicas need the same one) and SKIMMER_OAUTH_KEY_PREVIOUS (the
key it replaced, still accepted during a rotation), and SKIMMER_<FLAG> for
every flag below that names one, e.g. SKIMMER_TRANSPORT=http.

Flags:
`

func envName(flagName string) string {
	return "SKIMMER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// noTwin are the flags that ask for something once rather than configure
// the server: the environment never sets them, so a variable that happens
// to be called SKIMMER_VERSION (a deploy tool's, say) cannot turn a server
// into a command that prints its version and exits.
var noTwin = map[string]bool{"version": true, "json": true}

// parseConfig reads flags, then the environment for every flag not given.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	c := &config{set: map[string]bool{}}
	fs := flag.NewFlagSet("skimmer-mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.transport, "transport", "stdio", "stdio, sse or http (streamable HTTP at /mcp)")
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address for sse and http")
	fs.BoolVar(&c.stateful, "stateful", false, "http: keep MCP sessions, so older clients can confirm writes through elicitation (sticky load balancing needed)")
	fs.BoolVar(&c.sandbox, "sandbox", false, "serve an embedded emulator of Skimmer with seeded demo data; no key needed")
	fs.Int64Var(&c.sandboxSeed, "sandbox-seed", 1, "seed of the sandbox's demo account")
	fs.IntVar(&c.sandboxCount, "sandbox-customers", 250, "customers in the sandbox's demo account; 0 for an empty one")
	fs.StringVar(&c.sandboxData, "sandbox-data", "", "JSON file that keeps the sandbox's changes across restarts")
	fs.IntVar(&c.sandboxRate, "sandbox-rate-limit", 500, "requests per minute per key the sandbox allows, like Skimmer; 0 turns it off")
	fs.BoolVar(&c.readOnly, "read-only", false, "offer only the tools that read")
	fs.StringVar(&c.tools, "tools", "", "comma-separated tool names to offer; all when empty")
	fs.StringVar(&c.confirm, "confirm", "elicit", "how writes are confirmed: elicit (ask the user where the client can), flag (confirm: true), none")
	fs.StringVar(&c.baseURL, "base-url", skimmer.DefaultBaseURL, "Skimmer API base URL; set by the operator only, never by a client")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "limit on each Skimmer request")
	fs.StringVar(&c.authToken, "auth-token", "", "sse/http: token callers must send as Authorization: Bearer; prefer the environment twin")
	fs.StringVar(&c.allowedOrigins, "allowed-origins", "", "sse/http: comma-separated browser origins to accept besides localhost ones")
	fs.Int64Var(&c.maxBody, "max-body", 1<<20, "sse/http: largest request body in bytes")
	fs.DurationVar(&c.bodyTimeout, "body-timeout", defaultBodyTimeout, "sse/http: how long a caller may take to send a request's body")
	fs.IntVar(&c.maxSessions, "max-sessions", defaultCaps.sessions, "sse/http: sessions (stateful HTTP sessions, SSE connections) held at once, in total")
	fs.IntVar(&c.maxKeySessions, "max-sessions-per-key", defaultCaps.sessionsPerKey, "sse/http: sessions one Skimmer key may hold at once")
	fs.IntVar(&c.maxStreams, "max-streams", defaultCaps.streams, "sse/http: streams (SSE connections, GET listeners of stateful sessions) held open at once, in total")
	fs.IntVar(&c.maxKeyStreams, "max-streams-per-key", defaultCaps.streamsPerKey, "sse/http: streams one Skimmer key may hold open at once")
	fs.DurationVar(&c.sessionIdle, "session-idle", defaultCaps.idle, "sse/http: a session unused for this long ends, and its streams close")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: "+logging.Formats+" (json for hosted use)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long in-flight calls may take to finish on SIGINT/SIGTERM")
	fs.StringVar(&c.debugAddr, "debug-addr", "", "loopback address for pprof and /debug/vars (memory, goroutines); off when empty")
	fs.StringVar(&c.store, "store", "", "where state shared by requests lives: empty for this process's memory, or redis://host:6379 (rediss:// for TLS) shared by every replica")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "", "address to serve Prometheus metrics on, at /metrics (its own listener, no authentication); off when empty")
	fs.BoolVar(&c.version, "version", false, "print the version and exit")
	fs.BoolVar(&c.oauth, "oauth", false, "http: be an OAuth 2.1 authorization server, so hosts such as Claude and ChatGPT can add this server by its URL; people sign in with their Skimmer key")
	fs.StringVar(&c.publicURL, "public-url", "", "sse/http: the https URL clients reach, e.g. https://mcp.example.com: logged at start, shown at the address, and what --oauth issues tokens for (defaults to the listen address on loopback)")
	fs.StringVar(&c.oauthState, "oauth-state", "", "--oauth: file that keeps revocations and spent tokens across restarts; in memory when empty")
	fs.DurationVar(&c.oauthAccessTTL, "oauth-access-ttl", 15*time.Minute, "--oauth: how long an access token lives")
	fs.BoolVar(&c.json, "json", false, "tools: print the list as JSON (name, title, kind, description) for scripts")
	var badValue error // the first value a flag could not take, named as given
	fs.VisitAll(func(f *flag.Flag) {
		name := f.Name
		f.Value = &checkedValue{Value: f.Value, advice: adviceFor(f), failed: func(value string, err error) {
			if badValue == nil {
				badValue = fmt.Errorf("--%s %q: %w", name, value, err)
			}
		}}
	})
	// The flag package would print a parse error and the whole usage; the
	// caller prints the error once, with a pointer to --help.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	usage := func() {
		fmt.Fprint(stderr, usageHead)
		fs.VisitAll(func(f *flag.Flag) {
			def := f.DefValue
			if def == "" {
				def = `""`
			}
			env := "env " + envName(f.Name)
			if noTwin[f.Name] {
				env = "no env twin"
			}
			fmt.Fprintf(stderr, "  --%s (%s, default %s)\n      %s\n", f.Name, env, def, f.Usage)
		})
	}
	parse := func(args []string) error {
		err := fs.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			usage()
			return err
		case badValue != nil:
			return badValue
		case err != nil:
			// The flag package names flags with one dash; people type two.
			msg := err.Error()
			if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
				msg = "unknown flag --" + strings.TrimLeft(name, "-")
			} else if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
				msg = "--" + strings.TrimLeft(name, "-") + " needs a value"
			}
			return fmt.Errorf("%s (skimmer-mcp --help lists them all)", msg)
		}
		return nil
	}

	if err := parse(args); err != nil {
		return nil, err
	}
	if rest := fs.Args(); len(rest) > 0 {
		c.command = rest[0]
		if err := parse(rest[1:]); err != nil { // flags may follow the command too
			return nil, err
		}
		c.args = fs.Args()
	}
	fs.Visit(func(f *flag.Flag) { c.set[f.Name] = true })
	c.fromEnv = map[string]bool{}
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if c.set[f.Name] || noTwin[f.Name] {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %v", envName(f.Name), v, err))
			}
			c.set[f.Name] = true
			c.fromEnv[f.Name] = true
		}
	})
	c.apiKey = strings.TrimSpace(getenv("SKIMMER_API_KEY"))
	c.confirmKey = getenv("SKIMMER_CONFIRM_KEY")
	c.oauthKey = getenv("SKIMMER_OAUTH_KEY")
	c.oauthKeyPrevious = getenv("SKIMMER_OAUTH_KEY_PREVIOUS")
	c.oauthTestLoopback = getenv("SKIMMER_OAUTH_TEST_LOOPBACK_METADATA") == "1"
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, c.check()
}

// check refuses settings that cannot work, saying what to change. Each
// sentence names the setting the way the person gave it (named, given).
func (c *config) check() error {
	switch c.transport {
	case "stdio", "sse", "http":
	default:
		return fmt.Errorf("%s: use stdio, sse or http", c.given("transport", c.transport))
	}
	switch c.command {
	case "", "call", "tools", "healthcheck", "serve":
	default:
		return fmt.Errorf("unknown command %q: use call, tools, healthcheck, or no command to serve (see --help)", c.command)
	}
	var err error
	if c.policy, err = tools.ParseConfirmPolicy(c.confirm); err != nil {
		return fmt.Errorf("%s: use elicit (ask the person in a dialog where the app can), flag (the model shows the preview and asks) or none (apply at once)", c.given("confirm", c.confirm))
	}
	// The sandbox is a demo account that takes any key: an operator's key
	// is not used there, so it is not judged either (the bundle's Demo data
	// setting still asks for some text in its required key field).
	if c.apiKey != "" && !c.sandbox {
		if err := skimmer.CheckAPIKey(c.apiKey); err != nil {
			return fmt.Errorf("SKIMMER_API_KEY: %w", err)
		}
	}
	if c.maxBody < 1024 {
		return fmt.Errorf("%s: allow at least 1024 bytes", c.given("max-body", c.maxBody))
	}
	for _, n := range []struct {
		flag string
		v    int
	}{{"max-sessions", c.maxSessions}, {"max-sessions-per-key", c.maxKeySessions}, {"max-streams", c.maxStreams}, {"max-streams-per-key", c.maxKeyStreams}} {
		if n.v < 1 {
			return fmt.Errorf("%s: allow at least 1", c.given(n.flag, n.v))
		}
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"body-timeout", c.bodyTimeout}, {"session-idle", c.sessionIdle}} {
		if d.v < time.Second {
			return fmt.Errorf("%s: allow at least 1s", c.given(d.flag, d.v))
		}
	}
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		return fmt.Errorf("%s: use host:port, e.g. 127.0.0.1:8080", c.given("addr", c.addr))
	}
	if c.publicURL != "" {
		u, err := oauth.CheckIssuer(c.publicURL)
		if err != nil {
			return fmt.Errorf("%s: %w", c.given("public-url", c.publicURL), err)
		}
		// Canonical from here on: the start-up line, the address's page
		// and the tokens' issuer all say the same URL.
		c.publicURL = u
	}
	if c.oauth {
		if c.transport != "http" {
			return fmt.Errorf("%s needs %s: OAuth clients connect over streamable HTTP", c.named("oauth"), c.setTo("transport", "http"))
		}
		if c.oauthAccessTTL < time.Second || c.oauthAccessTTL > 24*time.Hour {
			return fmt.Errorf("%s: use between 1s and 24h (15m is the default)", c.given("oauth-access-ttl", c.oauthAccessTTL))
		}
		if c.publicURL == "" && !loopback.Addr(c.addr) {
			return fmt.Errorf("%s on %s needs --public-url, the https URL clients reach (e.g. https://mcp.example.com), with TLS terminated in front of the server", c.named("oauth"), c.addr)
		}
		if c.oauthKey == "" && !loopback.Addr(c.addr) {
			return fmt.Errorf("%s needs SKIMMER_OAUTH_KEY: at least %d random characters, made with %s; it encrypts the Skimmer keys inside the tokens, and every replica needs the same one", c.named("oauth"), oauth.MinKeyLength, makeSecret)
		}
	}
	if c.store = strings.TrimSpace(c.store); strings.EqualFold(c.store, "memory") {
		c.store = ""
	}
	if c.store != "" {
		if _, err := store.Describe(c.store); err != nil {
			return fmt.Errorf("%s: %w", c.named("store"), err)
		}
	}
	if c.metricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.metricsAddr); err != nil {
			return fmt.Errorf("%s: use host:port, e.g. 0.0.0.0:9464", c.given("metrics-addr", c.metricsAddr))
		}
	}
	return c.checkSecrets()
}

// caps are the limits on what hosted callers hold open.
func (c *config) caps() caps {
	return caps{sessions: c.maxSessions, sessionsPerKey: c.maxKeySessions, streams: c.maxStreams, streamsPerKey: c.maxKeyStreams, idle: c.sessionIdle}
}

func (c *config) toolNames() []string {
	var names []string
	for _, n := range strings.Split(c.tools, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return names
}

func (c *config) origins() []string {
	var out []string
	for _, o := range strings.Split(c.allowedOrigins, ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			out = append(out, o)
		}
	}
	sort.Strings(out)
	return out
}
