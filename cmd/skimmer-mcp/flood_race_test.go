//go:build race

package main

// floodAttempts under -race, where the test's client side is several times
// slower: the plain run does the full 40,000.
const floodAttempts = 4000
