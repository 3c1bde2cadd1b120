package intakecase

import (
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/outbox"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// Events are intake's events that carry the whole case: its life and its consents.
var Events = slices.Concat([]string{
	string(proto.MessageName(&intakev1.CaseRegistered{})),
	string(proto.MessageName(&intakev1.CaseUpdated{})),
	string(proto.MessageName(&intakev1.CaseClosed{})),
}, consent.Events)

// Of returns the case an event of Events carries, or nil for any other message.
func Of(m proto.Message) *intakev1.Case {
	switch e := m.(type) {
	case *intakev1.CaseRegistered:
		return e.GetCase()
	case *intakev1.CaseUpdated:
		return e.GetCase()
	case *intakev1.CaseClosed:
		return e.GetCase()
	case *intakev1.ConsentRecorded:
		return e.GetCase()
	case *intakev1.ConsentWithdrawn:
		return e.GetCase()
	}
	return nil
}

// Decode returns the case the outbox event r carries (Of its message): nil for an event of
// another type, an error for one that cannot be decoded.
func Decode(r outbox.Record) (*intakev1.Case, error) {
	m, err := r.Decode()
	if err != nil {
		return nil, err
	}
	return Of(m), nil
}
