package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/grpc"

	"github.com/passage-cm/passage/internal/demo"
)

func noDial(clientOptions) (*grpc.ClientConn, error) {
	panic("the plan alone must not connect")
}

// TestDemoSeedPlan: --plan prints the plan's figures and connects to nothing.
func TestDemoSeedPlan(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := demoSeed(t.Context(), []string{"--plan", "--json", "--scale", "0.05", "--seed", "3"},
		func(string) string { return "" }, &stdout, &stderr, noDial)
	if err != nil {
		t.Fatalf("demo seed --plan: %v (%s)", err, stderr.String())
	}
	var out struct{ Figures demo.Figures }
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
	}
	f := out.Figures
	if f.AVRRPersons != 3450 || f.AVRRHostCountries != 98 || f.AVRRReturnCountries != 157 || f.AVRRBySex["MALE"] != 2622 {
		t.Errorf("figures at scale 0.05: %+v", f)
	}

	stdout.Reset()
	if err := demoSeed(t.Context(), []string{"--plan"}, func(string) string { return "" }, &stdout, &stderr, noDial); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"69000 persons", "98 host countries to 157 countries of origin", "male 52440 (76.00%)",
		"from EEA    55697 (80.72%)", "to   SEEECA 41807 (60.59%)", "524 individuals of 43 nationalities"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the full plan's summary lacks %q:\n%s", want, stdout.String())
		}
	}
	if strings.Contains(stdout.String(), "map[") {
		t.Errorf("the plan's summary prints a Go map:\n%s", stdout.String())
	}
}

func TestFormatCounts(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		counts map[string]int
		want   string
	}{
		{nil, "none"},
		{map[string]int{"SENT": 2, "ACCEPTED": 3}, "ACCEPTED 3, SENT 2"},
	} {
		if got := formatCounts(tt.counts); got != tt.want {
			t.Errorf("formatCounts(%v) = %q, want %q", tt.counts, got, tt.want)
		}
	}
}

func TestDemoSeedRefuses(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--scale", "0"},
		{"--year", "1999"},
		{"--concurrency", "0"},
		{"extra"},
	} {
		var stdout, stderr bytes.Buffer
		if err := demoSeed(t.Context(), append(args, "--plan"), func(string) string { return "" }, &stdout, &stderr, noDial); err == nil {
			t.Errorf("demo seed %v: no error", args)
		}
	}
	var stdout, stderr bytes.Buffer
	if err := runDemo(t.Context(), []string{"sow"}, &stdout, &stderr); errString(err) != `demo: unknown command "sow" (passage demo -h for help)` {
		t.Errorf("demo sow: %v", err)
	}
}
