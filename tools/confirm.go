package tools

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Plan is what a write would do, worked out before anything is sent.
type Plan struct {
	// Preview says exactly what would change, for the person approving it.
	// The model reads the same text in flag mode, and the person sees it in
	// the elicitation dialog.
	Preview string
	// Check is, for removals, what the person must type to confirm.
	Check *Check
	// Unchanged, when set, says why there is nothing to do; no confirmation
	// is asked and nothing is sent.
	Unchanged string
	// Apply makes the change and reports what changed.
	Apply func(ctx context.Context) (string, error)
	// Done, for a create, looks upstream for the record this plan would
	// create, made since the given time, and describes it if found. A sealed
	// confirmation is spent in one process's memory only; replayed to
	// another replica (or after a restart) it would create the record twice.
	// Updates, deactivations and deletions repeat harmlessly.
	Done func(ctx context.Context, since time.Time) (string, error)
}

// Check is a typed confirmation: the person types Answer (any case).
type Check struct {
	Prompt string
	Answer string
}

// ConfirmPolicy is how writes are confirmed, set by the operator.
type ConfirmPolicy string

// The confirm policies.
const (
	// ConfirmElicit asks the person through MCP elicitation when the client
	// can answer, and falls back to ConfirmFlag when it cannot.
	ConfirmElicit ConfirmPolicy = "elicit"
	// ConfirmFlag applies a write only when the model sends confirm: true.
	ConfirmFlag ConfirmPolicy = "flag"
	// ConfirmNone applies every write at once: for trusted automation.
	ConfirmNone ConfirmPolicy = "none"
)

// ParseConfirmPolicy reads a policy name.
func ParseConfirmPolicy(s string) (ConfirmPolicy, error) {
	switch p := ConfirmPolicy(strings.ToLower(strings.TrimSpace(s))); p {
	case ConfirmElicit, ConfirmFlag, ConfirmNone:
		return p, nil
	case "":
		return ConfirmElicit, nil
	}
	return "", fmt.Errorf("confirm policy %q: use elicit, flag or none", s)
}

// elicitKey names the confirmation among a call's input requests.
const elicitKey = "confirm"

// confirm carries a write through the server's policy: it returns the
// preview, asks the person, or applies the plan.
func (s *Server) confirm(ctx context.Context, c *call, tool string, args []byte, confirmed bool, p *Plan) (string, error) {
	if p.Unchanged != "" {
		c.outcome = "unchanged"
		return p.Unchanged, nil
	}
	switch {
	case s.cfg.Confirm == ConfirmNone:
		return p.Apply(ctx)
	case s.cfg.Confirm == ConfirmElicit && s.canElicit(ctx):
		return s.elicit(ctx, c, tool, args, p)
	case confirmed:
		return p.Apply(ctx)
	}
	c.outcome = "preview"
	return "PREVIEW: nothing has been changed.\n" + p.Preview +
		"\nShow this to the user. If they approve, call " + tool + " again with the same arguments and confirm: true.", nil
}

// canElicit reports whether this call's client can be asked: it declared
// elicitation, and either speaks the multi round-trip protocol (which
// works on any transport) or sits on a transport that carries
// server-to-client requests.
func (s *Server) canElicit(ctx context.Context) bool {
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		return info.ClientCapabilities != nil && info.ClientCapabilities.Elicitation != nil
	}
	if !s.cfg.ServerRequests {
		return false
	}
	sess := server.ClientSessionFromContext(ctx)
	withInfo, ok := sess.(server.SessionWithClientInfo)
	if !ok || withInfo.GetClientCapabilities().Elicitation == nil {
		return false
	}
	_, ok = sess.(server.SessionWithElicitation)
	return ok
}

// elicit asks the person, or, on the call that carries their answer, acts
// on it. The request state the client echoes back is sealed: it binds the
// answer to this tool, these arguments and this preview, and expires.
func (s *Server) elicit(ctx context.Context, c *call, tool string, args []byte, p *Plan) (string, error) {
	preview := sha256.Sum256([]byte(p.Preview))
	answer := server.ElicitationResponse(c.req.Params.InputResponses, elicitKey)
	if answer == nil {
		return s.ask(c, tool, args, preview[:], p, "")
	}
	st, err := s.seal.open(c.req.Params.RequestState, tool, args)
	if err != nil {
		c.outcome = "refused"
		return "", refuse("confirmation_invalid", "The confirmation could not be used (%s); nothing was changed. Call %s again to get a fresh one.", err, tool)
	}
	if answer.Action != mcp.ElicitationResponseActionAccept {
		c.outcome = "declined"
		return "The user declined; nothing was changed. Do not retry unless they ask.", nil
	}
	if !bytes.Equal(st.Preview, preview[:]) {
		// The record changed while the person was deciding: they approved
		// something else. Ask again with what would now happen.
		return s.ask(c, tool, args, preview[:], p, "The record changed since you were asked. ")
	}
	content, _ := answer.Content.(map[string]any)
	if p.Check != nil {
		typed, _ := content["typed"].(string)
		if !strings.EqualFold(strings.TrimSpace(typed), p.Check.Answer) {
			c.outcome = "declined"
			return fmt.Sprintf("The user typed %q, not %q; nothing was changed.", short(typed), p.Check.Answer), nil
		}
	} else if ok, _ := content["approve"].(bool); !ok {
		c.outcome = "declined"
		return "The user did not approve; nothing was changed. Do not retry unless they ask.", nil
	}
	if err := s.seal.spend(st); err != nil {
		c.outcome = "refused"
		return "", refuse("confirmation_invalid", "That confirmation was already used; nothing more was changed.")
	}
	if p.Done != nil {
		// Skimmer's clock and ours may differ a little.
		since := time.Unix(st.Expires, 0).Add(-s.seal.ttl - replaySlack)
		if done, err := p.Done(ctx, since); err != nil || done != "" {
			c.outcome = "already_applied"
			return done, err
		}
	}
	return p.Apply(ctx)
}

