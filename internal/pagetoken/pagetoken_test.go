package pagetoken

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

var (
	at     = time.Date(2025, 3, 1, 10, 0, 0, 123456000, time.UTC)
	caseID = uuid.MustParse("6f1c2a1e-4b7d-4c1a-9b3e-2d5f8a7c9e01")
	mine   = Filter("ML|OPEN")
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	want := &Cursor{Time: at, ID: caseID}
	got, err := Decode(Encode(*want, mine), mine)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cursor (-want +got):\n%s", diff)
	}
}

// TestWireFormat pins the encoding: tokens handed out before a release must still decode after.
func TestWireFormat(t *testing.T) {
	t.Parallel()
	want := base64.RawURLEncoding.EncodeToString([]byte(
		`{"t":"2025-03-01T10:00:00.123456Z","id":"6f1c2a1e-4b7d-4c1a-9b3e-2d5f8a7c9e01","f":"AQIDBAUGBwg="}`))
	if diff := cmp.Diff(want, Encode(Cursor{Time: at, ID: caseID}, []byte{1, 2, 3, 4, 5, 6, 7, 8})); diff != "" {
		t.Errorf("token (-want +got):\n%s", diff)
	}
}

func TestFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{name: "same filters", a: "ML|OPEN", b: "ML|OPEN", same: true},
		{name: "other status", a: "ML|OPEN", b: "ML|CLOSED"},
		{name: "other mission", a: "ML|OPEN", b: "NE|OPEN"},
		{name: "no filters", a: "|", b: "ML|", same: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fa, fb := Filter(tt.a), Filter(tt.b)
			if len(fa) != 8 {
				t.Errorf("Filter(%q) has %d bytes, want 8", tt.a, len(fa))
			}
			if got := string(fa) == string(fb); got != tt.same {
				t.Errorf("Filter(%q) == Filter(%q): %v, want %v", tt.a, tt.b, got, tt.same)
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	t.Parallel()
	valid := Encode(Cursor{Time: at, ID: caseID}, mine)
	// A client that edits the filter hash in a token of its own gets nothing for it.
	tampered := base64.RawURLEncoding.EncodeToString([]byte(
		`{"t":"2025-03-01T10:00:00.123456Z","id":"6f1c2a1e-4b7d-4c1a-9b3e-2d5f8a7c9e01","f":"AQIDBAUGBwg="}`))
	tests := []struct {
		name   string
		tok    string
		filter []byte
	}{
		{name: "other filters", tok: valid, filter: Filter("ML|CLOSED")},
		{name: "another mission", tok: valid, filter: Filter("NE|OPEN")},
		{name: "tampered filter hash", tok: tampered, filter: mine},
		{name: "truncated", tok: valid[:len(valid)/2], filter: mine},
		{name: "not base64", tok: "not a token!", filter: mine},
		{name: "not JSON", tok: base64.RawURLEncoding.EncodeToString([]byte("cursor")), filter: mine},
		{name: "no id", tok: Encode(Cursor{Time: at}, mine), filter: mine},
		{name: "empty", tok: "", filter: mine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if c, err := Decode(tt.tok, tt.filter); err == nil {
				t.Errorf("Decode(%q) = %+v, want an error", tt.tok, c)
			}
		})
	}
}

func TestSize(t *testing.T) {
	for requested, want := range map[int32]int{0: DefaultSize, -3: DefaultSize, 1: 1, 40: 40, MaxSize: MaxSize, 1000: MaxSize} {
		if got := Size(requested); got != want {
			t.Errorf("Size(%d) = %d, want %d", requested, got, want)
		}
	}
}
