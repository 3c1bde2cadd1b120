package testtime_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/testtime"
)

func TestClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 14, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		clk  *testtime.Clock
		want []time.Time // three readings, with Advance(time.Hour) between the second and third
	}{
		{"standing", testtime.NewClock(start), []time.Time{start, start, start.Add(time.Hour)}},
		{"ticking", testtime.Ticking(start), []time.Time{
			start.Add(time.Millisecond), start.Add(2 * time.Millisecond), start.Add(time.Hour + 3*time.Millisecond)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := []time.Time{tt.clk.Now(), tt.clk.Now()}
			tt.clk.Advance(time.Hour)
			got = append(got, tt.clk.Now())
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("readings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunning(t *testing.T) {
	t.Parallel()
	clk := testtime.Running()
	before := time.Now()
	first := clk.Now()
	clk.Advance(time.Hour)
	second := clk.Now()
	after := time.Now()
	if first.Before(before) || first.After(after) {
		t.Errorf("first reading %v is not between %v and %v", first, before, after)
	}
	if second.Before(first.Add(time.Hour)) || second.After(after.Add(time.Hour)) {
		t.Errorf("reading after Advance(1h) %v is not between %v and %v", second, first.Add(time.Hour), after.Add(time.Hour))
	}
}

func TestDay(t *testing.T) {
	t.Parallel()
	if diff := cmp.Diff(&date.Date{Year: 2026, Month: 3, Day: 14}, testtime.Day(2026, 3, 14), protocmp.Transform()); diff != "" {
		t.Errorf("Day (-want +got):\n%s", diff)
	}
}
