package tools

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/invopop/jsonschema"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// activities is each customer's activity log: Skimmer's five operations
// on it, and the log as a resource.
var activities = &Area{
	Name:      "activity logs",
	Tools:     []Tool{listActivities(), getActivity(), createActivity(), updateActivity(), deleteActivity()},
	Resources: []Resource{activityLog()},
	Prompts:   []Prompt{logContact()},
	IDs:       []IDKind{{Name: "entry", Hint: "entry ids come from list_customer_activities"}},
	NotFound: map[skimmer.Operation]string{
		skimmer.OpListActivityLogs:  "Skimmer has no customer with that id, or it is deleted. Find ids with search_customers.",
		skimmer.OpCreateActivityLog: "Skimmer has no customer with that id, or it is deleted. Nothing was logged; find ids with search_customers.",
		skimmer.OpGetActivityLog:    entryNotFound,
		skimmer.OpUpdateActivityLog: entryNotFound,
		skimmer.OpDeleteActivityLog: entryNotFound,
	},
	Mirrors: []Mirror{
		{Args: createActivityArgs{}, Model: skimmer.ActivityLogRequest{}, ArgsOnly: map[string]string{"customerId": "in the path"}},
		{Args: updateActivityArgs{}, Model: skimmer.ActivityLogRequest{}, ArgsOnly: map[string]string{"customerId": "in the path", "id": "in the path"}},
		{Args: deleteActivityArgs{}, ArgsOnly: map[string]string{"customerId": "in the path", "id": "in the path"}},
	},
	Icon:          activityIcon,
	ContextBudget: 900,
}

func init() { register(activities) }

const entryNotFound = "Skimmer has no such activity entry for this customer. Find entry ids with list_customer_activities."

// activityRules applies Skimmer's rules for manual entries to a schema:
// the type enum, the title's length and characters, the lengths of the
// description and the author. The decoder enforces them before any
// request.
func activityRules(s *jsonschema.Schema) {
	if p, ok := s.Properties.Get("type"); ok {
		p.Enum = nil
		for _, t := range skimmer.ActivityTypes {
			p.Enum = append(p.Enum, t)
		}
	}
	if p, ok := s.Properties.Get("title"); ok {
		n := uint64(skimmer.ActivityTitleMax)
		p.MaxLength, p.Pattern = &n, skimmer.ActivityTitlePattern.String()
		if p.Extras == nil {
			p.Extras = map[string]any{}
		}
		p.Extras[ruleMark] = "Skimmer allows only letters, digits, dashes and spaces in a title, and not spaces alone"
	}
	if p, ok := s.Properties.Get("description"); ok {
		n := uint64(skimmer.ActivityDescriptionMax)
		p.MaxLength = &n
	}
	for _, name := range []string{"authorId", "authorName"} {
		if p, ok := s.Properties.Get(name); ok {
			n := uint64(skimmer.ActivityAuthorMax)
			p.MaxLength = &n
		}
	}
}

// ---- list_customer_activities

type listActivitiesArgs struct {
	CustomerID string `json:"customerId" jsonschema:"required" jsonschema_description:"Customer id."`
	Type       string `json:"type,omitempty" jsonschema_description:"Only this type; System: entries Skimmer wrote."`
	Limit      int    `json:"limit,omitempty" jsonschema:"minimum=1,maximum=100,default=20" jsonschema_description:"Entries per answer."`
	Offset     int    `json:"offset,omitempty" jsonschema:"minimum=0" jsonschema_description:"Entries to skip."`
}

func (listActivitiesArgs) JSONSchemaExtend(s *jsonschema.Schema) {
	idArgs(s, "customer", "customerId")
	p, _ := s.Properties.Get("type")
	for _, t := range append(slices.Clone(skimmer.ActivityTypes), "System") {
		p.Enum = append(p.Enum, t)
	}
}

