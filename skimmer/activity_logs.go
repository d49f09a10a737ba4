package skimmer

import (
	"context"
	"regexp"
)

// ActivityLog is one entry of a customer's activity log: a call, text,
// email or note logged by a person, or an entry Skimmer wrote itself
// (an invoice sent, a payment taken), which cannot be changed.
type ActivityLog struct {
	CustomerID                    string  `json:"customerId"`
	Type                          string  `json:"type"`
	Title                         string  `json:"title"`
	ID                            string  `json:"id"`
	Description                   *string `json:"description"`
	IsSystemGenerated             bool    `json:"isSystemGenerated"`
	RelatedEntityID               *string `json:"relatedEntityId"`
	RelatedEntityType             *string `json:"relatedEntityType"`
	RelatedEntityDisplay          *string `json:"relatedEntityDisplay"`
	SecondaryRelatedEntityID      *string `json:"secondaryRelatedEntityId"`
	SecondaryRelatedEntityType    *string `json:"secondaryRelatedEntityType"`
	SecondaryRelatedEntityDisplay *string `json:"secondaryRelatedEntityDisplay"`
	CreatedByName                 *string `json:"createdByName"`
	CreatedAt                     Time    `json:"createdAt"`
	UpdatedByName                 *string `json:"updatedByName"`
	UpdatedAt                     Time    `json:"updatedAt"`
}

// ActivityLogRequest is the body of both a create and an update: Skimmer
// replaces all of an entry's writable fields on update.
type ActivityLogRequest struct {
	Type        string  `json:"type"`
	Title       string  `json:"title"`
	Description *string `json:"description"`
	AuthorID    *string `json:"authorId,omitempty"`   // Skimmer writes "System" when absent
	AuthorName  *string `json:"authorName,omitempty"` // Skimmer writes "System" when absent
}

// Skimmer's documented rules for manual activity entries.
const (
	ActivityTitleMax       = 60
	ActivityDescriptionMax = 300
	ActivityDefaultAuthor  = "System"
)

// ActivityAuthorMax bounds authorId and authorName. Skimmer documents no
// limit; a person's name or id fits well within this one, and an unbounded
// text would otherwise be written into every entry's history.
const ActivityAuthorMax = 100

var (
	// ActivityTypes are the types a manual entry may have.
	ActivityTypes = []string{"Call", "Text", "Email", "Other"}
	// ActivityTitlePattern is what a title may consist of: letters,
	// digits, dashes and spaces, and (the title being required) not spaces
	// alone.
	ActivityTitlePattern = regexp.MustCompile(`^ *[A-Za-z0-9-][A-Za-z0-9 -]*$`)
)

// ListActivityLogs returns a customer's whole activity log.
func (c *Client) ListActivityLogs(ctx context.Context, customerID string) ([]ActivityLog, error) {
	out, err := fetch[[]ActivityLog](ctx, c, request{op: OpListActivityLogs, params: []string{customerID}})
	if err != nil {
		return nil, err
	}
	return *out, nil
}

// GetActivityLog fetches one entry. An answer without the fields an
// update is built from (activityFieldNames) is ErrIncomplete.
func (c *Client) GetActivityLog(ctx context.Context, customerID, id string) (*ActivityLog, error) {
	return fetch[ActivityLog](ctx, c, request{op: OpGetActivityLog, params: []string{customerID, id}, require: activityFieldNames})
}

// activityFieldNames are the fields Skimmer always sends for an entry that
// an update of it needs: which entry, whether a person wrote it, and the
// writable fields it sends back.
var activityFieldNames = []string{"id", "customerId", "isSystemGenerated", "type", "title", "description"}

// CreateActivityLog logs a manual entry.
func (c *Client) CreateActivityLog(ctx context.Context, customerID string, req ActivityLogRequest) (*ActivityLog, error) {
	return fetch[ActivityLog](ctx, c, request{op: OpCreateActivityLog, params: []string{customerID}, body: req})
}

// UpdateActivityLog replaces a manual entry's fields with req's.
func (c *Client) UpdateActivityLog(ctx context.Context, customerID, id string, req ActivityLogRequest) (*ActivityLog, error) {
	return fetch[ActivityLog](ctx, c, request{op: OpUpdateActivityLog, params: []string{customerID, id}, body: req})
}

// DeleteActivityLog deletes a manual entry.
func (c *Client) DeleteActivityLog(ctx context.Context, customerID, id string) error {
	return c.do(ctx, request{op: OpDeleteActivityLog, params: []string{customerID, id}})
}
