package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/invopop/jsonschema"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// locations is a third API area that only this test knows: service
// locations, declared in this one file exactly as customers.go and
// activity_logs.go declare theirs. TestAThirdAreaShowsEverywhere registers
// it and finds it everywhere the others show, with no edit to a generic
// file: that is the promise of one file per area.
var locations = &Area{
	Name:         "service locations",
	Instructions: "Service locations are where the pools are: list_service_locations before a visit.",
	Tools:        []Tool{listLocations(), getLocation(), noteEquipment()},
	Resources:    []Resource{locationsResource()},
	Prompts:      []Prompt{gateCodes()},
	IDs:          []IDKind{{Name: "location", Hint: "location ids come from list_service_locations"}},
	NotFound: map[skimmer.Operation]string{
		skimmer.OpGetCustomer:       "No customer has that id, so there are no service locations to show. Find ids with search_customers.",
		skimmer.OpCreateActivityLog: "No customer has that id; nothing was noted.",
		opGetLocation:               "That customer has no service location with that id. Find location ids with list_service_locations.",
	},
	Mirrors: []Mirror{{Args: equipmentNoteArgs{}, Model: skimmer.ActivityLogRequest{},
		ArgsOnly:  map[string]string{"customerId": "in the path"},
		ModelOnly: map[string]string{"type": "always Other", "authorId": "the default", "authorName": "the default"}}},
	Icon:          customerIcon,
	ContextBudget: 400,
}

// opGetLocation is an operation no other area words: a location is read
// from its customer, and its absence reported as a 404 of its own.
const opGetLocation skimmer.Operation = "GetServiceLocation"

type locationsArgs struct {
	CustomerID string `json:"customerId" jsonschema:"required" jsonschema_description:"Customer id."`
}

func (locationsArgs) JSONSchemaExtend(s *jsonschema.Schema) { idArgs(s, "customer", "customerId") }

func listLocations() Tool {
	return read("list_service_locations", "List service locations", "A customer's service locations, with their ids, gate codes and dogs.",
		func(ctx context.Context, c *skimmer.Client, a locationsArgs) (string, error) {
			cust, err := c.GetCustomer(ctx, a.CustomerID, false)
			if err != nil {
				return "", err
			}
			var out answer
			out.addf("%s of %s:", plural(len(cust.ServiceLocations), "service location", "service locations"), displayName(cust))
			out.rows(len(cust.ServiceLocations), func(i int) string {
				l := cust.ServiceLocations[i]
				return parts(" | ", l.ID, parts(", ", val(l.Address), val(l.City)), prefixed("gate ", val(l.GateCode)), prefixed("dog ", val(l.DogsName)))
			})
			return out.String(), nil
		})
}

type locationArgs struct {
	CustomerID string `json:"customerId" jsonschema:"required" jsonschema_description:"Customer id."`
	ID         string `json:"id" jsonschema:"required" jsonschema_description:"Location id."`
}

func (locationArgs) JSONSchemaExtend(s *jsonschema.Schema) {
	idArgs(s, "customer", "customerId")
	idArgs(s, "location", "id")
}

func getLocation() Tool {
	return read("get_service_location", "Get service location", "One service location in full.",
		func(ctx context.Context, c *skimmer.Client, a locationArgs) (string, error) {
			cust, err := c.GetCustomer(ctx, a.CustomerID, false)
			if err != nil {
				return "", err
			}
			for _, l := range cust.ServiceLocations {
				if l.ID == a.ID {
					return parts(" | ", l.ID, parts(", ", val(l.Address), val(l.City), val(l.State)), prefixed("gate ", val(l.GateCode)), prefixed("notes: ", val(l.Notes))), nil
				}
			}
			return "", &skimmer.APIError{Op: opGetLocation, Method: "GET", Status: 404}
		})
}

type equipmentNoteArgs struct {
	CustomerID  string  `json:"customerId" jsonschema:"required" jsonschema_description:"Customer id."`
	Title       string  `json:"title" jsonschema:"required" jsonschema_description:"What the equipment is, e.g. Pump."`
	Description *string `json:"description,omitempty" jsonschema_description:"What was seen."`
	confirmation
}

func (equipmentNoteArgs) JSONSchemaExtend(s *jsonschema.Schema) {
	idArgs(s, "customer", "customerId")
	activityRules(s)
}

