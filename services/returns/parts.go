package returns

import (
	"slices"
	"strings"

	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/handoverpart"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

// A return is one journey worked in parts. The case's own mission (the one that registered
// it) takes every step until a hand-over gives a part to another mission (returns.part, from
// the hand-over service's HandoverAccepted events); from then on the step of that part is the
// receiving mission's, and the own mission keeps the steps of the parts it did not hand over.
// A TRANSFER hands over the whole case, every step.

var (
	partReception     = handoverv1.HandoverPart_HANDOVER_PART_RECEPTION
	partReintegration = handoverv1.HandoverPart_HANDOVER_PART_REINTEGRATION
	partMonitoring    = handoverv1.HandoverPart_HANDOVER_PART_MONITORING
	partClosure       = handoverv1.HandoverPart_HANDOVER_PART_CLOSURE
	partTransfer      = handoverv1.HandoverPart_HANDOVER_PART_TRANSFER
)

// avrrParts are the parts of an AVRR return a hand-over may give, in the journey's order.
var avrrParts = []handoverv1.HandoverPart{partReception, partReintegration, partMonitoring, partClosure}

// stepParts maps the steps taken after departure to their parts. The steps not listed
// (eligibility, pre-departure, departure) are the case's own mission's, and a TRANSFER's.
var stepParts = map[string]handoverv1.HandoverPart{
	stepArrival:    partReception,
	stepPlan:       partReintegration,
	stepAssistance: partReintegration,
	stepMonitoring: partMonitoring,
	stepClose:      partClosure,
	stepReopen:     partClosure,
}

// partOf returns the part step belongs to on a return that has departed or not:
// HANDOVER_PART_TRANSFER for the steps that only the whole case's hand-over gives. Closing and
// reopening belong to CLOSURE once the travellers have left; before, they are the case's own.
func partOf(step string, departed bool) handoverv1.HandoverPart {
	p, ok := stepParts[step]
	if !ok || (p == partClosure && !departed) {
		return partTransfer
	}
	return p
}

// grant is one accepted hand-over of parts of the return, as the reader sees it.
type grant struct {
	mission string
	parts   []string
}

// grantSep separates a grant's mission and its parts' codes in the column returnColumns
// reads: mission codes and enum codes never hold a space.
const grantSep = " "

// grantsFrom reads the grants as returnColumns writes them, newest first.
func grantsFrom(rows []string) []grant {
	out := make([]grant, 0, len(rows))
	for _, r := range rows {
		f := strings.Split(r, grantSep)
		out = append(out, grant{mission: f[0], parts: f[1:]})
	}
	return out
}

// holder returns the mission that holds part p of the return: the receiver of the newest grant
// of p or of the whole case, or "" when the case's own mission works it.
func (rec *record) holder(p handoverv1.HandoverPart) string {
	for _, g := range rec.grants {
		if slices.Contains(g.parts, enumcode.Code(p)) || slices.Contains(g.parts, enumcode.Code(partTransfer)) {
			return g.mission
		}
	}
	return ""
}

// received reports whether mission holds a part of the return.
func (rec *record) received(mission string) bool {
	return slices.ContainsFunc(rec.grants, func(g grant) bool { return g.mission == mission })
}

// seesPreDeparture reports whether the reader sees the eligibility decisions and
// pre-departure steps (migrations/000025): the case's own mission and a TRANSFER's receiver.
func (rec *record) seesPreDeparture() bool {
	return rec.acting == rec.ret.Mission || rec.holder(partTransfer) == rec.acting
}

// setPartHolders lists on the return the parts another mission holds.
func (rec *record) setPartHolders() {
	r := rec.ret
	r.PartHolders = nil
	for _, p := range append([]handoverv1.HandoverPart{partTransfer}, avrrParts...) {
		if h := rec.holder(p); h != "" && h != r.Mission {
			r.PartHolders = append(r.PartHolders, &returnsv1.PartHolder{Part: p, Mission: h})
		}
	}
}

// checkPart refuses the acting mission step on the return unless it may take it
// (handoverpart.Check): the holder of the step's part may, the case's own mission while no
// grant gives it away. The own mission is told who holds it now (PART_HANDED_OVER); another
// mission holding other parts of the case, that it holds not this one (PART_NOT_HELD).
func checkPart(rec *record, step string) error {
	p := partOf(step, rec.ret.GetDeparture() != nil)
	return handoverpart.Check(p, rec.ret.Mission, rec.holder(p), rec.acting)
}
