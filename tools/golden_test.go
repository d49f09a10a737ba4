package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
	"github.com/skimmer-mcp/skimmer-mcp/skimmer/sandbox"
)

// Golden transcripts: whole MCP sessions, request by request, with the
// exact answers the server gave on a deterministic sandbox (seed 1, 60
// customers, a fixed clock). What a model reads is the product, so any
// change to it shows up in review as a diff of these files.
//
//	go test ./tools -run TestGolden            compare
//	go test ./tools -run TestGolden -update    rewrite after a deliberate change

const goldenDir = "testdata/golden"

// fixtures are the records scenarios refer to, looked up in the sandbox.
type fixtures struct {
	rich     *skimmer.Customer // many fields, several tags
	plain    *skimmer.Customer // an active customer
	manual   skimmer.ActivityLog
	system   skimmer.ActivityLog
	deleted  string // a soft-deleted customer's id
	lastName string // a last name several customers share
}

type scenario struct {
	name, about string
	opts        []func(*setup)
	before      func(h *harness, f *fixtures) // e.g. inject a fault
	steps       func(f *fixtures) []any       // tools/call steps, or raw JSON-RPC strings
}

// call is a tools/call step.
type callStep struct {
	tool string
	args map[string]any
}

func tc(tool string, args map[string]any) callStep { return callStep{tool, args} }

