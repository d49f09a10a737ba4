package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPU figures say where the machine's time went during the run: on a
// small machine the clients and the server share the cores, and anything
// else running (a build, another test) takes from both. They are read
// from /proc, so on other systems only this process's share is known.

// userHZ is the unit of /proc's CPU times: 100 on every Linux Go runs on.
const userHZ = 100

// selfCPU is the CPU time this process has used, in seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// procCPU is the CPU time process pid has used, in seconds; 0 when unknown.
func procCPU(pid int) float64 {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces: state is the first, utime and stime the 12th and 13th.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / userHZ
}

// machineCPU is the CPU time every core of the machine has spent busy
// (neither idle nor waiting on I/O), in seconds; 0 when unknown.
func machineCPU() float64 {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0
	}
	fields := strings.Fields(sc.Text()) // cpu user nice system idle iowait irq softirq steal ...
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0
	}
	busy := 0.0
	for i, v := range fields[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseFloat(v, 64)
		busy += n
	}
	return busy / userHZ
}

// cpuMeter measures cores used between its start and read.
type cpuMeter struct {
	start                 time.Time
	self, server, machine float64
	pid                   int // the spawned server; 0 when none
}

func startCPU(pid int) *cpuMeter {
	m := &cpuMeter{start: time.Now(), self: selfCPU(), machine: machineCPU(), pid: pid}
	if pid != 0 {
		m.server = procCPU(pid)
	}
	return m
}

// read returns the cores each part used on average since the start.
func (m *cpuMeter) read() *CPU {
	wall := time.Since(m.start).Seconds()
	if wall <= 0 {
		return nil
	}
	c := &CPU{Load: (selfCPU() - m.self) / wall}
	if m.pid != 0 {
		c.Server = (procCPU(m.pid) - m.server) / wall
	}
	if m.machine > 0 {
		c.Machine = (machineCPU() - m.machine) / wall
		c.Other = max(c.Machine-c.Load-c.Server, 0)
	}
	return c
}