func listActivities() Tool {
	return read("list_customer_activities", "List customer activity",
		"A customer's activity log, newest first: calls, texts, emails, notes, and entries Skimmer wrote.",
		func(ctx context.Context, c *skimmer.Client, a listActivitiesArgs) (string, error) {
			logs, err := c.ListActivityLogs(ctx, a.CustomerID)
			if err != nil {
				return "", err
			}
			slices.SortStableFunc(logs, func(x, y skimmer.ActivityLog) int { return y.CreatedAt.Compare(x.CreatedAt.Time) })
			all := len(logs)
			if a.Type != "" {
				logs = slices.DeleteFunc(logs, func(l skimmer.ActivityLog) bool {
					if a.Type == "System" {
						return !l.IsSystemGenerated
					}
					return l.IsSystemGenerated || !strings.EqualFold(l.Type, a.Type)
				})
			}
			return renderActivities(logs, all, a), nil
		})
}

func renderActivities(logs []skimmer.ActivityLog, all int, a listActivitiesArgs) string {
	which := "entries"
	if a.Type != "" {
		which = a.Type + " entries"
	}
	if len(logs) == 0 {
		return fmt.Sprintf("No %s (the log has %d in all).", which, all)
	}
	if a.Offset >= len(logs) {
		return fmt.Sprintf("No %s at offset %d: there are %d.", which, a.Offset, len(logs))
	}
	page := logs[a.Offset:min(a.Offset+a.Limit, len(logs))]
	var out answer
	out.add("Columns: id | when | type | title | by | details")
	shown := out.rows(len(page), func(i int) string { return activityLine(&page[i]) })
	out.head = fmt.Sprintf("%s %d-%d of %d, newest first; times UTC.", capitalize(which), a.Offset+1, a.Offset+shown, len(logs))
	next := ""
	if a.Offset+shown < len(logs) {
		next = fmt.Sprintf("Next: offset=%d.", a.Offset+shown)
	}
	return out.String(next)
}