func scenarios() []scenario {
	none := strings.Repeat("f", 32)
	return []scenario{
		{name: "session", about: "A session opens: initialize, then the tool list every conversation pays for.",
			steps: func(*fixtures) []any { return []any{`{"jsonrpc":"2.0","id":0,"method":"tools/list"}`} }},
		{name: "reads", about: "Every read tool's happy path.",
			steps: func(f *fixtures) []any {
				return []any{
					tc("list_customers", map[string]any{"limit": 5}),
					tc("search_customers", map[string]any{"text": f.lastName}),
					tc("get_customer", map[string]any{"id": f.rich.ID}),
					tc("list_customer_activities", map[string]any{"customerId": f.manual.CustomerID, "limit": 5}),
					tc("get_customer_activity", map[string]any{"customerId": f.manual.CustomerID, "id": f.manual.ID}),
					tc("get_customer_activity", map[string]any{"customerId": f.system.CustomerID, "id": f.system.ID}),
				}
			}},
		{name: "create_customer", about: "create_customer: a preview, then the confirmed call, then the record as stored.",
			steps: func(*fixtures) []any {
				args := map[string]any{"firstName": "Wanda", "lastName": "Okafor", "companyName": "Lagoon Villas HOA", "displayAsCompany": true,
					"primaryEmail": "wanda@example.com", "mobilePhone": "(813) 555-0142", "billingCity": "Tampa", "billingState": "FL",
					"tags": []any{"Weekly", "Koi Pond"},
					"serviceLocations": []any{map[string]any{"address": "9 Lagoon Way", "city": "Tampa", "state": "FL", "zip": "33602",
						"rate": 165, "rateType": "FlatMonthlyRatePlusChemicals", "gateCode": "1234#", "dogsName": "Rex", "minutesAtStop": 35}}}
				confirmed := clone(args)
				confirmed["confirm"] = true
				return []any{tc("create_customer", args), tc("create_customer", confirmed), tc("search_customers", map[string]any{"text": "Okafor Lagoon"})}
			}},
		{name: "update_customer", about: "update_customer: preview, confirm, and the merge: untouched fields stay, null clears, \"\" is a value.",
			steps: func(f *fixtures) []any {
				args := map[string]any{"id": f.rich.ID, "billingCity": "Galveston", "notes": nil, "homePhone": "", "addTags": []any{"VIP"}, "removeTags": []any{f.rich.Tags[0].Name}}
				confirmed := clone(args)
				confirmed["confirm"] = true
				return []any{tc("get_customer", map[string]any{"id": f.rich.ID}), tc("update_customer", args), tc("update_customer", confirmed),
					tc("get_customer", map[string]any{"id": f.rich.ID}), tc("update_customer", confirmed)}
			}},
		{name: "deactivate_customers", about: "deactivate_customers: the preview names the customers and the cascades; then it is applied.",
			steps: func(f *fixtures) []any {
				args := map[string]any{"ids": []any{f.plain.ID, f.rich.ID}, "deleteWorkOrders": true, "deleteTags": true}
				confirmed := clone(args)
				confirmed["confirm"] = true
				return []any{tc("deactivate_customers", args), tc("deactivate_customers", confirmed), tc("get_customer", map[string]any{"id": f.plain.ID})}
			}},
		{name: "activity_writes", about: "The activity log: log an entry, change it, delete it: each previewed, then confirmed.",
			steps: func(f *fixtures) []any {
				id := f.plain.ID
				create := map[string]any{"customerId": id, "type": "call", "title": "Asked about a salt cell", "description": "Wants a quote for a new cell.", "authorName": "Dana Whitfield"}
				entry := "00000000000000000000000000000000" // replaced after the create
				return []any{
					tc("create_customer_activity", create), tc("create_customer_activity", with(create, "confirm", true)),
					tc("update_customer_activity", map[string]any{"customerId": id, "id": entry, "title": "Quoted a salt cell", "description": nil}),
					tc("update_customer_activity", map[string]any{"customerId": id, "id": entry, "title": "Quoted a salt cell", "description": nil, "confirm": true}),
					tc("delete_customer_activity", map[string]any{"customerId": id, "id": entry}),
					tc("delete_customer_activity", map[string]any{"customerId": id, "id": entry, "confirm": true}),
					tc("get_customer_activity", map[string]any{"customerId": id, "id": entry}),
				}
			}},
		{name: "search", about: "Search with filters, sorts and escaping: a company name full of Sieve's special characters is found exactly.",
			steps: func(*fixtures) []any {
				return []any{
					tc("create_customer", map[string]any{"companyName": `Smith, Jones | Partners==Co \ Pools`, "billingState": "TX", "confirm": true}),
					tc("search_customers", map[string]any{"filters": []any{map[string]any{"field": "CompanyName", "op": "==", "value": `Smith, Jones | Partners==Co \ Pools`}}}),
					tc("search_customers", map[string]any{"filters": []any{map[string]any{"field": "BillingState", "op": "==", "value": "TX"},
						map[string]any{"field": "CreatedAt", "op": ">=", "value": "2024-01-01"}}, "sorts": []any{"-CreatedAt", "LastName"}, "pageSize": 4, "detail": true}),
					tc("search_customers", map[string]any{"filters": []any{map[string]any{"field": "PrimaryEmail", "op": "==", "value": nil}}, "pageSize": 3}),
					tc("search_customers", map[string]any{"filters": []any{map[string]any{"field": "Deleted", "op": "==", "value": "true"}}, "pageSize": 3}),
				}
			}},
		{name: "paging", about: "Paging through, and past the end.",
			steps: func(f *fixtures) []any {
				return []any{
					tc("search_customers", map[string]any{"text": "a", "pageSize": 3, "page": 2}),
					tc("search_customers", map[string]any{"text": "a", "pageSize": 3, "page": 99}),
					tc("list_customers", map[string]any{"offset": 57, "limit": 5}),
					tc("list_customers", map[string]any{"offset": 500}),
					tc("list_customer_activities", map[string]any{"customerId": f.manual.CustomerID, "offset": 50}),
				}
			}},
		{name: "not_found", about: "Ids that lead nowhere, and a deleted customer.",
			steps: func(f *fixtures) []any {
				return []any{
					tc("get_customer", map[string]any{"id": none}),
					tc("get_customer", map[string]any{"id": f.deleted}),
					tc("get_customer", map[string]any{"id": f.deleted, "includeDeleted": true}),
					tc("get_customer_activity", map[string]any{"customerId": f.plain.ID, "id": none}),
					tc("update_customer", map[string]any{"id": none, "notes": "x"}),
					tc("deactivate_customers", map[string]any{"ids": []any{f.plain.ID, none}}),
				}
			}},
		{name: "validation", about: "Bad input refused before any request, with the rule named; and a rule only Skimmer knows.",
			steps: func(f *fixtures) []any {
				id := f.plain.ID
				return []any{
					tc("create_customer_activity", map[string]any{"customerId": id, "type": "Call", "title": strings.Repeat("Long title ", 6)}),
					tc("create_customer_activity", map[string]any{"customerId": id, "type": "Fax", "title": "Paid $50 in cash!"}),
					tc("create_customer_activity", map[string]any{"customerId": id, "type": "Call", "title": "x", "description": strings.Repeat("d", 301)}),
					tc("get_customer", map[string]any{"id": "C-10023"}),
					tc("search_customers", map[string]any{"sorts": []any{"Notes"}}),
					tc("search_customers", map[string]any{"filters": []any{map[string]any{"field": "IsInactive", "op": "@=", "value": "tr"}}}),
					tc("update_customer_activity", map[string]any{"customerId": f.system.CustomerID, "id": f.system.ID, "title": "Rewrite history"}),
					tc("create_customer", map[string]any{"notes": "Nobody in particular", "confirm": true}),
				}
			}},
		{name: "bad_arguments", about: "Arguments a model might get wrong: an unknown key, a wrong type, a missing one; and what is forgiven.",
			steps: func(f *fixtures) []any {
				return []any{
					tc("search_customers", map[string]any{"txt": "smith"}),
					tc("list_customers", map[string]any{"limit": "lots", "offset": -1}),
					tc("get_customer_activity", map[string]any{"customerId": f.plain.ID}),
					tc("list_customers", map[string]any{"limit": "2", "includeDeleted": "false"}),
					`{"jsonrpc":"2.0","id":0,"method":"tools/call","params":{"name":"list_customers","arguments":"not an object"}}`,
				}
			}},
		{name: "rate_limited", about: "Skimmer's rate limit, with a wait too long to hold the caller.",
			before: func(h *harness, _ *fixtures) {
				h.sb.Inject(sandbox.Fault{Ops: []skimmer.Operation{skimmer.OpGetCustomer}, Status: 429, RetryAfter: 42, Times: 1})
			},
			steps: func(f *fixtures) []any {
				return []any{tc("get_customer", map[string]any{"id": f.plain.ID}), tc("get_customer", map[string]any{"id": f.plain.ID})}
			}},
		{name: "read_only", about: "Read-only mode: the write tools are not listed, and a call to one is told why.",
			opts: []func(*setup){func(s *setup) { s.cfg.ReadOnly = true }},
			steps: func(f *fixtures) []any {
				return []any{`{"jsonrpc":"2.0","id":0,"method":"tools/list"}`, tc("update_customer", map[string]any{"id": f.plain.ID, "notes": "x", "confirm": true})}
			}},
		{name: "resources", about: "Resource templates a person attaches: the customer card and the activity log, by id, by the label a suggestion gave, by a name several share, by a name nobody has.",
			steps: func(f *fixtures) []any {
				label := url.PathEscape(customerLabels([]skimmer.Customer{*f.plain})[0])
				read := func(uri string) string {
					return fmt.Sprintf(`{"jsonrpc":"2.0","id":0,"method":"resources/read","params":{"uri":%q}}`, uri)
				}
				return []any{
					`{"jsonrpc":"2.0","id":0,"method":"resources/templates/list"}`,
					`{"jsonrpc":"2.0","id":0,"method":"resources/list"}`,
					read("skimmer://customers/" + f.rich.ID),
					read("skimmer://customers/" + label),
					read("skimmer://activity/" + label),
					read("skimmer://customers/" + url.PathEscape(f.lastName)),
					read("skimmer://customers/" + url.PathEscape("Nobody Atall")),
				}
			}},
		{name: "prompts", about: "The office's workflows as prompts: the list, each filled in, and one missing what it needs.",
			steps: func(f *fixtures) []any {
				get := func(name string, args map[string]string) string {
					raw, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 0, "method": "prompts/get", "params": map[string]any{"name": name, "arguments": args}})
					return string(raw)
				}
				label := customerLabels([]skimmer.Customer{*f.plain})[0]
				return []any{
					`{"jsonrpc":"2.0","id":0,"method":"prompts/list"}`,
					get("log_contact", map[string]string{"customer": label, "what": "Called about a cloudy pool; booked a visit for Friday.", "by": "Dana Whitfield"}),
					get("customer_brief", map[string]string{"customer": f.rich.ID}),
					get("win_back", map[string]string{"area": "TX", "offer": "a free filter clean"}),
					get("find_duplicates", map[string]string{"among": f.lastName}),
					get("log_contact", map[string]string{"customer": label}),
				}
			}},
		{name: "completions", about: "Suggestions as a person types: a customer by part of a name, an activity type, a city or state.",
			steps: func(f *fixtures) []any {
				complete := func(ref map[string]string, arg, value string) string {
					raw, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 0, "method": "completion/complete", "params": map[string]any{"ref": ref, "argument": map[string]string{"name": arg, "value": value}}})
					return string(raw)
				}
				card := map[string]string{"type": "ref/resource", "uri": "skimmer://customers/{+customer}"}
				return []any{
					complete(card, "customer", strings.ToLower(*f.plain.LastName)),
					complete(card, "customer", f.lastName[:3]),
					complete(map[string]string{"type": "ref/prompt", "name": "log_contact"}, "type", "e"),
					complete(map[string]string{"type": "ref/prompt", "name": "win_back"}, "area", (*f.plain.BillingCity)[:3]),
					complete(map[string]string{"type": "ref/prompt", "name": "win_back"}, "area", "n"),
				}
			}},
		{name: "unknown_tool", about: "A tool that does not exist is a protocol error, not a tool result.",
			steps: func(*fixtures) []any { return []any{tc("drain_pool", map[string]any{"id": "x"})} }},
	}
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func with(m map[string]any, k string, v any) map[string]any {
	out := clone(m)
	out[k] = v
	return out
}