func noteEquipment() Tool {
	return write("note_equipment", "Note equipment", "Note what was seen of a customer's pool equipment, on their activity log.",
		adds, func(ctx context.Context, w *writeCall, a equipmentNoteArgs) (*Plan, error) {
			req := skimmer.ActivityLogRequest{Type: "Other", Title: "Equipment " + strings.TrimSpace(a.Title), Description: a.Description}
			return &Plan{
				Preview: fmt.Sprintf("Would note on customer %s: %q", a.CustomerID, req.Title),
				Apply: func(ctx context.Context) (string, error) {
					l, err := w.client.CreateActivityLog(ctx, a.CustomerID, req)
					if err != nil {
						return "", err
					}
					return fmt.Sprintf("Noted %q; entry id %s.", req.Title, l.ID), nil
				},
			}, nil
		})
}

func locationsResource() Resource {
	return template("skimmer://locations/{+customer}", "locations", "Service locations",
		"A customer's service locations. Type part of a name to pick one.", "list_service_locations",
		func(ctx context.Context, c *skimmer.Client, vars map[string]string) (string, error) {
			cust, choices, err := whichCustomer(ctx, c, vars["customer"])
			if cust == nil || err != nil {
				return choices, err
			}
			r, err := listLocations().run(ctx, &call{client: c, raw: []byte(`{"customerId":"` + cust.ID + `"}`)})
			return r.text, err
		},
		map[string]completer{"customer": completeCustomer})
}

func gateCodes() Prompt {
	return prompt("gate_codes", "Gate codes for a visit", "Every gate code and dog at a customer's locations, for the technician.",
		[]string{"search_customers", "list_service_locations"},
		[]promptArg{{name: "customer", title: "Customer", description: "Name or id.", required: true, complete: completeCustomer}},
		func(args map[string]string, _ ConfirmPolicy) string {
			name, find := who(args["customer"])
			return "List the gate codes and dogs at every location of " + name + ".\n1. " + find + "\n2. Read list_service_locations."
		})
}

