package healthcheck

import (
	"strings"
	"testing"
)

// A listener on every interface is probed on the loopback address of its family; any other
// address as it is.
func TestOnLoopback(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		":7080":               "127.0.0.1:7080",
		"0.0.0.0:7080":        "127.0.0.1:7080",
		"[::]:7080":           "[::1]:7080",
		"127.0.0.1:7080":      "127.0.0.1:7080",
		"10.0.0.5:7080":       "10.0.0.5:7080",
		"passage-intake:7080": "passage-intake:7080",
		"[::1]:7080":          "[::1]:7080",
	} {
		if got := onLoopback(addr); got != want {
			t.Errorf("onLoopback(%q) = %q, want %q", addr, got, want)
		}
	}
}

// What an answer's body may put in the result: its first line, printable, at most MaxLine
// characters.
func TestFirstLine(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", MaxLine+5)
	for body, want := range map[string]string{
		"ready":                        "ready",
		"database unreachable\nsecond": "database unreachable",
		"  not ready \r\n":             "not ready",
		"not\x1b[31m ready\x00":        "not[31m ready",
		"":                             "",
		long:                           strings.Repeat("é", MaxLine) + "…",
	} {
		if got := firstLine([]byte(body)); got != want {
			t.Errorf("firstLine(%q) = %q, want %q", body, got, want)
		}
	}
}