func TestGolden(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			got := playScenario(t, sc)
			path := filepath.Join(goldenDir, sc.name+".txt")
			if *update {
				require.NoError(t, os.MkdirAll(goldenDir, 0o755))
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "no transcript yet: run go test ./tools -run TestGolden -update")
			assert.Equal(t, string(want), got, "%s differs from what the server says now; if the change is meant, rerun with -update and review the diff", path)
		})
	}
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.txt"))
	var names []string
	for _, sc := range scenarios() {
		names = append(names, sc.name+".txt")
	}
	for _, f := range files {
		assert.Contains(t, names, filepath.Base(f), "%s belongs to no scenario", f)
	}
}

func goldenHarness(t *testing.T, opts []func(*setup)) (*harness, *fixtures) {
	h := newHarness(t, append([]func(*setup){func(s *setup) { s.sandbox.Customers = 60 }}, opts...)...)
	ctx := context.Background()
	all, err := h.sk.AllCustomers(ctx, true)
	require.NoError(t, err)
	f := &fixtures{}
	names := map[string]int{}
	for i := range all {
		c := &all[i]
		if c.Deleted && f.deleted == "" {
			f.deleted = c.ID
		}
		if c.Deleted || c.IsInactive {
			continue
		}
		names[*c.LastName]++
		if f.rich == nil && c.CompanyName != nil && c.Notes != nil && len(c.Tags) > 1 && c.HomePhone == nil {
			f.rich, _ = h.sk.GetCustomer(ctx, c.ID, false)
		}
		if f.plain == nil && c.CompanyName == nil {
			f.plain = c
		}
		logs, err := h.sk.ListActivityLogs(ctx, c.ID)
		require.NoError(t, err)
		for _, l := range logs {
			if l.IsSystemGenerated && f.system.ID == "" {
				f.system = l
			}
			if !l.IsSystemGenerated && l.Description != nil && f.manual.ID == "" && len(logs) > 3 {
				f.manual = l
			}
		}
	}
	for name, n := range names {
		if n > 1 && (f.lastName == "" || name < f.lastName) {
			f.lastName = name
		}
	}
	require.True(t, f.rich != nil && f.plain != nil && f.manual.ID != "" && f.system.ID != "" && f.deleted != "" && f.lastName != "", "fixtures: %+v", f)
	h.sb.ResetRequests()
	return h, f
}