func TestAThirdAreaShowsEverywhere(t *testing.T) {
	register(locations)
	t.Cleanup(func() { unregister(locations) })

	t.Run("declared", func(t *testing.T) {
		for _, tl := range locations.Tools {
			t.Run(tl.Name, func(t *testing.T) { checkDeclared(t, tl) })
		}
		for _, m := range locations.Mirrors {
			assert.Empty(t, mirrorProblems(m, locations.Mirrors), "tag parity")
		}
		assert.LessOrEqual(t, areaToolsCost(t, locations), locations.ContextBudget)
	})

	t.Run("schemas", func(t *testing.T) {
		snaps := schemaSnapshots(t)
		for _, name := range []string{"list_service_locations.json", "get_service_location.json", "note_equipment.json"} {
			require.Contains(t, snaps, name, "go generate would write it to schemas/")
		}
		var note map[string]any
		require.NoError(t, json.Unmarshal(snaps["note_equipment.json"], &note))
		title := note["properties"].(map[string]any)["title"].(map[string]any)
		assert.Equal(t, skimmer.ActivityTitlePattern.String(), title["pattern"], "the shared title rule applies")
	})

	h := newHarness(t)
	c := h.customer(func(c *skimmer.Customer) bool { return c.LastName != nil && !c.IsInactive })
	full, err := h.sk.GetCustomer(context.Background(), c.ID, false)
	require.NoError(t, err)
	require.NotEmpty(t, full.ServiceLocations)

	t.Run("listed, with instructions", func(t *testing.T) {
		res, err := h.client.ListTools(context.Background(), mcp.ListToolsRequest{})
		require.NoError(t, err)
		var names []string
		for _, tl := range res.Tools {
			names = append(names, tl.Name)
		}
		assert.Subset(t, names, []string{"list_service_locations", "get_service_location", "note_equipment"})
		assert.Contains(t, h.server.instructions(), "- Service locations are where the pools are: list_service_locations before a visit.")
		templates, err := h.client.ListResourceTemplates(context.Background(), mcp.ListResourceTemplatesRequest{})
		require.NoError(t, err)
		var uris []string
		for _, rt := range templates.ResourceTemplates {
			uris = append(uris, rt.URITemplate.Raw())
		}
		assert.Contains(t, uris, "skimmer://locations/{+customer}")
		prompts, err := h.client.ListPrompts(context.Background(), mcp.ListPromptsRequest{})
		require.NoError(t, err)
		assert.Contains(t, fmt.Sprint(prompts.Prompts), "gate_codes")
	})

	t.Run("called", func(t *testing.T) {
		text, isErr := h.call("list_service_locations", map[string]any{"customerId": c.ID})
		require.False(t, isErr, text)
		assert.Contains(t, text, full.ServiceLocations[0].ID)
		text, _ = h.call("note_equipment", map[string]any{"customerId": c.ID, "title": "Pump"})
		assert.True(t, strings.HasPrefix(text, "PREVIEW: nothing has been changed.\nWould note on customer"), text)
		text, isErr = h.call("note_equipment", map[string]any{"customerId": c.ID, "title": "Pump", "confirm": true})
		require.False(t, isErr, text)
		assert.Contains(t, text, `Noted "Equipment Pump"; entry id `)
		assert.Equal(t, 1, h.sb.Count(skimmer.OpCreateActivityLog))
		card, err := h.read("skimmer://locations/" + c.ID)
		require.NoError(t, err)
		assert.Contains(t, card, full.ServiceLocations[0].ID)
	})

	t.Run("in its own words", func(t *testing.T) {
		none := strings.Repeat("f", 32)
		text, isErr := h.call("get_service_location", map[string]any{"customerId": c.ID, "id": "loc-1"})
		assert.True(t, isErr)
		assert.Equal(t, `Invalid arguments: id "loc-1" is not a Skimmer id (32 lower-case hex characters); location ids come from list_service_locations.`, text)
		text, _ = h.call("get_service_location", map[string]any{"customerId": c.ID, "id": none})
		assert.Equal(t, locations.NotFound[opGetLocation], text)
		text, _ = h.call("list_service_locations", map[string]any{"customerId": none})
		assert.Equal(t, locations.NotFound[skimmer.OpGetCustomer], text, "its own wording for an operation the customers area words too")
		text, _ = h.call("get_customer", map[string]any{"id": none})
		assert.Equal(t, customerNotFound, text, "and the customers area keeps its own")
	})

	t.Run("read-only", func(t *testing.T) {
		ro := newHarness(t, func(s *setup) { s.cfg.ReadOnly = true })
		res, err := ro.client.ListTools(context.Background(), mcp.ListToolsRequest{})
		require.NoError(t, err)
		assert.Contains(t, fmt.Sprint(res.Tools), "list_service_locations")
		assert.NotContains(t, fmt.Sprint(res.Tools), "note_equipment")
		text, isErr := ro.call("note_equipment", map[string]any{"customerId": c.ID, "title": "Pump", "confirm": true})
		assert.True(t, isErr)
		assert.Contains(t, text, "this server only reads from Skimmer (it runs with --read-only), so note_equipment is not available")
		prompts, err := ro.client.ListPrompts(context.Background(), mcp.ListPromptsRequest{})
		require.NoError(t, err)
		assert.Contains(t, fmt.Sprint(prompts.Prompts), "gate_codes", "a prompt that only reads stays")
	})

	t.Run("golden transcript", func(t *testing.T) {
		got := playScenario(t, scenario{about: "A third area, known only to a test, in a whole session.", steps: func(f *fixtures) []any {
			return []any{
				`{"jsonrpc":"2.0","id":0,"method":"tools/list"}`,
				tc("list_service_locations", map[string]any{"customerId": f.plain.ID}),
				tc("note_equipment", map[string]any{"customerId": f.plain.ID, "title": "Heater", "description": "Pilot light out."}),
				tc("note_equipment", map[string]any{"customerId": f.plain.ID, "title": "Heater", "description": "Pilot light out.", "confirm": true}),
				tc("get_service_location", map[string]any{"customerId": f.plain.ID, "id": strings.Repeat("e", 32)}),
				`{"jsonrpc":"2.0","id":0,"method":"prompts/get","params":{"name":"gate_codes","arguments":{"customer":"` + f.plain.ID + `"}}}`,
			}
		}})
		path := filepath.Join("testdata", "third_area.txt")
		if *update {
			require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "no transcript yet: run go test ./tools -run TestAThirdArea -update")
		assert.Equal(t, string(want), got)
	})
}
