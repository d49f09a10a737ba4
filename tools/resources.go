package tools

// Resource is a resource template an area offers.
type Resource struct{}
