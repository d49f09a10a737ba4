package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func msec(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// hundred is 1ms..100ms, shuffled.
func hundred() []time.Duration {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, msec(i))
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(ds), func(i, j int) { ds[i], ds[j] = ds[j], ds[i] })
	return ds
}

func TestPercentile(t *testing.T) {
	for _, tt := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample is every percentile", []time.Duration{msec(7)}, 1, msec(7)},
		{"one sample p99", []time.Duration{msec(7)}, 99, msec(7)},
		{"p50 of two is the first", []time.Duration{msec(1), msec(2)}, 50, msec(1)},
		{"p51 of two is the second", []time.Duration{msec(1), msec(2)}, 51, msec(2)},
		{"p50 of 100", slices.Sorted(slices.Values(hundred())), 50, msec(50)},
		{"p99 of 100 is the 99th, not the max", slices.Sorted(slices.Values(hundred())), 99, msec(99)},
		{"p100 is the max", slices.Sorted(slices.Values(hundred())), 100, msec(100)},
		{"p0 is the min", slices.Sorted(slices.Values(hundred())), 0, msec(1)},
		{"p90 of ten", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, percentile(tt.sorted, tt.p))
		})
	}
}

func TestSummarise(t *testing.T) {
	got := summarise(hundred())
	assert.Equal(t, Latency{Count: 100, Mean: 50500 * time.Microsecond, P50: msec(50), P90: msec(90), P99: msec(99), Max: msec(100)}, got)

	assert.Equal(t, Latency{}, summarise(nil))

	// A heavy tail moves p99 and max, not p50.
	tail := append(hundred()[:99:99], 5*time.Second)
	got = summarise(tail)
	assert.Less(t, got.P50, msec(100))
	assert.Equal(t, 5*time.Second, got.Max)
	assert.LessOrEqual(t, got.P50, got.P90)
	assert.LessOrEqual(t, got.P90, got.P99)
	assert.LessOrEqual(t, got.P99, got.Max)
}