// replaySlack widens the window in which a create is looked for, for the
// difference between Skimmer's clock and this server's.
const replaySlack = 30 * time.Second

// ask returns the input request that puts the preview to the person.
func (s *Server) ask(c *call, tool string, args, preview []byte, p *Plan, prefix string) (string, error) {
	state, err := s.seal.seal(tool, args, preview)
	if err != nil {
		return "", err
	}
	schema := map[string]any{
		"type":       "object",
		"properties": map[string]any{"approve": map[string]any{"type": "boolean", "title": "Apply this change", "default": false}},
		"required":   []string{"approve"},
	}
	if p.Check != nil {
		schema = map[string]any{
			"type":       "object",
			"properties": map[string]any{"typed": map[string]any{"type": "string", "title": p.Check.Prompt}},
			"required":   []string{"typed"},
		}
	}
	c.outcome = "asked"
	c.result = server.NewInputRequestBuilder(state).Elicit(elicitKey, mcp.ElicitationParams{
		Mode:            mcp.ElicitationModeForm,
		Message:         prefix + p.Preview,
		RequestedSchema: schema,
	}).ToolResult()
	return "", nil
}

// recordLocks queue this process's writes to one record, so that a
// read-merge-write is not interleaved with another. Skimmer offers no ETags;
// writers elsewhere can still interleave, and the README says so.
var recordLocks = keyedMutex{held: map[string]*keyedEntry{}}

type keyedMutex struct {
	mu   sync.Mutex
	held map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

// lock takes the lock of key and returns its release. Entries go away with
// their last holder, so the map stays as small as the writes in flight.
func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	e := k.held[key]
	if e == nil {
		e = &keyedEntry{}
		k.held[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.held, key)
		}
		k.mu.Unlock()
	}
}

// sealer signs confirmation states and remembers the spent ones.
type sealer struct {
	key   []byte
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	spent map[string]time.Time // nonce → expiry
}

// sealedState is what a confirmation is bound to.
type sealedState struct {
	Tool    string `json:"t"`
	Args    []byte `json:"a"`
	Preview []byte `json:"p"`
	Expires int64  `json:"e"`
	Nonce   string `json:"n"`
}

func newSealer(key []byte, now func() time.Time) *sealer {
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	return &sealer{key: key, ttl: 10 * time.Minute, now: now, spent: map[string]time.Time{}}
}

func (s *sealer) seal(tool string, args, preview []byte) (string, error) {
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	body, err := json.Marshal(sealedState{Tool: tool, Args: args, Preview: preview, Expires: s.now().Add(s.ttl).Unix(), Nonce: hex.EncodeToString(nonce)})
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, s.key)
	mac.Write(body)
	return base64.RawURLEncoding.EncodeToString(body) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

func (s *sealer) open(state, tool string, args []byte) (*sealedState, error) {
	body64, sig64, ok := strings.Cut(state, ".")
	body, err1 := base64.RawURLEncoding.DecodeString(body64)
	sig, err2 := base64.RawURLEncoding.DecodeString(sig64)
	if !ok || err1 != nil || err2 != nil {
		return nil, errors.New("it is malformed")
	}
	mac := hmac.New(sha256.New, s.key)
	mac.Write(body)
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, errors.New("it was not issued by this server")
	}
	var st sealedState
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, errors.New("it is malformed")
	}
	switch {
	case st.Tool != tool || !bytes.Equal(st.Args, args):
		return nil, errors.New("it was given for a different call")
	case s.now().Unix() > st.Expires:
		return nil, errors.New("it expired")
	}
	return &st, nil
}

// spend marks a confirmation used, so that one approval applies once.
func (s *sealer) spend(st *sealedState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for n, exp := range s.spent {
		if now.After(exp) {
			delete(s.spent, n)
		}
	}
	if _, used := s.spent[st.Nonce]; used {
		return errors.New("already used")
	}
	s.spent[st.Nonce] = time.Unix(st.Expires, 0)
	return nil
}
