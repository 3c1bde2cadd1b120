package intake_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// FuzzRegisterCase sends arbitrary RegisterCase requests through the whole server and checks
// that it never panics nor answers INTERNAL or UNKNOWN: every input is either registered or
// refused with a precise code. `go test` runs the seeds; `go test -fuzz FuzzRegisterCase`
// explores.
func FuzzRegisterCase(f *testing.F) {
	for _, req := range []*intakev1.RegisterCaseRequest{
		registration(amina(), child("Chidi", 2019)),
		registration(child("", 1800)),
		{},
		{Mission: "NER", RequestId: "00000000-0000-0000-0000-000000000000"},
	} {
		b, err := proto.Marshal(req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Add([]byte{0x0a, 0xff, 0xff}, false)

	b := setup(f)
	f.Fuzz(func(t *testing.T, data []byte, fixMission bool) {
		req := &intakev1.RegisterCaseRequest{}
		if err := proto.Unmarshal(data, req); err != nil {
			return // not a message: the gRPC codec would refuse it before the server
		}
		if fixMission {
			// Steer half of the inputs past the mission check, into the deeper rules.
			req.Mission = "NER"
		}
		_, err := b.client.RegisterCase(b.worker, req)
		switch status.Code(err) {
		case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unavailable:
			t.Fatalf("RegisterCase answered %v for %v", err, req)
		}
	})
}
