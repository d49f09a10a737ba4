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
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// Plan is what a write would do, worked out before anything is sent.
type Plan struct {
	// Preview says exactly what would change, for the person approving it.
	// The model reads the same text in flag mode, and the person sees it in
	// the elicitation dialog. A plan made to apply may leave it empty when
	// nothing it says depends on Skimmer's current state (a create): the
	// approval then stands on the arguments alone, which the sealed state
	// binds.
	Preview string
	// Check is, for removals, what the person must type to confirm.
	Check *Check
	// Unchanged, when set, says why there is nothing to do; no confirmation
	// is asked and nothing is sent.
	Unchanged string
	// Apply makes the change and reports what changed.
	Apply func(ctx context.Context) (string, error)
	// Done, for a create, looks upstream for the record this plan would
	// create, made since the given time, and describes it if found. It runs
	// only where a confirmation could be replayed to a process that did not
	// see it spent (see Server.replayGuard).
	Done func(ctx context.Context, since time.Time) (string, error)
	// release frees what the plan holds: a record's lock, from the read a
	// plan to apply makes until its write is done.
	release func()
}

// free releases what the plan holds.
func (p *Plan) free() {
	if p != nil && p.release != nil {
		p.release()
	}
}

// Check is a typed confirmation: the person types Answer (any case).
type Check struct {
	Prompt string
	Answer string
}

// writeCall is what a write's plan works with: the caller's client,
// whether the plan is about to be applied (then it reads under the
// record's lock, once, right before its write), and the server's store.
type writeCall struct {
	client   *skimmer.Client
	applying bool
	store    Store
}