var entryIDInText = regexp.MustCompile(`entry id ([0-9a-f]{32})`)

// playScenario runs a scenario through HandleMessage, the entry point every
// transport uses, and renders the transcript.
func playScenario(t *testing.T, sc scenario) string {
	h, f := goldenHarness(t, sc.opts)
	if sc.before != nil {
		sc.before(h, f)
	}
	var out strings.Builder
	fmt.Fprintf(&out, "# %s\n# Sandbox: seed 1, 60 customers, clock %s. Protocol 2025-06-18.\n", sc.about, epoch.Format("2006-01-02T15:04:05Z"))
	steps := append([]any{`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"golden","version":"1"}}}`}, sc.steps(f)...)
	entry := ""
	for i, st := range steps {
		var raw string
		switch s := st.(type) {
		case string:
			raw = strings.Replace(s, `"id":0`, fmt.Sprintf(`"id":%d`, i+1), 1)
		case callStep:
			args := s.args
			if entry != "" {
				args = replaceValue(args, "00000000000000000000000000000000", entry)
			}
			b, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": i + 1, "method": "tools/call", "params": map[string]any{"name": s.tool, "arguments": args}})
			require.NoError(t, err)
			raw = string(b)
		}
		resp := h.server.MCP().HandleMessage(context.Background(), json.RawMessage(raw))
		got, err := json.Marshal(resp)
		require.NoError(t, err)
		if m := entryIDInText.FindSubmatch(got); m != nil {
			entry = string(m[1])
		}
		out.WriteString("\n>>> " + raw + "\n<<< " + indent(normalize(got)) + "\n")
		var res struct {
			Result struct {
				Content []struct{ Text string } `json:"content"`
				IsError bool                    `json:"isError"`
			} `json:"result"`
		}
		if json.Unmarshal(got, &res) == nil && len(res.Result.Content) == 1 {
			fmt.Fprintf(&out, "--- the text, as a model reads it (isError: %t)\n%s\n", res.Result.IsError, res.Result.Content[0].Text)
		}
	}
	return out.String()
}

// normalize masks what changes between releases but not between runs,
// and the icons' data, which review cannot read anyway.
func normalize(b []byte) []byte {
	b = regexp.MustCompile(`"serverInfo":\{"name":"skimmer-mcp","version":"[^"]*"`).
		ReplaceAll(b, []byte(`"serverInfo":{"name":"skimmer-mcp","version":"<version>"`))
	return iconData.ReplaceAllFunc(b, func(m []byte) []byte {
		return fmt.Appendf(nil, `"src":"data:image/png;base64,<%d bytes>"`, len(m)-len(`"src":"data:image/png;base64,"`))
	})
}

var iconData = regexp.MustCompile(`"src":"data:image/png;base64,[A-Za-z0-9+/=]*"`)

func indent(b []byte) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		return string(b)
	}
	return buf.String()
}

func replaceValue(args map[string]any, from, to string) map[string]any {
	out := clone(args)
	for k, v := range out {
		if v == from {
			out[k] = to
		}
	}
	return out
}
