package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// writeText prints the report for a person: the verdict last, where the
// eye lands.
func (r *Report) writeText(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	target := r.Target.URL
	if r.Target.Binary != "" {
		target += " (spawned " + r.Target.Binary + ")"
	}
	if r.Target.Version != "" {
		target += ", " + r.Target.Version
	}
	p("skimmer-load: %d clients for %s against %s; seed %d", r.Settings.Clients, r.Settings.Duration, target, r.Settings.Seed)
	p("machine:      %d CPUs, %s/%s, %s (clients and server share them when spawned)", r.Machine.CPUs, r.Machine.OS, r.Machine.Arch, r.Machine.Go)
	if wu := r.Warmup; wu != nil {
		p("warm-up:      %d calls in %s, %d errors", wu.Calls, secs(wu.Elapsed), wu.Errors)
	}
	run := r.Run
	p("")
	p("calls:        %d in %s = %.1f calls/s; %d errors; %d of %d clients connected (connect p50 %s, max %s)",
		run.Calls, secs(run.Elapsed), run.CallsPerSec, run.Errors, run.Connected, run.Clients, ms(run.Connect.P50), ms(run.Connect.Max))
	l := run.Latency
	p("latency:      p50 %s  p90 %s  p99 %s  max %s  mean %s", ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max), ms(l.Mean))
	if c := run.CPU; c != nil {
		p("cpu:          cores busy on average: %s", cpuLine(c, r.Machine.CPUs))
	}
	p("")
	// Numbers align right; the op column is padded here to stay left.
	width := len("op")
	for _, o := range run.Ops {
		width = max(width, len(o.Op))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tcalls\tshare\terrors\tp50\tp90\tp99\tmax\t\n", width, "op")
	for _, o := range run.Ops {
		share := 0.0
		if run.Calls > 0 {
			share = 100 * float64(o.Calls) / float64(run.Calls)
		}
		fmt.Fprintf(tw, "%-*s\t%d\t%.1f%%\t%d\t%s\t%s\t%s\t%s\t\n", width, o.Op, o.Calls, share, o.Errors, ms(o.Latency.P50), ms(o.Latency.P90), ms(o.Latency.P99), ms(o.Latency.Max))
	}
	tw.Flush()

	if s := r.Server; s != nil {
		p("")
		if s.Idle != nil {
			p("server idle:  %d goroutines, RSS %s, right after start", s.Idle.Goroutines, mib(s.Idle.RSS))
		}
		p("before:       %d goroutines, RSS %s, heap in use %s (after warm-up, its clients gone)", s.Before.Goroutines, mib(s.Before.RSS), mib(int64(s.Before.HeapInuse)))
		d := s.During
		p("during:       RSS %s to %s, peak %s (VmHWM); goroutines up to %d; heap in use up to %s; %d GCs; %d samples, %d failed reads",
			mib(d.MinRSS), mib(d.MaxRSS), mib(d.PeakRSS), d.MaxGoroutines, mib(int64(d.MaxHeapInuse)), d.GCs, d.Samples, d.ReadErrors)
		if s.Plateau != nil {
			verdict := "plateaued"
			if !*s.Plateau {
				verdict = "STILL CLIMBING"
			}
			p("memory:       largest RSS by third of the run %s / %s / %s: %s", mib(s.RSSThirds[0]), mib(s.RSSThirds[1]), mib(s.RSSThirds[2]), verdict)
		}
		verdict := "no goroutine leak"
		if s.Leak {
			verdict = "GOROUTINE LEAK"
		}
		p("after:        %d goroutines (%+d), RSS %s, heap in use %s, settled in %s: %s",
			s.After.Goroutines, s.GoroutineDelta, mib(s.After.RSS), mib(int64(s.After.HeapInuse)), s.SettledIn.Round(time.Millisecond), verdict)
		if s.Exit != "" {
			p("exit:         %s on SIGTERM", s.Exit)
		}
		if s.LogWarnings+s.LogErrors > 0 {
			p("server log:   %d errors, %d warnings; the first:", s.LogErrors, s.LogWarnings)
			for _, line := range s.LogLines {
				p("  %s", line)
			}
		}
	}

	p("")
	for _, n := range r.Notes {
		p("note:         %s", n)
	}
	for _, e := range append(warmupErrors(r), run.FirstErrors...) {
		p("error:        %s after %s, %s: %s", e.Op, secs(e.After), e.Kind, oneLine(e.Message))
	}
	if r.Pass {
		p("PASS")
		return
	}
	for _, problem := range r.Problems {
		p("FAIL:         %s", problem)
	}
}

func cpuLine(c *CPU, cpus int) string {
	parts := []string{fmt.Sprintf("load generator %.2f", c.Load)}
	if c.Server > 0 {
		parts = append(parts, fmt.Sprintf("server %.2f", c.Server))
	}
	if c.Machine > 0 {
		parts = append(parts, fmt.Sprintf("everything else %.2f; machine %.2f of %d", c.Other, c.Machine, cpus))
	}
	return strings.Join(parts, ", ")
}

func warmupErrors(r *Report) []CallError {
	if r.Warmup == nil {
		return nil
	}
	out := make([]CallError, len(r.Warmup.FirstErrors))
	for i, e := range r.Warmup.FirstErrors {
		e.Op = "warm-up " + e.Op
		out[i] = e
	}
	return out
}

func ms(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return secs(d)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
