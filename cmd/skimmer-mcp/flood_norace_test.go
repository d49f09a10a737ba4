//go:build !race

package main

// floodAttempts is how many sessions TestSessionFloodIsCapped tries to open.
const floodAttempts = 40000