func capitalize(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// activityLine is an entry in one line, its description clipped.
func activityLine(l *skimmer.ActivityLog) string {
	details := clip(val(l.Description), 100)
	if l.IsSystemGenerated {
		details = parts("; ", "system", val(l.RelatedEntityDisplay), val(l.SecondaryRelatedEntityDisplay), details)
	}
	by := val(l.CreatedByName)
	if !l.IsSystemGenerated && unnamed(by) {
		by = "no author given"
	}
	return parts(" | ", l.ID, minute(l.CreatedAt.Time), l.Type, l.Title, by, details)
}

// ---- get_customer_activity

type activityRef struct {
	CustomerID string `json:"customerId" jsonschema:"required" jsonschema_description:"Customer id."`
	ID         string `json:"id" jsonschema:"required" jsonschema_description:"Entry id."`
}

func (activityRef) JSONSchemaExtend(s *jsonschema.Schema) {
	idArgs(s, "customer", "customerId")
	idArgs(s, "entry", "id")
}

func getActivity() Tool {
	return read("get_customer_activity", "Get activity entry",
		"One activity log entry in full.",
		func(ctx context.Context, c *skimmer.Client, a activityRef) (string, error) {
			l, err := c.GetActivityLog(ctx, a.CustomerID, a.ID)
			if err != nil {
				return "", err
			}
			var out answer
			activityDetail(&out, l)
			return out.String(), nil
		})
}

func activityDetail(out *answer, l *skimmer.ActivityLog) {
	kind := "logged by a person"
	if l.IsSystemGenerated {
		kind = "written by Skimmer; cannot be changed"
	}
	out.add(parts(" | ", l.ID, l.Type, l.Title))
	out.addf("Customer %s; %s", l.CustomerID, kind)
	created, updated := prefixed(" by ", val(l.CreatedByName)), prefixed(" by ", val(l.UpdatedByName))
	if !l.IsSystemGenerated {
		// Skimmer writes "System" where a person's entry names nobody,
		// as on its own entries: say so, rather than pass the entry off
		// as Skimmer's.
		if unnamed(val(l.CreatedByName)) {
			created = `, no author given (Skimmer shows "System")`
		}
		if unnamed(val(l.UpdatedByName)) {
			updated = ", no editor given"
		}
	}
	out.add(parts("; ", "Created "+minute(l.CreatedAt.Time)+" UTC"+created, "updated "+minute(l.UpdatedAt.Time)+updated))
	if d := val(l.Description); d != "" {
		out.add("Description: " + d)
	}
	if r := parts(" ", val(l.RelatedEntityType), val(l.RelatedEntityDisplay), wrap(val(l.RelatedEntityID))); r != "" {
		out.add("Related: " + r)
	}
	if r := parts(" ", val(l.SecondaryRelatedEntityType), val(l.SecondaryRelatedEntityDisplay), wrap(val(l.SecondaryRelatedEntityID))); r != "" {
		out.add("Also related: " + r)
	}
}

// ---- create_customer_activity

type createActivityArgs struct {
	CustomerID  string  `json:"customerId" jsonschema:"required" jsonschema_description:"Customer id."`
	Type        string  `json:"type" jsonschema:"required" jsonschema_description:"What happened."`
	Title       string  `json:"title" jsonschema:"required" jsonschema_description:"Short title."`
	Description *string `json:"description,omitempty" jsonschema_description:"Details."`
	AuthorID    *string `json:"authorId,omitempty" jsonschema_description:"Author's id; default System."`
	AuthorName  *string `json:"authorName,omitempty" jsonschema_description:"Author's name; default System."`
	confirmation
}

func (createActivityArgs) JSONSchemaExtend(s *jsonschema.Schema) {
	idArgs(s, "customer", "customerId")
	activityRules(s)
}

func createActivity() Tool {
	return write("create_customer_activity", "Log customer activity",
		"Log a call, text, email or other note on a customer.",
		adds, func(ctx context.Context, w *writeCall, a createActivityArgs) (*Plan, error) {
			req := skimmer.ActivityLogRequest{Type: a.Type, Title: strings.TrimSpace(a.Title), Description: a.Description, AuthorID: a.AuthorID, AuthorName: a.AuthorName}
			entry := fmt.Sprintf("%s %q", req.Type, req.Title)
			on := "customer " + a.CustomerID
			p := &Plan{
				Apply: func(ctx context.Context) (string, error) {
					l, err := w.client.CreateActivityLog(ctx, a.CustomerID, req)
					if err != nil {
						return "", err
					}
					return fmt.Sprintf("Logged %s on %s; entry id %s.", entry, on, l.ID), nil
				},
				Done: func(ctx context.Context, since time.Time) (string, error) {
					logs, err := w.client.ListActivityLogs(ctx, a.CustomerID)
					if err != nil {
						return "", err
					}
					for _, l := range logs {
						if !l.IsSystemGenerated && l.Type == req.Type && l.Title == req.Title && val(l.Description) == val(req.Description) && !l.CreatedAt.Before(since) {
							return fmt.Sprintf("Already logged: %s on %s, entry id %s, by an earlier use of this same confirmation; not logged again.", entry, on, l.ID), nil
						}
					}
					return "", nil
				},
			}
			if w.applying {
				// Nothing in the preview depends on the customer as it is
				// now: the entry is written whole from the arguments, and a
				// customer that is gone answers the POST with 404.
				return p, nil
			}
			cust, err := w.client.GetCustomer(ctx, a.CustomerID, false)
			if err != nil {
				return nil, err
			}
			by := "by " + val(req.AuthorName)
			if unnamed(val(req.AuthorName)) {
				by = `no author given (Skimmer will show "System")`
			}
			p.Preview = fmt.Sprintf("Would log on %s, id %s:\n  %s, %s", displayName(cust), cust.ID, entry, by)
			if d := val(req.Description); d != "" {
				p.Preview += "\n  " + d
			}
			return p, nil
		})
}

// unnamed reports an author or editor that names nobody: none given, or
// the "System" Skimmer writes in its place. The tools say so in words, and
// do not make up a default author: an entry's author is a person's name in
// the company's records, and this server does not know who is at the
// keyboard.
func unnamed(name string) bool {
	name = strings.TrimSpace(name)
	return name == "" || name == skimmer.ActivityDefaultAuthor
}

// editedBy ends an update's preview: who the edit is put down to.
func editedBy(name *string) string {
	if unnamed(val(name)) {
		return `No editor given (Skimmer will show "System").`
	}
	return "Edited by " + val(name) + "."
}

// ---- update_customer_activity

type updateActivityArgs struct {
	CustomerID  string        `json:"customerId" jsonschema:"required" jsonschema_description:"Customer id."`
	ID          string        `json:"id" jsonschema:"required" jsonschema_description:"Entry id."`
	Type        string        `json:"type,omitempty" jsonschema_description:"New type."`
	Title       string        `json:"title,omitempty" jsonschema_description:"New title."`
	Description Patch[string] `json:"description,omitzero" jsonschema_description:"New details; null clears them."`
	AuthorID    *string       `json:"authorId,omitempty" jsonschema_description:"Editor's id; default System."`
	AuthorName  *string       `json:"authorName,omitempty" jsonschema_description:"Editor's name; default System."`
	confirmation
}

func (updateActivityArgs) JSONSchemaExtend(s *jsonschema.Schema) {
	idArgs(s, "customer", "customerId")
	idArgs(s, "entry", "id")
	activityRules(s)
}

// manualEntry fetches an entry and refuses system-generated ones, which
// Skimmer does not let anyone change.
func manualEntry(ctx context.Context, c *skimmer.Client, customerID, id, verb string) (*skimmer.ActivityLog, error) {
	l, err := c.GetActivityLog(ctx, customerID, id)
	if err != nil {
		return nil, err
	}
	if l.IsSystemGenerated {
		return nil, refuse(failSystemEntry, "Entry %s (%s %q) was written by Skimmer itself, and Skimmer does not let system entries be %s. Nothing was changed.", l.ID, l.Type, l.Title, verb)
	}
	return l, nil
}

func updateActivity() Tool {
	return write("update_customer_activity", "Update activity entry",
		"Change a logged entry; fields left out stay as they are.",
		overwrites, func(ctx context.Context, w *writeCall, a updateActivityArgs) (*Plan, error) {
			return planUpdate(ctx, w, recordUpdate[*skimmer.ActivityLog]{
				kind: "entry", id: a.ID,
				read: func(ctx context.Context) (*skimmer.ActivityLog, error) {
					return manualEntry(ctx, w.client, a.CustomerID, a.ID, "updated")
				},
				merge: func(cur *skimmer.ActivityLog) ([]string, func(context.Context) (string, error), error) {
					req, changes := patchActivity(cur, a)
					return changes, func(ctx context.Context) (string, error) {
						_, err := w.client.UpdateActivityLog(ctx, cur.CustomerID, cur.ID, req)
						return "", err
					}, nil
				},
				what: func(cur *skimmer.ActivityLog) string {
					return fmt.Sprintf("entry %s (%s %q)", cur.ID, cur.Type, cur.Title)
				},
				note: editedBy(a.AuthorName),
			})
		})
}

// patchActivity applies the arguments to an entry. Skimmer replaces every
// writable field, so the request starts from the entry as it is.
func patchActivity(cur *skimmer.ActivityLog, a updateActivityArgs) (skimmer.ActivityLogRequest, []string) {
	req := skimmer.ActivityLogRequest{Type: cur.Type, Title: cur.Title, Description: cur.Description, AuthorID: a.AuthorID, AuthorName: a.AuthorName}
	var changes []string
	change := func(field string, from, to *string) {
		if val(from) != val(to) || (from == nil) != (to == nil) {
			changes = append(changes, changeLine(field, from, to))
		}
	}
	if a.Type != "" {
		change("type", &req.Type, &a.Type)
		req.Type = a.Type
	}
	if a.Title != "" {
		title := strings.TrimSpace(a.Title)
		change("title", &req.Title, &title)
		req.Title = title
	}
	desc := a.Description.apply(cur.Description)
	change("description", cur.Description, desc)
	req.Description = desc
	return req, changes
}

// ---- delete_customer_activity

type deleteActivityArgs struct {
	activityRef
	confirmation
}

func deleteActivity() Tool {
	return write("delete_customer_activity", "Delete activity entry",
		"Delete an entry a person logged (not one Skimmer wrote).",
		removes, func(ctx context.Context, w *writeCall, a deleteActivityArgs) (*Plan, error) {
			l, err := manualEntry(ctx, w.client, a.CustomerID, a.ID, "deleted")
			if err != nil {
				return nil, err
			}
			var preview answer
			preview.add("Would delete this entry for good:")
			activityDetail(&preview, l)
			return &Plan{
				Preview: preview.String(),
				Check:   &Check{Prompt: "Type delete to delete this entry", Answer: "delete"},
				Apply: func(ctx context.Context) (string, error) {
					if err := w.client.DeleteActivityLog(ctx, l.CustomerID, l.ID); err != nil {
						return "", err
					}
					return fmt.Sprintf("Deleted entry %s (%s %q) of %s.", l.ID, l.Type, l.Title, minute(l.CreatedAt.Time)), nil
				},
			}, nil
		})
}

// ---- the activity log as a resource, and logging a contact

// activityLog is list_customer_activities' first page, as a resource.
func activityLog() Resource {
	return template("skimmer://activity/{+customer}", "activity", "Activity log",
		"A customer's activity log, newest first: calls, texts, emails, notes, and what Skimmer logged. Type part of a name to pick one.",
		"list_customer_activities",
		func(ctx context.Context, c *skimmer.Client, vars map[string]string) (string, error) {
			cust, choices, err := whichCustomer(ctx, c, vars["customer"])
			if cust == nil || err != nil {
				return choices, err
			}
			logs, err := c.ListActivityLogs(ctx, cust.ID)
			if err != nil {
				return "", err
			}
			slices.SortStableFunc(logs, func(x, y skimmer.ActivityLog) int { return y.CreatedAt.Compare(x.CreatedAt.Time) })
			return fmt.Sprintf("Activity of %s, id %s.\n", displayName(cust), cust.ID) + renderActivities(logs, len(logs), listActivitiesArgs{CustomerID: cust.ID, Limit: 20}), nil
		},
		map[string]completer{"customer": completeCustomer})
}

// logStep is log_contact's last step: the write, approved as the server's
// confirm policy has it.
func logStep(confirm ConfirmPolicy) string {
	if confirm == ConfirmNone {
		return "3. Show me the entry, and call create_customer_activity only after I approve it: this server changes Skimmer at once, with no preview."
	}
	return "3. Call create_customer_activity without confirm, show me the preview, and confirm only after I approve it."
}

func logContact() Prompt {
	return prompt("log_contact", "Log a call or visit",
		"Log a call, text, email or visit on a customer's activity log, after you approve the entry.",
		[]string{"search_customers", "create_customer_activity"},
		[]promptArg{
			{name: "customer", title: "Customer", description: "Name or id; type part of a name.", required: true, complete: completeCustomer},
			{name: "what", title: "What happened", description: "What happened, in a sentence or two.", required: true},
			{name: "type", title: "Type", description: "Call, Text, Email or Other (a visit); Call when empty.", complete: oneOf(skimmer.ActivityTypes...)},
			{name: "by", title: "Logged by", description: "Your name, as the entry's author."},
		},
		func(args map[string]string, confirm ConfirmPolicy) string {
			kind, typed := "Call", "type Call;"
			if args["type"] != "" {
				typed = fmt.Sprintf("type: Skimmer has %s and %s, not %q: ask me which;", strings.Join(skimmer.ActivityTypes[:len(skimmer.ActivityTypes)-1], ", "),
					skimmer.ActivityTypes[len(skimmer.ActivityTypes)-1], args["type"])
			}
			for _, t := range skimmer.ActivityTypes {
				if strings.EqualFold(t, args["type"]) {
					kind, typed = t, "type "+t+";"
				}
			}
			name, find := who(args["customer"])
			what := ": " + args["what"]
			if args["what"] == "" {
				what = ". Ask me what happened, in a sentence or two."
			}
			author := ""
			if args["by"] != "" {
				author = fmt.Sprintf(" authorName %q;", args["by"])
			}
			return fmt.Sprintf("Log a %s with %s in Skimmer%s\n", strings.ToLower(kind), name, what) +
				"1. " + find + "\n" +
				"2. Draft the entry: " + typed + author + " a title of at most 60 characters (letters, digits, dashes and spaces only) that says what it was about; a description of at most 300 characters with the details I gave, nothing invented.\n" +
				logStep(confirm)
		})
}
