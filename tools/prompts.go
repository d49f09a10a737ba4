package tools

// Prompt is a workflow an area offers.
type Prompt struct{}