// pending is a write call on its way through the confirm policy.
type pending struct {
	tool      string
	effect    effect
	digest    []byte // of the arguments, confirm left out
	confirmed bool
	plan      func(ctx context.Context, applying bool) (*Plan, error)
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

// write carries a write through the server's policy: it returns the
// preview, asks the person, or applies the plan.
func (s *Server) write(ctx context.Context, c *call, w pending) (reply, error) {
	switch {
	case s.cfg.Confirm == ConfirmElicit && s.canElicit(ctx):
		return s.elicit(ctx, c, w)
	case s.cfg.Confirm == ConfirmNone || w.confirmed:
		// The same write from the same caller, in flight twice at once, is
		// a double submit: it is made once, and both calls get its answer.
		// A later, separate call is a new write.
		key := "write/" + c.client.KeyHash().String() + "/" + w.tool + "/" + hex.EncodeToString(w.digest)
		return s.flights.do(ctx, key, func(ctx context.Context) (reply, error) { return s.apply(ctx, w, nil) })
	}
	p, err := w.plan(ctx, false)
	defer p.free()
	if err != nil {
		return reply{}, err
	}
	if p.Unchanged != "" {
		return reply{outcome: unchanged, text: p.Unchanged}, nil
	}
	return reply{outcome: previewed, text: "PREVIEW: nothing has been changed.\n" + p.Preview +
		"\nShow this to the user. If they approve, call " + w.tool + " again with the same arguments and confirm: true."}, nil
}

// apply plans the write afresh and makes it. approved, when the person
// approved a preview, is what they saw: if the record has changed since,
// they are asked again instead.
func (s *Server) apply(ctx context.Context, w pending, approved *approval) (reply, error) {
	p, err := w.plan(ctx, true)
	defer p.free()
	if err != nil {
		return reply{}, err
	}
	if p.Unchanged != "" {
		return reply{outcome: unchanged, text: p.Unchanged}, nil
	}
	if approved != nil {
		if p.Preview != "" && !bytes.Equal(previewDigest(p.Preview), approved.state.Preview) {
			// The record changed while the person was deciding: they
			// approved something else. Ask again with what would now happen.
			return s.ask(approved.caller, w, p, "The record changed since you were asked. ")
		}
		if p.Check != nil {
			typed, _ := approved.content["typed"].(string)
			if !strings.EqualFold(strings.TrimSpace(typed), p.Check.Answer) {
				return reply{outcome: declined, text: fmt.Sprintf("The user typed %q, not %q; nothing was changed.", short(typed), p.Check.Answer)}, nil
			}
		}
		if p.Done != nil && s.replayGuard {
			// Skimmer's clock and ours may differ a little.
			since := time.Unix(approved.state.Expires, 0).Add(-s.seal.ttl - replaySlack)
			if done, err := p.Done(ctx, since); err != nil || done != "" {
				return reply{outcome: alreadyApplied, text: done}, err
			}
		}
	}
	text, err := p.Apply(ctx)
	if err != nil {
		return reply{}, err
	}
	return reply{outcome: applied, text: text}, nil
}

// replaySlack widens the window in which a create is looked for, for the
// difference between Skimmer's clock and this server's.
const replaySlack = 30 * time.Second

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

// approval is the person's accepted answer to a question, and the sealed
// state it answers.
type approval struct {
	state   *sealedState
	caller  string
	content map[string]any
}

// elicit asks the person, or, on the call that carries their answer, acts
// on it. The request state the client echoes back is sealed: it binds the
// answer to this tool, these arguments, this caller and this preview, and
// expires. Every answer spends it, whatever it says: a question is
// answered once, so a declined one cannot be sent again as accepted.
func (s *Server) elicit(ctx context.Context, c *call, w pending) (reply, error) {
	caller := c.client.KeyHash().String()
	answer := server.ElicitationResponse(c.req.Params.InputResponses, elicitKey)
	if answer == nil {
		p, err := w.plan(ctx, false)
		defer p.free()
		if err != nil {
			return reply{}, err
		}
		if p.Unchanged != "" {
			return reply{outcome: unchanged, text: p.Unchanged}, nil
		}
		return s.ask(caller, w, p, "")
	}
	st, err := s.seal.open(c.req.Params.RequestState, w.tool, w.digest, caller)
	if err != nil {
		return reply{}, refuse(failRefused, "The confirmation could not be used (%s); nothing was changed. Call %s again to get a fresh one.", err, w.tool)
	}
	// The same answer, in flight twice at once (a client retrying), is
	// carried out once, and both calls get its answer.
	return s.flights.do(ctx, "answer/"+st.Nonce, func(ctx context.Context) (reply, error) {
		// Remembered a minute past its expiry, for replicas' clocks.
		ttl := time.Unix(st.Expires, 0).Sub(s.seal.now()) + time.Minute
		first, err := s.cfg.Store.Spend(ctx, "confirmation/"+st.Nonce, ttl)
		if err != nil {
			return reply{}, storeFailure(err)
		}
		if !first {
			// Its first answer may have been lost on the way: say neither
			// that something was done now nor that nothing ever was.
			return reply{}, refuse(failRefused, "This confirmation was already answered, so it did nothing this time. Check with a read whether the change was made; if it was not and is still wanted, call %s again for a fresh confirmation.", w.tool)
		}
		if answer.Action != mcp.ElicitationResponseActionAccept {
			return reply{outcome: declined, text: "The user declined; nothing was changed. Do not retry unless they ask."}, nil
		}
		content, _ := answer.Content.(map[string]any)
		if approve, given := content["approve"].(bool); given && !approve && w.effect != removes {
			return reply{outcome: declined, text: "The user did not approve; nothing was changed. Do not retry unless they ask."}, nil
		}
		return s.apply(ctx, w, &approval{state: st, caller: caller, content: content})
	})
}

// ask returns the input request that puts the preview to the person. An
// addition or an overwrite is applied by Accept (its box starts ticked);
// a removal wants a word typed.
func (s *Server) ask(caller string, w pending, p *Plan, prefix string) (reply, error) {
	state, err := s.seal.seal(sealedState{Tool: w.tool, Args: w.digest, Caller: caller, Preview: previewDigest(p.Preview)})
	if err != nil {
		return reply{}, err
	}
	schema := map[string]any{
		"type":       "object",
		"properties": map[string]any{"approve": map[string]any{"type": "boolean", "title": "Apply this change", "default": true}},
	}
	if p.Check != nil {
		schema = map[string]any{
			"type":       "object",
			"properties": map[string]any{"typed": map[string]any{"type": "string", "title": p.Check.Prompt}},
			"required":   []string{"typed"},
		}
	}
	return reply{outcome: asked, input: server.NewInputRequestBuilder(state).Elicit(elicitKey, mcp.ElicitationParams{
		Mode:            mcp.ElicitationModeForm,
		Message:         prefix + p.Preview,
		RequestedSchema: schema,
	}).ToolResult()}, nil
}

func previewDigest(preview string) []byte {
	sum := sha256.Sum256([]byte(preview))
	return sum[:]
}

// storeFailure is the sentence for a store that did not answer: the write
// fails closed.
func storeFailure(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return refuse(failStoreUnreachable, "Nothing was changed: this server could not reach its shared database, which it needs to make a change safely. Try again in a moment; if it keeps failing, tell whoever runs this server.")
}

// sealer signs confirmation states.
type sealer struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// sealedState is what a confirmation is bound to.
type sealedState struct {
	Tool    string `json:"t"`
	Args    []byte `json:"a"` // digest of the arguments
	Caller  string `json:"c"` // skimmer.KeyHash of the key that was asked, in hex
	Preview []byte `json:"p"` // digest of the preview the person saw
	Expires int64  `json:"e"`
	Nonce   string `json:"n"`
}

func newSealer(key []byte, now func() time.Time) *sealer {
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	return &sealer{key: key, ttl: 10 * time.Minute, now: now}
}

// seal signs st, adding its expiry and a nonce.
func (s *sealer) seal(st sealedState) (string, error) {
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	st.Expires, st.Nonce = s.now().Add(s.ttl).Unix(), hex.EncodeToString(nonce)
	body, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, s.key)
	mac.Write(body)
	return base64.RawURLEncoding.EncodeToString(body) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

// open checks a state: signed by this server's key, for this tool, these
// arguments and this caller, and not expired.
func (s *sealer) open(state, tool string, digest []byte, caller string) (*sealedState, error) {
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
	case st.Tool != tool || !bytes.Equal(st.Args, digest):
		return nil, errors.New("it was given for a different call")
	case st.Caller != caller:
		return nil, errors.New("it was given to a different API key")
	case s.now().Unix() > st.Expires:
		return nil, errors.New("it expired")
	}
	return &st, nil
}
