package mtls_test

import (
	"testing"

	"github.com/passage-cm/passage/internal/mtls"
)

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:7070", true},
		{"127.8.9.10:7070", true},
		{"localhost:7070", true},
		{"LOCALHOST", true},
		{"[::1]:7070", true},
		{"::1", true},
		{"10.0.0.5:7070", false},
		{"passage.iom.example:443", false},
		{"localhost.example.org:443", false},
	}
	for _, tt := range tests {
		if got := mtls.IsLoopback(tt.addr); got != tt.want {
			t.Errorf("mtls.IsLoopback(%q) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}
