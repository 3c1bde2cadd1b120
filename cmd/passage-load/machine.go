package main

import (
	"bufio"
	"io"
	"os"
	"runtime"
	"strings"
)

// machineFacts describes this machine, for the summary: numbers mean little without it.
func machineFacts() Machine {
	m := Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), CPUModel: "unknown"}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		if model := cpuModel(f); model != "" {
			m.CPUModel = model
		}
	}
	return m
}

// cpuModel returns the processor's name from /proc/cpuinfo: "model name" on x86, "Model" or
// "cpu model" on some ARM and MIPS kernels, else "Hardware"; "" when none is there.
func cpuModel(r io.Reader) string {
	found := map[string]string{}
	s := bufio.NewScanner(r)
	for s.Scan() {
		key, value, ok := strings.Cut(s.Text(), ":")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if _, seen := found[key]; !seen && value != "" {
			found[key] = value
		}
	}
	for _, key := range []string{"model name", "Model", "cpu model", "Hardware"} {
		if v := found[key]; v != "" {
			return v
		}
	}
	return ""
}
