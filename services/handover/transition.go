package handover

import (
	"fmt"

	"github.com/passage-cm/passage/internal/rpcerr"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
)

const (
	proposed  = handoverv1.HandoverStatus_HANDOVER_STATUS_PROPOSED
	accepted  = handoverv1.HandoverStatus_HANDOVER_STATUS_ACCEPTED
	declined  = handoverv1.HandoverStatus_HANDOVER_STATUS_DECLINED
	withdrawn = handoverv1.HandoverStatus_HANDOVER_STATUS_WITHDRAWN
	completed = handoverv1.HandoverStatus_HANDOVER_STATUS_COMPLETED
)

// side is which mission of a hand-over may make a move.
type side int

const (
	sender side = iota + 1
	receiver
	either
)

func (s side) String() string {
	switch s {
	case sender:
		return "the sending mission"
	case receiver:
		return "the receiving mission"
	}
	return "either mission"
}

// move is one legal move: from which status, and by whom.
type move struct {
	from handoverv1.HandoverStatus
	by   side
}

// moves is the transition table, by the status a move reaches: the sender withdraws a
// proposal, the receiver accepts or declines it, either completes an accepted hand-over.
// DECLINED, WITHDRAWN and COMPLETED are final. Row-level security lets both missions update
// the row; this table alone decides which move is whose.
var moves = map[handoverv1.HandoverStatus]move{
	withdrawn: {from: proposed, by: sender},
	accepted:  {from: proposed, by: receiver},
	declined:  {from: proposed, by: receiver},
	completed: {from: accepted, by: either},
}

// checkMove reports whether the caller's mission may move h to status to: FAILED_PRECONDITION
// (rpcerr.TransitionError) naming the statuses when h's status does not allow it, or the side
// that may when the caller's mission is the other.
func checkMove(h *handoverv1.Handover, mission string, to handoverv1.HandoverStatus) error {
	m := moves[to]
	meta := map[string]string{"from": statusCode(h.Status), "to": statusCode(to)}
	if h.Status != m.from {
		return &rpcerr.TransitionError{Domain: errorDomain, Metadata: meta,
			Message: fmt.Sprintf("a hand-over cannot go from %s to %s", statusCode(h.Status), statusCode(to))}
	}
	var ok bool
	switch m.by {
	case sender:
		ok = mission == h.FromMission
	case receiver:
		ok = mission == h.ToMission
	case either:
		ok = mission == h.FromMission || mission == h.ToMission
	}
	if !ok {
		return &rpcerr.TransitionError{Domain: errorDomain, Metadata: meta,
			Message: fmt.Sprintf("only %s may move a hand-over to %s", m.by, statusCode(to))}
	}
	return nil
}

// open reports whether a hand-over in status s holds its parts of the case.
func open(s handoverv1.HandoverStatus) bool { return s == proposed || s == accepted }

// sharesFurther reports whether a move to status s takes the sharing of the case further
// (accepting a proposal, completing an accepted hand-over): such a move rests on the case
// still open and its consent still in force, as the proposal did.
func sharesFurther(s handoverv1.HandoverStatus) bool { return s == accepted || s == completed }
