package idempotency

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// echo is a Fingerprinter whose digest is its input, so that a test sees what was fingerprinted.
type echo struct{}

func (echo) Fingerprint(domain string, data []byte) []byte {
	return append([]byte(domain+"\x00"), data...)
}

func TestNewKey(t *testing.T) {
	t.Parallel()
	const (
		method    = "/passage.intake.v1.IntakeService/CloseCase"
		requestID = "0b6f8a62-9d0e-4c7b-8a43-5f1e2d3c4b5a"
	)
	req := wrapperspb.String("case-1")
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		requestID string
		want      Key
		wantErr   error
	}{
		{
			name:      "keyed by mission, request id and method",
			requestID: requestID,
			want: Key{
				Mission:     "NER",
				RequestID:   uuid.MustParse(requestID),
				Method:      method,
				Fingerprint: append([]byte(method+"\x00"), body...),
			},
		},
		{name: "not a UUID", requestID: "retry-1", wantErr: ErrInvalidRequestID},
		{name: "empty", requestID: "", wantErr: ErrInvalidRequestID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NewKey(echo{}, "NER", tt.requestID, method, req)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("NewKey() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("NewKey() (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNewKeyTellsRequestsApart checks what makes a reused request id detectable: the same
// request keys the same, another request or another method does not.
func TestNewKeyTellsRequestsApart(t *testing.T) {
	t.Parallel()
	const requestID = "0b6f8a62-9d0e-4c7b-8a43-5f1e2d3c4b5a"
	key := func(method string, req proto.Message) Key {
		k, err := NewKey(echo{}, "NER", requestID, method, req)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	first := key("/svc/Close", wrapperspb.String("case-1"))
	tests := []struct {
		name string
		k    Key
		same bool
	}{
		{name: "a retry", k: key("/svc/Close", wrapperspb.String("case-1")), same: true},
		{name: "another request", k: key("/svc/Close", wrapperspb.String("case-2"))},
		{name: "another method", k: key("/svc/Reopen", wrapperspb.String("case-1"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := string(tt.k.Fingerprint) == string(first.Fingerprint); got != tt.same {
				t.Errorf("same fingerprint as the first request: %v, want %v", got, tt.same)
			}
		})
	}
}
