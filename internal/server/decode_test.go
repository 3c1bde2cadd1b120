package server_test

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/testserver"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// wire passes encoded bytes through, so the test can send what the protobuf library
// refuses to encode.
type wire struct{ b []byte }

type wireCodec struct{}

func (wireCodec) Marshal(v any) ([]byte, error) { return v.(*wire).b, nil }
func (wireCodec) Unmarshal(data []byte, v any) error {
	v.(*wire).b = append([]byte(nil), data...)
	return nil
}
func (wireCodec) Name() string { return "proto" }

// TestUndecodableRequest: a request with invalid UTF-8 in a string field is the client's
// error, INVALID_ARGUMENT naming the field, and no handler ever sees it. grpc-go alone
// answers INTERNAL.
func TestUndecodableRequest(t *testing.T) {
	t.Parallel()
	var called atomic.Bool
	b := setup(t, setupOptions{getCase: func(context.Context, *intakev1.GetCaseRequest) (*intakev1.GetCaseResponse, error) {
		called.Store(true)
		return &intakev1.GetCaseResponse{}, nil
	}})
	const marker = "6f1c2a5e-0000-4000-8000-000000000001"
	good, err := proto.Marshal(&intakev1.GetCaseRequest{CaseId: marker})
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(good, []byte(marker), []byte("\xff\xfe\xfd"+marker[3:]), 1)

	for name, req := range map[string][]byte{"invalid UTF-8": bad, "truncated": good[:len(good)-3]} {
		err := b.conn.Invoke(authed(t.Context()), getCase, &wire{b: req}, &wire{}, grpc.ForceCodec(wireCodec{}))
		st := status.Convert(err)
		if st.Code() != codes.InvalidArgument {
			t.Errorf("%s: %v, want INVALID_ARGUMENT", name, err)
		}
		if name == "invalid UTF-8" {
			if diff := cmp.Diff([]string{"case_id"}, testserver.FieldViolations(st)); diff != "" {
				t.Errorf("%s: field violations (-want +got):\n%s", name, diff)
			}
		}
	}
	if called.Load() {
		t.Error("the handler saw an undecodable request")
	}
	// A good request still reaches it.
	if err := b.conn.Invoke(authed(t.Context()), getCase, &wire{b: good}, &wire{}, grpc.ForceCodec(wireCodec{})); err != nil {
		t.Fatalf("good request: %v", err)
	}
	if !called.Load() {
		t.Error("the handler did not see the good request")
	}
}
