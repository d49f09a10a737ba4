package main

import (
	"math"
	"slices"
	"time"
)

// Latency summarises a set of call durations. Every sample is kept until
// the end of the run (a few hundred thousand at most: a few megabytes), so
// the percentiles are exact rather than bucketed.
type Latency struct {
	Count int           `json:"count"`
	Mean  time.Duration `json:"mean_ns"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P99   time.Duration `json:"p99_ns"`
	Max   time.Duration `json:"max_ns"`
}

// summarise sorts ds in place and returns its summary; the zero Latency
// when there are no samples.
func summarise(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return Latency{
		Count: len(ds),
		Mean:  sum / time.Duration(len(ds)),
		P50:   percentile(ds, 50),
		P90:   percentile(ds, 90),
		P99:   percentile(ds, 99),
		Max:   ds[len(ds)-1],
	}
}

// percentile returns the nearest-rank p-th percentile of sorted: the
// smallest sample that at least p% of the samples are at or below. It is
// always one of the samples, never an interpolation, so p99 of a run is a
// latency some call really had.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// p*n first: for whole p it is exact, so p99 of 100 samples is the 99th.
	rank := int(math.Ceil(p * float64(len(sorted)) / 100))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
