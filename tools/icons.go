package tools

// Icon is an image shown beside what an area offers.
type Icon struct{}
