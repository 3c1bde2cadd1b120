package failurelog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// TestOutage follows a loop through an outage of a minute and a half, failing every second:
// one line when it begins, one every 30 s while it lasts, one when it ends; every failure at
// DEBUG.
func TestOutage(t *testing.T) {
	var buf, debug bytes.Buffer
	l := New(slog.New(slog.NewMultiHandler(slog.NewJSONHandler(&buf, nil), slog.NewJSONHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		"outbox consumer", "consumer", "analytics")
	now := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	ctx := context.Background()

	l.Succeeded(ctx) // nothing to say
	down := errors.New("connection refused")
	for range 91 { // 09:00:00 to 09:01:30
		l.Failed(ctx, down)
		now = now.Add(time.Second)
	}
	l.Succeeded(ctx)

	var lines []map[string]any
	for _, b := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var rec map[string]any
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatalf("line %q: %v", b, err)
		}
		lines = append(lines, rec)
	}
	type want struct {
		level, msg string
		failures   float64 // 0: no count
		duration   string
	}
	wants := []want{
		{"ERROR", "outbox consumer failed", 0, ""},
		{"ERROR", "outbox consumer failed", 31, "30s"},
		{"ERROR", "outbox consumer failed", 61, "1m0s"},
		{"ERROR", "outbox consumer failed", 91, "1m30s"},
		{"INFO", "outbox consumer recovered", 91, "1m31s"},
	}
	if len(lines) != len(wants) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(wants), buf.String())
	}
	for i, w := range wants {
		rec := lines[i]
		if rec["level"] != w.level || rec["msg"] != w.msg || rec["consumer"] != "analytics" {
			t.Errorf("line %d: %v, want %s %q for consumer analytics", i, rec, w.level, w.msg)
		}
		if got, _ := rec["failures"].(float64); got != w.failures {
			t.Errorf("line %d: failures %v, want %v", i, rec["failures"], w.failures)
		}
		key := "failing_for"
		if w.level == "INFO" {
			key = "failed_for"
		}
		if w.duration != "" && rec[key] != float64(mustDuration(t, w.duration)) {
			t.Errorf("line %d: %s %v, want %s", i, key, rec[key], w.duration)
		}
		if _, ok := rec["error"]; ok != (w.level == "ERROR") {
			t.Errorf("line %d: error attribute present %v, want %v", i, ok, w.level == "ERROR")
		}
	}

	if n := bytes.Count(debug.Bytes(), []byte(`"msg":"outbox consumer failed"`)); n != 91 {
		t.Errorf("at DEBUG, %d lines say the consumer failed, want one for each of the 91 failures", n)
	}

	// A second outage starts a new run: its first failure is logged at once.
	buf.Reset()
	l.Failed(ctx, down)
	if !bytes.Contains(buf.Bytes(), []byte(`"msg":"outbox consumer failed"`)) || bytes.Contains(buf.Bytes(), []byte("failures")) {
		t.Errorf("the next outage's first failure: %s", buf.String())
	}
}

func mustDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
